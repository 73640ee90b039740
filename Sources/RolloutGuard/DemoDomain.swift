import Foundation
import RolloutCore
import RolloutStore

/// The built-in demo domain: one table per policy model (named `demo_<table>`, beside the
/// audit log in the store, so a write and its audit event commit together), seeded with valid rows
/// for each tenant. It lets `rollout fuzz` and `rollout call` exercise any policy with no set-up.
public enum DemoDomain {
    /// The table that holds `model`'s rows in the store.
    public static func tableName(_ model: ModelPolicy) -> String { "demo_" + model.table }

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Creates the tables that do not exist yet.
    public static func createTables(_ sql: any SQLConnection, policy: Policy) throws {
        let postgres = sql.dialect == .postgres
        for model in policy.models {
            var columns: [String] = []
            if let rule = model.field(model.key), rule.type == .string {
                columns.append("\(quote(model.key)) TEXT PRIMARY KEY")
            } else {
                columns.append("\(quote(model.key)) \(postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT")")
            }
            if let tenantField = model.tenantField { columns.append("\(quote(tenantField)) TEXT NOT NULL") }
            for field in model.fields where field.name != model.key && field.name != model.tenantField {
                let type = switch field.type {
                case .string, .list, .object: "TEXT"
                case .integer, .boolean: postgres ? "BIGINT" : "INTEGER"
                case .number: postgres ? "DOUBLE PRECISION" : "REAL"
                }
                columns.append("\(quote(field.name)) \(type)")
            }
            try sql.execute("CREATE TABLE IF NOT EXISTS \(quote(tableName(model))) (\(columns.joined(separator: ", ")))")
        }
    }

    /// Rows for a model: `rowsPerTenant` per tenant, every field valid for its rule, keys assigned by
    /// the table. Deterministic.
    public static func seedRows(model: ModelPolicy, tenants: [String], rowsPerTenant: Int) -> [[String: JSONValue]] {
        var rows: [[String: JSONValue]] = []
        for tenant in tenants {
            for i in 0..<rowsPerTenant {
                var row: [String: JSONValue] = [:]
                if let tenantField = model.tenantField { row[tenantField] = .string(tenant) }
                for field in model.fields where field.name != model.key && field.name != model.tenantField {
                    if field.secret {
                        row[field.name] = ValueSynthesizer.secret("secret-\(tenant)-\(i)", rule: field, index: i, tenant: tenant)
                    } else if let value = ValueSynthesizer.value(for: field, index: i, tenant: tenant) {
                        row[field.name] = value
                    }
                }
                if let keyRule = model.field(model.key), keyRule.type == .string {
                    row[model.key] = .string("\(tenant)-\(model.name.lowercased())-\(i + 1)")
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// Seeds every model whose table is empty.
    public static func seed(_ sql: any SQLConnection, policy: Policy, tenants: [String], rowsPerTenant: Int = 8) throws {
        for model in policy.models {
            let count = try sql.scalar("SELECT count(*) FROM \(quote(tableName(model)))")?.int64 ?? 0
            guard count == 0 else { continue }
            let backend = SQLiteBackend(sql: sql)
            for row in seedRows(model: model, tenants: tenants, rowsPerTenant: rowsPerTenant) {
                _ = try backend.insert(model: model, values: row)
            }
        }
    }
}

/// The demo domain's rows, read and written inside the store transaction of a decision (on either engine).
struct SQLiteBackend: RowStore {
    let sql: any SQLConnection

    /// SQL per model, built once per process: quoting identifiers on every call showed in profiles.
    private static let sqlCache = SQLCache()

    func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?] {
        let query = Self.sqlCache.sql("select", model) { "SELECT * FROM \(DemoDomain.quote(DemoDomain.tableName(model))) WHERE \(DemoDomain.quote(model.key)) = ?" }
        // PostgreSQL compares no text with a BIGINT key (nor a number with a TEXT one): the error would abort the
        // decision's transaction, and the call would end unrecorded. Such a key is compared as text there, so a
        // spelling SQLite finds (`"6"` for 6) is found alike and refused for its spelling by the guard.
        let textKey = model.field(model.key)?.type == .string
        return try keys.map { k in
            let value = Self.sqlValue(k)
            let mismatched = switch value {
            case .text: !textKey
            case .int, .double: textKey
            default: false
            }
            let row = sql.dialect == .postgres && mismatched
                ? try sql.queryOne(Self.sqlCache.sql("select-text", model) {
                    "SELECT * FROM \(DemoDomain.quote(DemoDomain.tableName(model))) WHERE CAST(\(DemoDomain.quote(model.key)) AS TEXT) = ?"
                }, [.text(k.stringValue ?? k.canonicalText)])
                : try sql.queryOne(query, [value])
            guard let row else { return nil }
            var values: [String: JSONValue] = [:]
            for (column, value) in zip(row.columns, row.values) {
                values[column] = Self.json(value, rule: model.field(column))
            }
            return values
        }
    }

    func insert(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue {
        let table = DemoDomain.quote(DemoDomain.tableName(model))
        let names = values.keys.sorted()
        let query = "INSERT INTO \(table) (\(names.map(DemoDomain.quote).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", "))) RETURNING \(DemoDomain.quote(model.key))"
        let row: SQLRow?
        do {
            row = try sql.queryOne(query, names.map { Self.sqlValue(values[$0]!) })
        } catch let error as StoreError {
            if case .constraint(let message) = error { throw BackendError("\(model.name): \(message)") }
            throw error
        }
        if let given = values[model.key], !given.isNull { return given }
        return row.map { Self.json($0[0], rule: model.field(model.key)) } ?? .null
    }

    func update(model: ModelPolicy, key: JSONValue, values: [String: JSONValue]) throws {
        guard !values.isEmpty else { return }
        let names = values.keys.sorted()
        let query = Self.sqlCache.sql("update", model, extra: names.joined(separator: "\u{0}")) {
            "UPDATE \(DemoDomain.quote(DemoDomain.tableName(model))) SET \(names.map { "\(DemoDomain.quote($0)) = ?" }.joined(separator: ", ")) WHERE \(DemoDomain.quote(model.key)) = ?"
        }
        if try sql.executeCountingChanges(query, names.map { Self.sqlValue(values[$0]!) } + [Self.sqlValue(key)]) == 0 {
            throw BackendError("\(model.name) \(key.canonicalText) does not exist")
        }
    }

    func delete(model: ModelPolicy, key: JSONValue) throws {
        let table = DemoDomain.quote(DemoDomain.tableName(model))
        try sql.execute("DELETE FROM \(table) WHERE \(DemoDomain.quote(model.key)) = ?", [Self.sqlValue(key)])
    }

    static func sqlValue(_ value: JSONValue) -> SQLValue {
        switch value {
        case .null: .null
        case .bool(let b): .int(b ? 1 : 0)
        case .number(let d): d.rounded() == d && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
        case .string(let s): .text(s)
        case .array, .object: .text(value.canonicalText)
        }
    }

    static func json(_ value: SQLValue, rule: FieldRule?) -> JSONValue {
        switch value {
        case .null: return .null
        case .int(let i):
            if rule?.type == .boolean { return .bool(i != 0) }
            return .number(Double(i))
        case .double(let d): return .number(d)
        case .text(let s):
            // Lists and objects are kept as their canonical JSON text.
            if rule?.type == .list || rule?.type == .object, let parsed = try? JSONValue.parse(s) { return parsed }
            return .string(s)
        case .bytes(let b): return .string(String(decoding: b, as: UTF8.self))
        }
    }
}

/// Generated SQL by (purpose, model), shared by every backend of the process.
final class SQLCache: @unchecked Sendable {
    private var cache: [String: String] = [:]
    private let lock = NSLock()

    func sql(_ purpose: String, _ model: ModelPolicy, extra: String = "", _ make: () -> String) -> String {
        let key = purpose + "\u{0}" + model.name + "\u{0}" + model.table + "\u{0}" + extra
        lock.lock()
        defer { lock.unlock() }
        if let sql = cache[key] { return sql }
        let sql = make()
        cache[key] = sql
        return sql
    }
}
