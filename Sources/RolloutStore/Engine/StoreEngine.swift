/// Where a store's rows live: SQLite (one file, the embedded default) or PostgreSQL (one server for
/// many guard hosts, in its own target). Every store operation is written once against this interface.
///
/// Contract: `write` runs `body` in one transaction that no other writer of the same store (in this
/// process or another, on this host or another) runs beside: SQLite takes its write lock (`BEGIN
/// IMMEDIATE`), PostgreSQL locks the chain head's row. A write that throws changes nothing. `read`
/// sees one consistent snapshot.
public protocol StoreEngine: AnyObject, Sendable {
    /// The store, as people name it in messages (a path, or a URL without its password).
    var location: String { get }
    var dialect: SQLDialect { get }
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Brings the schema up to date with `migrations`, safely when many processes open a new store at
    /// once; throws `StoreError.incompatible` when a newer rollout wrote migrations this one lacks.
    func migrate(_ migrations: [StoreMigration]) throws
    /// Another connection to the same store, for reads that may come while this one's write
    /// transaction is open on the same thread (a read on the same connection would wait for itself).
    func separateConnection() throws -> any StoreEngine
    func close()
}

/// One named schema change, never edited once released; a new need is a new migration. Each engine
/// runs its own dialect of it.
public struct StoreMigration: Sendable {
    public var name: String
    public var sqlite: String
    /// PostgreSQL's text, when it is not SQLite's respelled (`StoreMigrations.postgres`).
    var postgresText: String?
    /// Respelled only when asked: a SQLite store never needs it, and respelling every migration cost a
    /// command about 1.4 ms of its start (`rollout status`, budget 30 ms).
    public var postgres: String { postgresText ?? StoreMigrations.postgres(sqlite) }

    init(name: String, sqlite: String, postgres: String? = nil) {
        self.name = name
        self.sqlite = sqlite
        postgresText = postgres
    }

    public func sql(for dialect: SQLDialect) -> String { dialect == .sqlite ? sqlite : postgres }
}
