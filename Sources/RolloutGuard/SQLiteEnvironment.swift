import Foundation
import GRDB
import RolloutCore
import RolloutStore

/// The guard over a rollout store: ledgers and audit log in the store's tables, rows in the built-in
/// demo domain's tables of the same file, so a decision's write, ledger entries and audit event
/// commit in one SQLite transaction.
public final class SQLiteEnvironment: GuardEnvironment, @unchecked Sendable {
    public let store: AuditStore

    /// Opens the environment; creates the demo tables the policy needs and seeds the empty ones with
    /// valid rows for `seedTenants`.
    public init(store: AuditStore, policy: Policy, seedTenants: [String] = [], rowsPerTenant: Int = 8) throws {
        self.store = store
        try store.write { tx in
            try DemoDomain.createTables(tx.db, policy: policy)
            if !seedTenants.isEmpty {
                try DemoDomain.seed(tx.db, policy: policy, tenants: seedTenants, rowsPerTenant: rowsPerTenant)
            }
        }
    }

    public func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T {
        try store.write { tx in
            let session = Session(ledger: StoreLedger(tx), backend: SQLiteBackend(db: tx.db))
            let result = try body(session)
            tx = session.storeLedger.finish()
            return result
        }
    }

    /// The demo rows of `model`, by key: for tests and `rollout call`'s output.
    public func rows(of model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]] {
        try store.read { db in
            let backend = SQLiteBackend(db: db)
            let keys = try DatabaseValue.fetchAll(db, sql: "SELECT \(DemoDomain.quote(model.key)) FROM \(DemoDomain.quote(DemoDomain.tableName(model)))")
                .map { SQLiteBackend.json($0, rule: model.field(model.key)) }
            var out: [JSONValue: [String: JSONValue]] = [:]
            for (key, row) in zip(keys, try backend.rows(model: model, keys: keys)) { out[key] = row }
            return out
        }
    }

    final class Session: GuardSession {
        let storeLedger: StoreLedger
        let sqliteBackend: SQLiteBackend
        init(ledger: StoreLedger, backend: SQLiteBackend) {
            storeLedger = ledger
            sqliteBackend = backend
        }
        var ledger: any GuardLedger { storeLedger }
        var backend: any WriteBackend { sqliteBackend }
    }
}
