import Foundation
import GRDB
import RolloutCore
import RolloutPostgres
import RolloutStore
import Testing

/// The store engines a test runs on: SQLite always, PostgreSQL when `ROLLOUT_TEST_POSTGRES` names a
/// server (.ci/run starts a throwaway cluster and sets it). One parameterised suite covers both.
public enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    public var testDescription: String { rawValue }
}

public enum TestStores {
    /// The server tests may create databases on, when there is one.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ROLLOUT_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every engine this machine can test.
    public static var kinds: [StoreKind] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    private static let registered: Void = { PostgresEngine.register() }()

    /// A new SQLite store in the test process's scratch folder, removed with it when the tests end
    /// (`AuditStore.temporary` leaves its file in /tmp: hundreds per run).
    public static func temporarySQLite() throws -> AuditStore {
        try AuditStore(path: TestPaths.scratchFile("rollout") + ".sqlite")
    }

    /// The location of a new, empty store of `kind`: a fresh SQLite file, or a fresh database.
    public static func location(_ kind: StoreKind) throws -> String {
        switch kind {
        case .sqlite:
            return TestPaths.scratchFile("rollout") + ".sqlite"
        case .postgres:
            registered
            guard let url = postgresURL else { throw StoreError.badLocation("ROLLOUT_TEST_POSTGRES is not set") }
            var base = try PostgresLocation.parse(url)
            let name = "rollout_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            try PostgresAdmin.createDatabase(String(name), at: base)
            base.database = String(name)
            var text = "postgres://\(base.user)"
            if let password = base.password { text += ":" + (password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password) }
            return text + "@\(base.host):\(base.port)/\(name)?sslmode=\(base.sslMode.rawValue)"
        }
    }

    /// A SQLite store as the first version wrote it (schema v1, form-1 bodies; Tests/Fixtures/stores/v1-store.sql),
    /// not yet migrated: its path.
    public static func firstVersionStore(_ name: String = "v1") throws -> String {
        let sql = try String(contentsOfFile: TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/stores/v1-store.sql").path, encoding: .utf8)
        let path = TestPaths.temporaryDirectory(name).appendingPathComponent("v1.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
        try queue.close()
        // As the first version made it: its owner's alone (a store open to others is not written to).
        chmod(path, 0o600)
        return path
    }

    /// Runs `sql` on a SQLite store file as someone with write access to it would: no rollout writer, so no
    /// check of the chain key's records comes first.
    public static func edit(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    /// A new, empty store of `kind`.
    public static func make(_ kind: StoreKind, chainKey: ChainKey? = nil) throws -> AuditStore {
        try AuditStore(path: location(kind), chainKey: chainKey)
    }
}
