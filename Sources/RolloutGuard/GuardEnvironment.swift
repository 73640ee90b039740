import Foundation
import RolloutCore
import RolloutStore

/// Where the guard keeps its state. One `transaction` is one decision's record: ledger entries, the audit
/// event and (for the built-in domain) the row writes commit together or not at all. A transaction never
/// spans a call to an upstream: a proxied write is recorded as an intent, forwarded with no transaction
/// open, and its outcome recorded in a second transaction.
public protocol GuardEnvironment: AnyObject, Sendable {
    /// The key secret values are redacted under in this environment's log (one per store).
    var redactor: Redactor { get }
    func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T
    /// A `transaction` that may share its commit with the decisions arriving meanwhile (group commit):
    /// answered only once committed, rolled back alone when `body` throws. The guard's decisions use it.
    func groupedTransaction<T>(_ body: @escaping (any GuardSession) throws -> T) async throws -> T
    /// Whether `groupedTransaction` runs its body on a worker shared by many calls: the guard then does
    /// what it can before the transaction, on the caller's thread (`CallMarks`).
    var sharesCommits: Bool { get }
    /// `GuardLedger.checkedEvents` outside any transaction, for the pick `pick` gives for event `seq` (nil:
    /// none, or no event `seq`): a long stretch of the log is walked holding no write lock, and the
    /// transaction that decides resumes from it. Nil where the ledger's own check is cheap.
    func checkedEvents(after seq: Int64, _ pick: (AuditEvent) -> EventPick?) throws -> CheckedEvents?
}

extension GuardEnvironment {
    public func checkedEvents(after seq: Int64, _ pick: (AuditEvent) -> EventPick?) throws -> CheckedEvents? { nil }

    public var sharesCommits: Bool { false }

    /// An environment without a commit to share runs the transaction on its own.
    public func groupedTransaction<T>(_ body: @escaping (any GuardSession) throws -> T) async throws -> T {
        try transaction(body)
    }
}

/// The guard's view of state within one transaction: its ledgers and the audit log, and the built-in
/// domain's rows when this environment holds them.
public protocol GuardSession {
    var ledger: any GuardLedger { get }
    /// Rows the guard writes itself inside the transaction; nil when writes go to an upstream.
    var rows: (any RowStore)? { get }
}

/// Reads rows by key: the built-in domain, or an upstream's database under `--observe`.
public protocol RowReader {
    /// The current values of each row by key, in the order of `keys`; nil for a missing row.
    func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?]
}

/// Rows the guard writes itself: the built-in demo domain and the in-memory tables.
public protocol RowStore: RowReader {
    /// Inserts a row; returns its key.
    func insert(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue
    func update(model: ModelPolicy, key: JSONValue, values: [String: JSONValue]) throws
    func delete(model: ModelPolicy, key: JSONValue) throws
}

/// The guard over a rollout store whose writes land at an upstream: ledgers and audit log in the store,
/// no rows of its own.
public final class StoreEnvironment: GuardEnvironment, @unchecked Sendable {
    public let store: AuditStore
    public let redactor: Redactor

    public init(store: AuditStore, policy: Policy) throws {
        self.store = store
        redactor = Redactor(policy: policy, key: try store.redactionKey())
    }

    public func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T {
        try store.write { tx in
            let ledger = StoreGuardLedger(tx)
            let result = try body(Session(ledger: ledger))
            tx = ledger.finish()
            return result
        }
    }

    public func groupedTransaction<T>(_ body: @escaping (any GuardSession) throws -> T) async throws -> T {
        try await store.writeGrouped { tx in
            let ledger = StoreGuardLedger(tx)
            let result = try body(Session(ledger: ledger))
            tx = ledger.finish()
            return result
        }
    }

    public var sharesCommits: Bool { true }

    public func checkedEvents(after seq: Int64, _ pick: (AuditEvent) -> EventPick?) throws -> CheckedEvents? {
        try store.checkedEvents(after: seq, pickingFor: pick)
    }

    struct Session: GuardSession {
        let ledger: any GuardLedger
        var rows: (any RowStore)? { nil }
    }
}

/// The built-in domain could not do what the guard asked (a constraint, a missing row).
public struct BackendError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
