import Foundation
import RolloutCore
import RolloutStore

/// Where the guard keeps its state and makes its writes. One decision runs inside one
/// `transaction`: the domain write, the ledger entries and the audit event commit together or not at all.
public protocol GuardEnvironment: AnyObject, Sendable {
    func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T
}

/// The guard's view of state within one transaction: its ledgers, the audit log, and the backend
/// that holds the rows being written.
public protocol GuardSession {
    var ledger: any GuardLedger { get }
    var backend: any WriteBackend { get }
}

/// The rows the writes land in: the built-in SQLite demo domain, an in-memory table set, or (in the
/// MCP proxy) an upstream tool server.
public protocol WriteBackend {
    /// The current values of each row by key, in the order of `keys`; nil for a missing row.
    func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?]
    /// Inserts a row; returns its key.
    func insert(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue
    func update(model: ModelPolicy, key: JSONValue, values: [String: JSONValue]) throws
    func delete(model: ModelPolicy, key: JSONValue) throws
    /// Whether `rows` sees the real rows. When it does not (an upstream nobody can read), before values
    /// are recorded as unknown and the row checks (not found, another tenant's row) cannot run.
    var observesRows: Bool { get }
    /// Carries out a decided write by forwarding the original call (an MCP upstream) instead of row by
    /// row; nil for backends that write rows themselves. Throws `BackendError` when the upstream refuses.
    func forward(_ call: ToolCall, model: ModelPolicy, operation: WriteOperation) throws -> ForwardedWrite?
}

extension WriteBackend {
    public var observesRows: Bool { true }
    public func forward(_ call: ToolCall, model: ModelPolicy, operation: WriteOperation) throws -> ForwardedWrite? { nil }
}

/// What an upstream answered to a forwarded write.
public struct ForwardedWrite: Sendable {
    /// The upstream's tool result, returned to the agent.
    public var result: JSONValue
    /// The key of a created row, when the upstream said it.
    public var createdKey: JSONValue?

    public init(result: JSONValue, createdKey: JSONValue? = nil) {
        self.result = result
        self.createdKey = createdKey
    }
}

/// The guard over a rollout store whose writes land elsewhere (`WriteBackend`, e.g. an MCP upstream):
/// ledgers and audit log in the store, committed together after the backend's write succeeds.
public final class StoreEnvironment: GuardEnvironment, @unchecked Sendable {
    public let store: AuditStore
    public let backend: any WriteBackend
    private let lock = NSLock()

    public init(store: AuditStore, backend: any WriteBackend) {
        self.store = store
        self.backend = backend
    }

    public func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T {
        // One decision at a time: the upstream connection is one conversation.
        lock.lock()
        defer { lock.unlock() }
        return try store.write { tx in
            let session = Session(ledger: StoreLedger(tx), backend: backend)
            let result = try body(session)
            tx = session.storeLedger.finish()
            return result
        }
    }

    final class Session: GuardSession {
        let storeLedger: StoreLedger
        let writeBackend: any WriteBackend
        init(ledger: StoreLedger, backend: any WriteBackend) {
            storeLedger = ledger
            writeBackend = backend
        }
        var ledger: any GuardLedger { storeLedger }
        var backend: any WriteBackend { writeBackend }
    }
}

/// The backend could not do what the guard asked (a constraint, a lost connection).
public struct BackendError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
