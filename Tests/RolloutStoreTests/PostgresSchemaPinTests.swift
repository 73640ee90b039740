import Foundation
import RolloutCore
import RolloutPostgres
import RolloutStore
import RolloutTestSupport
import Testing

/// Which schema a PostgreSQL store is in: the one that holds it on the search path, pinned for the
/// connection's life, so a schema made later (one named after the user comes first on the default path,
/// `"$user", public`) neither starts a second, empty store nor takes some of the store's tables' names.
@Suite("PostgreSQL store schema")
struct PostgresSchemaPinTests {
    static func event(_ n: Int) -> AuditEvent {
        AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000 + Double(n)), tenant: "acme", actor: "agent-1", tool: "items.create",
                   idempotencyKey: "k-\(n)", decision: "executed")
    }

    /// The tables of `schema` in the database at `location`, read on a connection that makes none.
    static func tables(in schema: String, at location: String) throws -> [String] {
        let engine = try PostgresEngine(location: try PostgresLocation.parse(location))
        defer { engine.close() }
        return try engine.read { sql in
            try sql.query("SELECT tablename::text FROM pg_tables WHERE schemaname = ? ORDER BY 1", [.text(schema)]).map { $0.string(0) }
        }
    }

    /// A new store holding one event, then a schema named after its user (first on the default search
    /// path), made with `also` (statements run in the same transaction).
    static func storeThenUserSchema(also: [String] = []) throws -> (location: String, user: String, store: AuditStore) {
        let location = try TestStores.location(.postgres)
        let user = try PostgresLocation.parse(location).user
        let store = try AuditStore(path: location)
        try store.append([Self.event(1)])
        try store.write { transaction in
            try transaction.sql.execute("CREATE SCHEMA \"\(user)\"")
            for statement in also { try transaction.sql.execute(statement.replacingOccurrences(of: "$USER", with: user)) }
        }
        return (location, user, store)
    }

    @Test("a schema named after the user, made after the store, is not where the store's next writer writes",
          .enabled(if: TestStores.postgresURL != nil))
    func userSchemaMadeLater() throws {
        let (location, user, first) = try Self.storeThenUserSchema()
        // Without the pin, the next writer made rollout's tables again in the new schema, first on the path: a
        // second store, empty, whose ledgers knew no key, cap or approval of the first.
        let next = try AuditStore(path: location)
        #expect(try next.head().seq == 1)
        try next.append([Self.event(2)])
        #expect(try first.verify().checked == 2)
        #expect(try Self.tables(in: user, at: location).isEmpty)
    }

    @Test("one of the store's table names made in a schema earlier on the path is not read in place of the store's",
          .enabled(if: TestStores.postgresURL != nil))
    func tableShadowedLater() throws {
        // An empty ledger of keys first on the path: a writer reading it would take key k-1 as never used.
        let (location, _, _) = try Self.storeThenUserSchema(also: [#"CREATE TABLE "$USER".idempotency (LIKE public.idempotency INCLUDING ALL)"#])
        let next = try AuditStore(path: location)
        let count = try next.read { sql in try sql.query("SELECT count(*) FROM idempotency", []).first?.int(0) }
        let inPublic = try next.read { sql in try sql.query("SELECT count(*) FROM public.idempotency", []).first?.int(0) }
        #expect(count == inPublic)
    }

    @Test("two stores on the search path: refused, naming both, until ?schema= names one",
          .enabled(if: TestStores.postgresURL != nil))
    func twoStoresOnThePath() throws {
        let (location, user, _) = try Self.storeThenUserSchema()
        try AuditStore(path: location + "&schema=\(user)").append([Self.event(1), Self.event(2)])
        #expect {
            _ = try AuditStore(path: location)
        } throws: { error in
            let text = "\(error)"
            return text.contains("\"\(user)\"") && text.contains("\"public\"") && text.contains("?schema=")
        }
        #expect(try AuditStore(path: location + "&schema=public").head().seq == 1)
        #expect(try AuditStore(path: location + "&schema=\(user)").head().seq == 2)
    }

    @Test("?schema= naming a schema that does not exist is an error, and nothing is made",
          .enabled(if: TestStores.postgresURL != nil))
    func missingSchema() throws {
        let location = try TestStores.location(.postgres)
        #expect {
            _ = try AuditStore(path: location + "&schema=nowhere")
        } throws: { error in "\(error)".contains("schema \"nowhere\" does not exist") }
        #expect(try Self.tables(in: "public", at: location).isEmpty)
    }

    @Test("the schema parameter is read, shown, and checked", arguments: [
        ("postgres://u@h/db?schema=audit", "audit" as String?),
        ("postgres://u@h/db?sslmode=disable&schema=my%20store", "my store"),
        ("postgres://u@h/db", nil),
    ])
    func parsed(_ url: String, _ schema: String?) throws {
        let location = try PostgresLocation.parse(url, environment: [:])
        #expect(location.schema == schema)
        #expect(location.redacted.contains("schema=") == (schema != nil))
        if schema != nil { #expect(try PostgresLocation.parse(location.redacted, environment: [:]).schema == schema) }
    }

    @Test("an empty or overlong schema name is refused", arguments: ["postgres://u@h/db?schema=", "postgres://u@h/db?schema=" + String(repeating: "s", count: 64)])
    func badSchema(_ url: String) {
        #expect(throws: StoreError.self) { try PostgresLocation.parse(url, environment: [:]) }
    }
}
