import Foundation
import RolloutCore
import RolloutStore

/// The guard over a rollout store that holds the built-in demo domain: ledgers and audit log in the
/// store's tables, rows in the demo tables of the same store, so a decision's write, ledger entries and
/// audit event commit in one transaction. Only a store made for the demo holds those tables
/// (`rollout call --demo`); a user's store never does.
public final class DemoEnvironment: GuardEnvironment, @unchecked Sendable {
    public let store: AuditStore
    public let redactor: Redactor

    /// Opens the environment on a demo store: creates the demo tables the policy needs (marking the
    /// store as a demo store) and seeds the empty ones with valid rows for `seedTenants`.
    public init(store: AuditStore, policy: Policy, seedTenants: [String] = [], rowsPerTenant: Int = 8) throws {
        self.store = store
        redactor = Redactor(policy: policy, key: try store.redactionKey())
        try store.write { tx in
            try tx.sql.execute("INSERT INTO store_meta (key, value) VALUES ('demo', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            try DemoDomain.createTables(tx.sql, policy: policy)
            if !seedTenants.isEmpty {
                try DemoDomain.seed(tx.sql, policy: policy, tenants: seedTenants, rowsPerTenant: rowsPerTenant)
            }
        }
    }

    /// The built-in guard over a demo store, seeded for the tenants of `tenants.yaml` (or two example
    /// tenants): what `rollout call --demo` decides with.
    public static func demoGuard(store: AuditStore, policy: Policy, tenants: TenantsFile) throws -> Guard {
        var seedTenants = tenants.tenants.map(\.id)
        if seedTenants.isEmpty { seedTenants = ["tenant-a", "tenant-b"] }
        let environment = try DemoEnvironment(store: store, policy: policy, seedTenants: seedTenants)
        return Guard(policy: policy, stages: SharedPauses(tenants, store: store), environment: environment)
    }

    /// Whether `store` was made for the demo domain (and so holds its tables).
    public static func isDemoStore(_ store: AuditStore) throws -> Bool {
        try store.meta("demo") == "1"
    }

    public func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T {
        try store.write { tx in
            let ledger = StoreGuardLedger(tx)
            let result = try body(Session(ledger: ledger, demo: SQLiteBackend(sql: tx.sql)))
            tx = ledger.finish()
            return result
        }
    }

    public func groupedTransaction<T>(_ body: @escaping (any GuardSession) throws -> T) async throws -> T {
        try await store.writeGrouped { tx in
            let ledger = StoreGuardLedger(tx)
            let result = try body(Session(ledger: ledger, demo: SQLiteBackend(sql: tx.sql)))
            tx = ledger.finish()
            return result
        }
    }

    public var sharesCommits: Bool { true }

    public func checkedEvents(after seq: Int64, _ pick: (AuditEvent) -> EventPick?) throws -> CheckedEvents? {
        try store.checkedEvents(after: seq, pickingFor: pick)
    }

    /// The demo rows of `model`, by key: for tests and `rollout call`'s output.
    public func rows(of model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]] {
        try store.read { sql in
            let backend = SQLiteBackend(sql: sql)
            let keys = try sql.query("SELECT \(DemoDomain.quote(model.key)) FROM \(DemoDomain.quote(DemoDomain.tableName(model)))")
                .map { SQLiteBackend.json($0[0], rule: model.field(model.key)) }
            var out: [JSONValue: [String: JSONValue]] = [:]
            for (key, row) in zip(keys, try backend.rows(model: model, keys: keys)) { out[key] = row }
            return out
        }
    }

    struct Session: GuardSession {
        let ledger: any GuardLedger
        let demo: SQLiteBackend
        var rows: (any RowStore)? { demo }
    }
}
