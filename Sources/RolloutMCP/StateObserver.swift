import Foundation
import GRDB
import RolloutCore
import RolloutGuard

/// Reads a target's state straight from its database (`--observe sqlite:PATH`): the adversary's oracle
/// then checks rows, not answers, and the guard proxy records real before and after values and sees
/// when an upstream changed something it was not asked to.
public final class StateObserver: StateReader, @unchecked Sendable {
    public let path: String

    /// Parses `sqlite:PATH`.
    public init(spec: String) throws {
        guard spec.hasPrefix("sqlite:"), spec.count > 7 else {
            throw MCPFailure.launch("--observe takes sqlite:PATH, got '\(spec)'")
        }
        path = String(spec.dropFirst(7))
    }

    public init(sqlitePath: String) {
        path = sqlitePath
    }

    /// Every row of the model's table by key. Throws when the file or the table is not there: an
    /// observer that sees nothing would make every attack look harmless.
    public func rows(_ model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]]? {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MCPFailure.launch("--observe: there is no database at \(path)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db -> [JSONValue: [String: JSONValue]]? in
            guard try db.tableExists(model.table) else {
                throw MCPFailure.launch("--observe: \(path) has no table \(model.table) (model \(model.name) of the policy)")
            }
            var out: [JSONValue: [String: JSONValue]] = [:]
            let quoted = "\"" + model.table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \(quoted)") {
                var values: [String: JSONValue] = [:]
                for (column, value) in row { values[column] = Self.json(value, rule: model.field(column)) }
                if let key = values[model.key] { out[key] = values }
            }
            return out
        }
    }

    public func allRows(model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]] {
        try rows(model) ?? [:]
    }

    public func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?] {
        try rows(model, keys: keys)
    }

    /// The rows of `keys`, in their order; nil for a missing row.
    public func rows(_ model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MCPFailure.launch("--observe: there is no database at \(path)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let table = "\"" + model.table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let key = "\"" + model.key.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            return try keys.map { k -> [String: JSONValue]? in
                let value: DatabaseValue
                switch k {
                // An agent gives the key: a whole number past Int64 is compared as the number it is, never
                // converted (the conversion traps).
                case .number(let d): value = Int64(exactly: d).map(\.databaseValue) ?? d.databaseValue
                case .string(let s): value = s.databaseValue
                default: return nil
                }
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE \(key) = ?", arguments: [value]) else { return nil }
                var values: [String: JSONValue] = [:]
                for (column, v) in row { values[column] = Self.json(v, rule: model.field(column)) }
                return values
            }
        }
    }

    /// A stored value as JSON. An integer beyond 2^53 in size, which a JSON number (a double) would round,
    /// is kept exact as its decimal text: a before value recorded, compared or restored by a rollback is
    /// then the stored one or a visible mismatch, never a neighbouring number taken for it.
    ///
    /// An object or list field stored as JSON text reads as the object or list it holds: as text it never
    /// equalled the value a write sent (every forwarded write of it was a mismatch), and the redactor, which
    /// hides secret members inside objects, passed the text through with them in the clear.
    static func json(_ value: DatabaseValue, rule: FieldRule?) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let i) where rule?.type == .boolean: .bool(i != 0)
        case .int64(let i): i.magnitude <= 1 << 53 ? .number(Double(i)) : .string(String(i))
        case .double(let d): .number(d)
        case .string(let s) where rule?.type == .object || rule?.type == .list: structured(s, rule!.type) ?? .string(s)
        case .string(let s): .string(s)
        case .blob(let data): .string(data.base64EncodedString())
        }
    }

    /// The object or list `text` holds as JSON, when it holds one of `type`'s kind; nil otherwise.
    /// Numbers are read exactly: text holding an integer a double would round stays text, as a column's own
    /// integer beyond 2^53 does.
    static func structured(_ text: String, _ type: FieldRule.ValueType) -> JSONValue? {
        let bytes = Array(text.utf8)
        let parsed: JSONValue? = try? bytes.withUnsafeBufferPointer { try JSONValue.parse(bytes: $0, exactNumbers: true) }
        return switch parsed {
        case .object(let members) where type == .object: .object(members)
        case .array(let items) where type == .list: .array(items)
        default: nil
        }
    }
}
