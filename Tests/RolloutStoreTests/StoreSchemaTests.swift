import Crypto
import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// The schema is not chained: a trigger or index changed by hand can undo or hide the guard's ledgers
/// without touching a chained row (review 18, A: the key's index relabelled, and a retry ran twice with
/// `audit verify` saying ok). `audit verify` names the difference, and no writer writes to the store.
@Suite("Store schema: rollout's own tables, indexes and triggers as its migrations made them")
struct StoreSchemaTests {
    struct Tamper: Sendable, CustomTestStringConvertible {
        var name: String
        /// Run on the file as someone with write access would, outside rollout.
        var sql: String
        /// What verify and the refused writer must say.
        var says: String
        var testDescription: String { name }
    }

    static let tampers: [Tamper] = [
        Tamper(name: "a trigger that forgets every idempotency key as it is written",
               sql: "CREATE TRIGGER forget AFTER INSERT ON idempotency BEGIN DELETE FROM idempotency WHERE key = NEW.key; END",
               says: "trigger forget on idempotency was added"),
        Tamper(name: "the trigger that counts calls for caps dropped", sql: "DROP TRIGGER guard_calls_buckets",
               says: "trigger guard_calls_buckets is missing"),
        Tamper(name: "the key's index relabelled in sqlite_master (writable_schema)",
               sql: """
                   PRAGMA writable_schema = ON;
                   UPDATE sqlite_master SET sql = 'CREATE INDEX audit_events_idempotency ON audit_events(idempotency_key, tenant, decision) WHERE idempotency_key IS NOT NULL'
                   WHERE name = 'audit_events_idempotency';
                   PRAGMA writable_schema = OFF;
                   """,
               says: "index audit_events_idempotency is not as rollout made it"),
        Tamper(name: "an index added on the audit log", sql: "CREATE INDEX by_actor ON audit_events(actor)",
               says: "index by_actor on audit_events was added"),
        Tamper(name: "an index dropped", sql: "DROP INDEX dry_runs_lookup", says: "index dry_runs_lookup is missing"),
        // sqlite_master keeps the table's name as the trigger wrote it.
        Tamper(name: "a trigger on the idempotency table named in capitals",
               sql: "CREATE TRIGGER shout AFTER INSERT ON IDEMPOTENCY BEGIN DELETE FROM idempotency WHERE key = NEW.key; END",
               says: "trigger shout on IDEMPOTENCY was added"),
        // The built-in domain's rows are written in the guard's transaction: a trigger there reaches the ledgers.
        Tamper(name: "a trigger on another table that empties a ledger",
               sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY); CREATE TRIGGER sweep AFTER INSERT ON notes BEGIN DELETE FROM idempotency; END",
               says: "trigger sweep on notes was added"),
        Tamper(name: "an index on GRDB's record of the migrations", sql: "CREATE INDEX record_by_name ON grdb_migrations(identifier DESC)",
               says: "index record_by_name on grdb_migrations was added"),
    ]

    static func event(_ n: Int) -> AuditEvent {
        AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000 + Double(n)), tenant: "acme", actor: "agent-1", tool: "items.create",
                   idempotencyKey: "k-\(n)", decision: "executed")
    }

    /// `writer` refuses a write, naming a difference that starts with `says`.
    static func expectRefused(_ writer: AuditStore, saying says: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            try writer.append([Self.event(2)])
        } throws: { error in
            guard case StoreError.schemaEdited(_, let differences) = error else { return false }
            return differences.contains { $0.hasPrefix(says) }
        }
    }

    @Test("a changed schema is named by verify, and refused by a writer already open and by one opened after", arguments: tampers)
    func tamperedSchema(_ t: Tamper) throws {
        let path = TestPaths.scratchFile("schema") + ".sqlite"
        let running = try AuditStore(path: path)
        try running.append([Self.event(1)])
        try TestStores.edit(path, t.sql)

        let check = try AuditStore(path: path, create: false, readOnly: true).verify()
        let found = try #require(check.firstBreak)
        #expect(found.problem == .schemaEdited)
        #expect(found.detail.contains(t.says), "\(found.detail)")

        func refused(_ writer: AuditStore) { Self.expectRefused(writer, saying: t.says) }
        // A writer already open compares again at once when the schema cookie moved; an edit through
        // writable_schema leaves it, and is compared again once the last comparison is a second old.
        if !t.sql.contains("writable_schema") { refused(running) }
        Thread.sleep(forTimeInterval: SchemaCheck.interval)
        refused(running)
        refused(try AuditStore(path: path))
        #expect(try running.head().seq == 1, "nothing was written")
    }

    /// Catalog changes on a PostgreSQL store, as the guards' role (the tables' owner) may make them.
    static let postgresTampers: [Tamper] = [
        Tamper(name: "a trigger that drops each counted call",
               sql: "CREATE FUNCTION swallow_calls() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;\n"
                   + "CREATE TRIGGER swallow_calls BEFORE INSERT ON guard_calls FOR EACH ROW EXECUTE FUNCTION swallow_calls()",
               says: "trigger swallow_calls on guard_calls was added"),
        Tamper(name: "row security on the audit events", sql: "ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY",
               says: "row security is on for table audit_events"),
        Tamper(name: "row security forced", sql: "ALTER TABLE idempotency FORCE ROW LEVEL SECURITY",
               says: "row security is on for table idempotency"),
        Tamper(name: "a policy that hides rows", sql: "CREATE POLICY readers ON audit_events FOR SELECT USING (idempotency_key IS NULL)",
               says: "policy readers on audit_events was added"),
        Tamper(name: "a rule that keeps rows", sql: "CREATE RULE keep AS ON DELETE TO idempotency DO INSTEAD NOTHING",
               says: "rule keep on idempotency was added"),
        Tamper(name: "the bucket trigger disabled", sql: "ALTER TABLE guard_calls DISABLE TRIGGER guard_calls_buckets",
               says: "trigger guard_calls_buckets on guard_calls is not enabled"),
        Tamper(name: "the bucket function replaced",
               sql: "CREATE OR REPLACE FUNCTION guard_call_buckets_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
               says: "trigger guard_calls_buckets on guard_calls is not as rollout made it"),
        Tamper(name: "the bucket trigger dropped", sql: "DROP TRIGGER guard_calls_buckets ON guard_calls",
               says: "trigger guard_calls_buckets on guard_calls is missing"),
        Tamper(name: "the bucket trigger made again with a condition that never holds",
               sql: "DROP TRIGGER guard_calls_buckets ON guard_calls;\n"
                   + "CREATE TRIGGER guard_calls_buckets AFTER INSERT ON guard_calls FOR EACH ROW WHEN (false) EXECUTE FUNCTION guard_call_buckets_add()",
               says: "trigger guard_calls_buckets on guard_calls is not as rollout made it"),
        Tamper(name: "the bucket function's search path set", sql: "ALTER FUNCTION guard_call_buckets_add() SET search_path = pg_catalog",
               says: "trigger guard_calls_buckets on guard_calls is not as rollout made it"),
        Tamper(name: "a table replaced by a view that filters it",
               sql: "ALTER TABLE guard_call_buckets RENAME TO kept_buckets;\n"
                   + "CREATE VIEW guard_call_buckets AS SELECT * FROM kept_buckets WHERE tool <> 'refunds.issue'",
               says: "table guard_call_buckets is not a table"),
    ]

    @Test("on PostgreSQL, an application's table beside rollout's, with its own trigger, row security and policy, is not compared",
          .enabled(if: TestStores.postgresURL != nil))
    func othersTablesOnPostgres() throws {
        let store = try AuditStore(path: try TestStores.location(.postgres))
        try store.append([Self.event(1)])
        try store.write { transaction in
            for statement in [
                "CREATE TABLE notes (id BIGINT PRIMARY KEY, touched BIGINT)",
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := 1; RETURN NEW; END $$",
                "CREATE TRIGGER touch BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION touch()",
                "ALTER TABLE notes ENABLE ROW LEVEL SECURITY",
                "CREATE POLICY mine ON notes USING (true)",
            ] { try transaction.sql.execute(statement) }
        }
        #expect(try store.verify().ok)
        Thread.sleep(forTimeInterval: SchemaCheck.interval)
        try store.append([Self.event(2)])
        #expect(try store.verify().checked == 2)
    }

    @Test("on PostgreSQL, a trigger, row security, a policy or a rule added, or rollout's own trigger changed, is named by verify and refused by writers",
          .enabled(if: TestStores.postgresURL != nil), arguments: postgresTampers)
    func tamperedCatalogs(_ t: Tamper) throws {
        let location = try TestStores.location(.postgres)
        let running = try AuditStore(path: location)
        try running.append([Self.event(1)])
        #expect(try running.verify().ok)
        try running.write { transaction in
            for statement in t.sql.components(separatedBy: ";\n") { try transaction.sql.execute(statement) }
        }
        let found = try #require(try running.verify().firstBreak)
        #expect(found.problem == .schemaEdited && found.detail.contains(t.says), "\(found.detail)")
        func refused(_ writer: AuditStore) { Self.expectRefused(writer, saying: t.says) }
        // Compared at most once a second on a writer already open.
        Thread.sleep(forTimeInterval: SchemaCheck.interval)
        refused(running)
        refused(try AuditStore(path: location))
        #expect(try running.head().seq == 1, "nothing was written")
    }

    @Test("tables that are not rollout's and their indexes, and statistics from ANALYZE, are not its schema: the store verifies and takes writes")
    func othersObjectsIgnored() throws {
        let path = TestPaths.scratchFile("schema") + ".sqlite"
        let store = try AuditStore(path: path)
        try store.append([Self.event(1)])
        try TestStores.edit(path, """
            CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);
            CREATE INDEX notes_text ON notes(text);
            CREATE VIEW recent_notes AS SELECT * FROM notes ORDER BY id DESC;
            ANALYZE;
            """)
        #expect(try store.verify().ok)
        try store.append([Self.event(2)])
        try AuditStore(path: path).append([Self.event(3)])
        #expect(try store.verify().checked == 3)
    }

    @Test("a store rebuilt in UTF-16 is not one rollout made: verify names its encoding, and no writer writes to it")
    func utf16Store() throws {
        let path = TestPaths.scratchFile("schema") + ".sqlite"
        // The encoding of a file is set before its first table, as a rebuild from a dump would set it.
        try TestStores.edit(path, "PRAGMA encoding = 'UTF-16le'; CREATE TABLE notes (id INTEGER PRIMARY KEY)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect {
            let store = try AuditStore(path: path)
            try store.append([Self.event(1)])
        } throws: { error in
            guard case StoreError.schemaEdited(_, let differences) = error else { return false }
            return differences.contains { $0.contains("encoded UTF-16le") }
        }
        let check = try AuditStore(path: path, create: false, readOnly: true).verify()
        #expect(check.firstBreak?.problem == .schemaEdited)
        #expect(check.firstBreak?.detail.contains("encoded UTF-16le") == true, "\(check.firstBreak?.detail ?? "ok")")
    }

    @Test("a store the first version wrote, read-only and unmigrated, is compared with the migrations it ran: no difference")
    func firstVersionStore() throws {
        let path = try TestStores.firstVersionStore("schema-v1")
        let store = try AuditStore(path: path, create: false, readOnly: true)
        #expect(try store.read { sql in try StoreSchema.differences(sql) } == [])
        let migrated = try AuditStore(path: path)
        #expect(try migrated.read { sql in try StoreSchema.differences(sql) } == [])
    }

    /// Moves the roots of two indexes of the audit log onto each other's b-trees, as `PRAGMA writable_schema`
    /// lets a writer of the file: the schema's text is unchanged.
    static func swapRoots(_ path: String, _ first: String, _ second: String) throws {
        let roots = try AuditStore(path: path, create: false, readOnly: true).read { sql in
            try sql.query("SELECT name, rootpage FROM sqlite_master WHERE name IN (?, ?)", [.text(first), .text(second)])
                .reduce(into: [String: Int64]()) { $0[$1.string(0)] = $1.int(1) }
        }
        let a = try #require(roots[first]), b = try #require(roots[second])
        try TestStores.edit(path, """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET rootpage = \(b) WHERE name = '\(first)';
            UPDATE sqlite_master SET rootpage = \(a) WHERE name = '\(second)';
            PRAGMA writable_schema = OFF;
            """)
    }

    @Test("the key index's root moved onto another index (writable_schema, its text unchanged): its recent keys are not found, verify and writers say so")
    func movedKeyIndexRoot() throws {
        let path = TestPaths.scratchFile("schema") + ".sqlite"
        try AuditStore(path: path).append((1...5).map(Self.event))
        try Self.swapRoots(path, "audit_events_idempotency", "audit_events_ts")
        let reader = try AuditStore(path: path, create: false, readOnly: true)
        #expect(try reader.read { sql in try sql.query("SELECT seq FROM audit_events WHERE tenant = 'acme' AND idempotency_key = 'k-3'", []) }.isEmpty,
                "the guard's lookup misses the key")
        let check = try reader.verify()
        #expect(check.firstBreak?.problem == .schemaEdited)
        #expect(check.firstBreak?.detail.contains("index audit_events_idempotency does not find event 5 under its key") == true, "\(check.firstBreak?.detail ?? "")")
        #expect(throws: StoreError.self) { try AuditStore(path: path).append([Self.event(6)]) }
    }

    @Test("indexes the guard does not read with their roots swapped pass the schema check; verify --deep finds them, and passes an intact store")
    func swappedIndexRoots() throws {
        let path = TestPaths.scratchFile("schema") + ".sqlite"
        try AuditStore(path: path).append((1...5).map(Self.event))
        try Self.swapRoots(path, "audit_events_ts", "audit_events_tenant_ts")
        let reader = try AuditStore(path: path, create: false, readOnly: true)
        #expect(try reader.read { sql in try StoreSchema.differences(sql) } == [])
        let plain = try reader.verify()
        #expect(plain.ok && !plain.deepChecked)
        let deep = try reader.verify(deep: true)
        #expect(deep.deepChecked)
        #expect(deep.firstBreak?.problem == .storeDamaged)
        #expect(deep.firstBreak?.detail.contains("missing from index audit_events_") == true, "\(deep.firstBreak?.detail ?? "")")
        // An intact store passes, its ledgers' rows included (SQLite 3.40 reports a NOT NULL column of a
        // WITHOUT ROWID table as holding nulls when it holds none).
        let intact = try TestStores.temporarySQLite()
        try intact.append((1...5).map(Self.event))
        try intact.write { (tx: inout StoreTransaction) throws in
            try tx.sql.execute("INSERT INTO guard_calls (tenant, tool, ts_ms, actor, audit_seq) VALUES ('acme', 'items.create', 1795000000000, 'agent-1', 1)", [])
            try tx.sql.execute("""
                INSERT INTO idempotency (tenant, key, tool, effect_digest, audit_seq, decision, result, created_ms, backend)
                VALUES ('acme', 'k-1', 'items.create', 'e', 1, 'executed', 'null', 1795000000000, 'builtin')
                """, [])
        }
        let whole = try intact.verify(deep: true)
        #expect(whole.ok && whole.deepChecked)
    }

    /// Each released migration's SQLite text, as SHA-256. A store's schema is compared with what the
    /// migrations it ran make today: a migration edited in place makes every store that ran the old
    /// text look changed by hand (review 19, F5). A new need is a new migration.
    static let released: [(name: String, sha256: String)] = [
        ("v1-audit-log", "582be3120c35e242b4b83177d8c3ee4d1efbd9e4852fffc50c5583d56e6ef158"),
        ("v1-guard-ledgers", "9d8ee0e23d3f1dcb1d0fdc35b6a22ea8a74cf9a010a34717994de6ef63d91b6f"),
        ("v1-rollout-state", "7ca86f60f5e42453fa0ab4829018c2173e15b5a0dc856060c7f05772fafebb28"),
        ("v2-backends-and-forms", "e6818fc5fffa85f5b78c70a11986a48a1d13ff6358ac7a6432c5754939cad367"),
        ("v3-serve", "77ea2fa85ec2590d1ab2c9888c62d3b707bdf061210ab3c86580798208c60b1b"),
        ("v4-cap-buckets", "d9db5db81ca73fa1913c0806697f02cb6f990b8550c5c4b35a98ade560c3fd80"),
        ("v5-tenant-pauses", "7f36bec4e658dd8ac4851cd6a863d21b805fbe3480032f4e27576376ae59ea5d"),
        ("v6-idempotency-keys-in-the-chain", "80a8737c032dff3f2c85f1377db17a7e33fc61d5f3806cbe8bf0cd240fc70da9"),
        ("v7-pauses-in-the-chain", "467207721e6fd905b1c35df42c559abd11070271cccdf04404fabb947593480d"),
    ]

    @Test("no released migration's text has changed: a store that ran it would be refused as edited")
    func migrationsUnedited() {
        let texts = StoreMigrations.all.map { ($0.name, SHA256.hash(data: Data($0.sqlite.utf8)).map { String(format: "%02x", $0) }.joined()) }
        #expect(texts.map(\.0) == Self.released.map(\.name), "a migration was added: pin its text here once it is released")
        for ((name, digest), pinned) in zip(texts, Self.released) where name == pinned.name {
            #expect(digest == pinned.sha256, "migration \(name) was edited in place; released migrations are never edited (stores that ran the old text would be refused): add a new migration instead")
        }
    }
}

@Suite("Store URLs as messages show them")
struct StoreURLRedactionTests {
    @Test("a URL's password is masked up to the last @, where the parser ends the credentials", arguments: [
        ("postgres://rollout:pw@db.internal:5432/audit", "postgres://rollout:***@db.internal:5432/audit"),
        ("postgres://rollout:p@ss@db.internal/audit", "postgres://rollout:***@db.internal/audit"),
        ("postgres://rollout@db.internal/audit", "postgres://rollout@db.internal/audit"),
        (".rollout/audit.sqlite", ".rollout/audit.sqlite"),
    ])
    func masked(_ url: String, _ shown: String) {
        #expect(StoreEngines.redacted(url) == shown)
    }
}
