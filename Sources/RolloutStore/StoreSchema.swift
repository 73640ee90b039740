import Foundation
import GRDB

/// rollout's own tables, indexes and triggers as its migrations make them, and where a store's differ.
///
/// Someone with write access to a store file can change what the guard's statements do without touching
/// a chained row: add a trigger that deletes each idempotency entry as it is written (every retry then
/// runs again), drop the trigger that counts calls for caps, or relabel an index in `sqlite_master`
/// (`PRAGMA writable_schema`) so that a key's events are no longer found. The schema is not chained, so
/// it is compared with the one the store's applied migrations make on an empty database: `audit verify`
/// reports a difference, and a writer refuses to write (`AuditStore.write`). Only rollout's own tables
/// are compared (objects on other tables, like the built-in domain's rows, are not its ledgers); only
/// SQLite stores, whose schema is a table any writer of the file can edit.
enum StoreSchema {
    /// One row of `sqlite_master`.
    struct Object: Hashable {
        var type: String
        var name: String
        var table: String
        var sql: String?
    }

    /// What differs between the store's schema and the one its applied migrations make, one line each,
    /// in name order; empty when nothing does (and on engines other than SQLite).
    static func differences(_ sql: any SQLConnection) throws -> [String] {
        guard sql.dialect == .sqlite else { return [] }
        let applied = try SQLiteEngine.applied(sql)
        let expected = try made(by: StoreMigrations.all.filter { applied.contains($0.name) })
        let ours = Set(expected.values.filter { $0.type == "table" }.map(\.name))
        var found: [String: Object] = [:]
        for object in try objects(sql) where expected[object.name] != nil || ours.contains(object.table) {
            found[object.name] = object
        }
        var lines: [String] = []
        for name in Set(expected.keys).union(found.keys).sorted() {
            switch (expected[name], found[name]) {
            case (let want?, nil):
                lines.append("\(want.type) \(name) is missing")
            case (nil, let have?):
                lines.append("\(have.type) \(name) on \(have.table) was added")
            case (let want?, let have?) where want != have:
                let text = (have.sql ?? "no SQL").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                lines.append("\(have.type) \(name) is not as rollout made it (it reads \"\(text.count > 160 ? text.prefix(160) + "…" : text)\")")
            default:
                break
            }
        }
        return lines
    }

    /// The rows of `sqlite_master` that can hold rollout's objects (not GRDB's record of the migrations).
    static func objects(_ sql: any SQLConnection) throws -> [Object] {
        try sql.query("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name <> 'grdb_migrations'", []).map {
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
        let byName = Dictionary(objects.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        lock.withLock { made[names] = byName }
        return byName
    }
}
