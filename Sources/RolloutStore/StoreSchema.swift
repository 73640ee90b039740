import Foundation
import GRDB

/// rollout's own tables, indexes and triggers as its migrations make them, and where a store's differ.
///
/// Someone with write access to a store file can change what the guard's statements do without touching
/// a chained row: add a trigger that deletes each idempotency entry as it is written (every retry then
/// runs again), drop the trigger that counts calls for caps, or relabel an index in `sqlite_master`
/// (`PRAGMA writable_schema`) so that a key's events are no longer found. The schema is not chained, so
/// it is compared with the one the store's applied migrations make on an empty database: `audit verify`
/// reports a difference, and a writer refuses to write (`AuditStore.write`). Compared: rollout's own
/// objects, anything else on its tables (or on GRDB's record of the migrations), and every trigger
/// wherever it is (one on a table rollout writes, like the built-in domain's rows, runs inside the
/// guard's transaction and can reach its ledgers). Other tables and their indexes are not rollout's and
/// are left alone. Names are compared as SQLite compares them, without regard to ASCII case (`ON
/// IDEMPOTENCY` is the idempotency table, and `sqlite_master` keeps it as written). Only SQLite stores,
/// whose schema is a table any writer of the file can edit.
enum StoreSchema {
    /// One row of `sqlite_master`.
    struct Object: Hashable {
        var type: String
        var name: String
        var table: String
        var sql: String?
    }

    /// GRDB's record of the migrations: its table and index are made by the engine (and by the first
    /// version's migrator), not by a migration, and are not compared; anything else on it is.
    static let migrationRecord: Set<String> = ["grdb_migrations", "sqlite_autoindex_grdb_migrations_1"]

    /// What differs between the store's schema and the one its applied migrations make, one line each,
    /// in name order; empty when nothing does. PostgreSQL's catalogs: `PostgresSchemaCheck`.
    static func differences(_ sql: any SQLConnection) throws -> [String] {
        guard sql.dialect == .sqlite else { return sql.dialect == .postgres ? try PostgresSchemaCheck.differences(sql) : [] }
        let applied = try SQLiteEngine.applied(sql)
        let expected = try made(by: StoreMigrations.all.filter { applied.contains($0.name) })
        let ours = Set(expected.values.filter { $0.type == "table" }.map { $0.name.lowercased() }).union(["grdb_migrations"])
        var found: [String: Object] = [:]
        var lines: [String] = []
        for object in try objects(sql) {
            let name = object.name.lowercased()
            guard !migrationRecord.contains(name),
                  expected[name] != nil || ours.contains(object.table.lowercased()) || object.type == "trigger" else { continue }
            if found[name] != nil { lines.append("\(object.type) \(object.name) is defined twice") }
            found[name] = object
        }
        for name in Set(expected.keys).union(found.keys).sorted() {
            switch (expected[name], found[name]) {
            case (let want?, nil):
                lines.append("\(want.type) \(want.name) is missing")
            case (nil, let have?):
                lines.append("\(have.type) \(have.name) on \(have.table) was added")
            case (let want?, let have?) where want != have:
                let text = (have.sql ?? "no SQL").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                lines.append("\(have.type) \(have.name) is not as rollout made it (it reads \"\(text.count > 160 ? text.prefix(160) + "…" : text)\")")
            default:
                break
            }
        }
        // Readers take a text column's bytes in place as UTF-8 (`SQLiteRowView`); in a store of another
        // encoding SQLite converts each one, and a conversion that fails for want of memory would read as
        // empty text. Only a store rebuilt by hand has another encoding.
        if let encoding = try sql.queryOne("PRAGMA encoding", []).map({ $0.string(0) }), encoding != "UTF-8" {
            lines.append("the store's text is encoded \(encoding), and rollout writes and reads UTF-8")
        }
        if lines.isEmpty, expected[keyIndex] != nil { lines += try keyIndexProblems(sql) }
        return lines
    }

    /// The index the guard finds a key's events through (`StoreTransaction.eventsUsing`).
    static let keyIndex = "audit_events_idempotency"

    /// An index whose root was moved to another b-tree (`PRAGMA writable_schema`, its text unchanged), or
    /// whose pages were edited, reads as rollout made it and answers that a used key is free: a retry
    /// runs twice. The latest events that carry a key (up to 8 among the last 256) are looked up through
    /// it, each by its tenant, key, decision and position; one it does not find is named. Rows whose
    /// columns are not text are left to the chain's check (a value of another type compares unequal
    /// through the column's affinity, and is a column edit `audit verify` names). An older entry edited
    /// in place is found by `audit verify --deep` (SQLite's integrity check).
    static func keyIndexProblems(_ sql: any SQLConnection) throws -> [String] {
        let recent = try sql.query("""
            SELECT seq, tenant, idempotency_key, decision FROM audit_events NOT INDEXED
            WHERE seq > (SELECT coalesce(max(seq), 0) - 256 FROM audit_events) AND idempotency_key IS NOT NULL
              AND typeof(tenant) = 'text' AND typeof(idempotency_key) = 'text' AND typeof(decision) = 'text'
            ORDER BY seq DESC LIMIT 8
            """, [])
        for row in recent {
            let found = try sql.scalar("""
                SELECT count(*) FROM audit_events INDEXED BY \(keyIndex) WHERE tenant = ? AND idempotency_key = ? AND decision = ? AND seq = ?
                """, [row[1], row[2], row[3], row[0]])?.int64 ?? 0
            if found != 1 {
                return ["index \(keyIndex) does not find event \(row.int(0)) under its key: its root or its pages were changed by hand"]
            }
        }
        return []
    }

    /// Every row of `sqlite_master`.
    static func objects(_ sql: any SQLConnection) throws -> [Object] {
        try sql.query("SELECT type, name, tbl_name, sql FROM sqlite_master", []).map {
            Object(type: $0.optionalString(0) ?? "", name: $0.optionalString(1) ?? "", table: $0.optionalString(2) ?? "", sql: $0.optionalString(3))
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [[String]: [String: Object]] = [:]

    /// The objects `migrations` make on an empty database, by name (made once per list in a process).
    static func made(by migrations: [StoreMigration]) throws -> [String: Object] {
        let names = migrations.map(\.name)
        if let known = lock.withLock({ made[names] }) { return known }
        let queue = try DatabaseQueue()
        let objects = try queue.write { db in
            for migration in migrations { try db.execute(sql: migration.sqlite) }
            return try Self.objects(SQLiteConnection(db: db))
        }
        let byName = Dictionary(objects.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        lock.withLock { made[names] = byName }
        return byName
    }
}
