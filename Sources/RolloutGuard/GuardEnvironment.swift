import Foundation
import RolloutCore

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
}

/// The backend could not do what the guard asked (a constraint, a lost connection).
public struct BackendError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
