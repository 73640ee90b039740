import Foundation

/// What on a PostgreSQL store changes what the guard's statements do without touching a chained row.
///
/// The guards' role owns rollout's tables, so anyone holding its credentials can add a trigger that drops
/// each call counted for caps, or each idempotency entry as it is written (every retry then runs again),
/// or turn row security on with a policy that hides a key's or a pause's events from the writers while the
/// readers (`audit verify`) still see them. The catalogs are not chained; they are compared with what
/// rollout's migrations make, in the store's schema (`current_schema()`): each of rollout's tables a table
/// (not a view in its place); on them, every trigger but rollout's own (which must be there once its
/// migration ran, enabled, firing after each insert with no condition, its function's body and settings as
/// written), row security, any row-security policy, any rewrite rule; and no session in replica mode.
/// An application's tables beside rollout's are not compared. `audit verify` reports a
/// difference, and a writer refuses to write, as on SQLite (`StoreSchema`).
enum PostgresSchemaCheck {
    /// The trigger that adds each counted call to its four buckets (migration `v4-cap-buckets`).
    static let bucketMigration = "v4-cap-buckets"
    static let bucketTrigger = (table: "guard_calls", name: "guard_calls_buckets", function: "guard_call_buckets_add")
    /// `pg_trigger.tgtype` of a row trigger that fires after INSERT: TRIGGER_TYPE_ROW (1) | TRIGGER_TYPE_INSERT (4).
    static let afterInsertPerRow = 5

    /// The body between `$$` of the bucket function as the migration writes it, blanks folded.
    static let bucketFunctionBody: String? = {
        guard let migration = StoreMigrations.all.first(where: { $0.name == bucketMigration }) else { return nil }
        let parts = migration.postgres.components(separatedBy: "$$")
        return parts.count >= 3 ? folded(parts[1]) : nil
    }()

    static func folded(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// What differs, one line each; empty when nothing does.
    static func differences(_ sql: any SQLConnection) throws -> [String] {
        var lines: [String] = []
        let applied = Set(try sql.query("SELECT name FROM rollout_migrations", []).map { $0.string(0) })
        let wantBuckets = applied.contains(bucketMigration)
        // rollout's tables, as its applied migrations make them (SQLite's spelling of the same migrations):
        // each must be a table of the store's schema, not a view or another kind put in its place. The other
        // checks look at these tables alone: an application's tables beside them are not rollout's.
        let tables = try StoreSchema.made(by: StoreMigrations.all.filter { applied.contains($0.name) })
            .values.filter { $0.type == "table" }.map { $0.name.lowercased() }.sorted()
        let ours = "ARRAY[" + tables.map { "'\($0)'" }.joined(separator: ", ") + "]::text[]"
        let kinds = Dictionary(try sql.query("""
            SELECT c.relname::text, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname::text = ANY(\(ours))
            """, []).map { ($0.string(0), $0.string(1)) }, uniquingKeysWith: { a, _ in a })
        for table in tables {
            switch kinds[table] {
            case "r", "p": break
            case nil: lines.append("table \(table) is missing")
            case let kind?: lines.append("table \(table) is not a table (pg_class.relkind \(kind))")
            }
        }
        // Triggers marked enabled do not fire for a session in replica mode.
        if let role = try sql.scalar("SELECT current_setting('session_replication_role')", [])?.string, role != "origin" {
            lines.append("session_replication_role is \(role): rollout's trigger does not fire")
        }
        var bucketsFound = false
        let triggers = try sql.query("""
            SELECT c.relname, t.tgname, t.tgenabled::text, t.tgtype::int, p.proname, p.prosrc,
                   (t.tgqual IS NULL AND t.tgnargs = 0 AND NOT t.tgdeferrable AND t.tgconstraint = 0
                    AND p.proconfig IS NULL AND NOT p.prosecdef AND p.pronamespace = n.oid)::text
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND c.relname::text = ANY(\(ours)) ORDER BY 1, 2
            """, [])
        for row in triggers {
            let table = row.string(0), name = row.string(1)
            guard wantBuckets, table == bucketTrigger.table, name == bucketTrigger.name else {
                lines.append("trigger \(name) on \(table) was added")
                continue
            }
            bucketsFound = true
            if row.string(2) != "O" {
                lines.append("trigger \(name) on \(table) is not enabled as rollout made it (tgenabled \(row.string(2)))")
            }
            // Its WHEN condition, arguments, deferral, and its function's settings and schema, besides the body.
            if row.int(3) != Int64(afterInsertPerRow) || row.string(4) != bucketTrigger.function || folded(row.string(5)) != bucketFunctionBody
                || !["true", "t"].contains(row.string(6)) {
                lines.append("trigger \(name) on \(table) is not as rollout made it (it runs \(row.string(4)): \"\(folded(row.string(5)).prefix(160))\")")
            }
        }
        if wantBuckets && !bucketsFound {
            lines.append("trigger \(bucketTrigger.name) on \(bucketTrigger.table) is missing")
        }
        for row in try sql.query("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname::text = ANY(\(ours)) AND (c.relrowsecurity OR c.relforcerowsecurity) ORDER BY 1
            """, []) {
            lines.append("row security is on for table \(row.string(0))")
        }
        for row in try sql.query("""
            SELECT c.relname, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname::text = ANY(\(ours)) ORDER BY 1, 2
            """, []) {
            lines.append("policy \(row.string(1)) on \(row.string(0)) was added")
        }
        for row in try sql.query("""
            SELECT tablename::text, rulename::text FROM pg_rules WHERE schemaname = current_schema() AND tablename::text = ANY(\(ours)) ORDER BY 1, 2
            """, []) {
            lines.append("rule \(row.string(1)) on \(row.string(0)) was added")
        }
        return lines
    }
}
