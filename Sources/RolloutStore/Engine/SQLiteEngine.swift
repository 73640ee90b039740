import Foundation
import GRDB
import GRDBSQLite

/// The embedded engine: one SQLite file in WAL mode, through GRDB. Writers are serialised by SQLite's
/// write lock (`BEGIN IMMEDIATE`); one that waits longer than the busy timeout gets `StoreError.busy`
/// with nothing written.
public final class SQLiteEngine: StoreEngine, @unchecked Sendable {
    public let path: String
    public var location: String { path }
    public let dialect = SQLDialect.sqlite
    let queue: DatabaseQueue
    let busyTimeout: Double
    /// Folds the WAL into the file in the background (none for a read-only store).
    private var checkpointer: WALCheckpointer?

    /// What a commit survives before its writer is answered, as asked for when the store was opened (a
    /// read-only connection writes none: it carries the setting on to its twins, and applies nothing).
    public let durability: StoreDurability

    /// Opens (creating when `create` is set) the file at `path`. With `readOnly` nothing is written,
    /// not even a migration: a store on a read-only disk or an auditor's copy can still be read.
    public init(path: String, create: Bool, readOnly: Bool, busyTimeout: Double, durability: StoreDurability) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        self.durability = durability
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound(Self.missing(path)) }
            do {
                queue = try Self.openReadOnly(path: path, busyTimeout: busyTimeout)
            } catch let error as DatabaseError {
                throw Self.translate(error, path: path, busyTimeout: busyTimeout)
            }
            return
        }
        // Before anything is made: a new store is not put where others could replace it either.
        try Self.checkNotExposed(path)
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard create else { throw StoreError.notFound(Self.missing(path)) }
            let directory = (path as NSString).deletingLastPathComponent
            // Only rollout's own folder (.rollout/) is made; any other folder must exist.
            if !directory.isEmpty, AuditStore.isRolloutFolder(directory) {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } catch {
                    throw StoreError.io(path: directory, detail: "cannot create the folder: \(error.localizedDescription)")
                }
            }
            // A link to a file that does not exist would be followed by SQLite, which makes the file with its
            // own mode (0644 under the usual umask), wherever the link's owner chose (review 19, F3).
            var link = stat()
            if lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                throw StoreError.badLocation("--store \(path) is a link to \(target), which does not exist: rollout makes a new store only as a file of its own; give the store's own path")
            }
            // The store holds the clear values of redacted fields (kept for rollbacks) and the redaction key:
            // its owner's alone (SQLite gives its -wal and -shm files the same mode). Another process may
            // have made it meanwhile: then it is that one's.
            let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600)
            if fd >= 0 { Foundation.close(fd) }
        }
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(Double(BusyTimeout.milliseconds(busyTimeout)) / 1000)
        configuration.label = "rollout-store"
        configuration.prepareDatabase { db in
            // A large import is one transaction: a bigger page cache keeps its pages in memory
            // until the commit instead of spilling them to the WAL early (up to 64 MiB, used only when needed).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Checkpoints run beside the writers (WALCheckpointer); the writer's own is a far backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.backstopPages)")
        }
        do {
            queue = try Self.open(path: path, configuration: configuration, busyTimeout: busyTimeout)
            // WAL with synchronous=NORMAL: a committed transaction survives a process crash or kill; only a
            // power loss can lose the last commits, never corrupt the file. FULL syncs the log at every
            // commit, so a power loss loses none (`StoreDurability`). Set once the queue is open: GRDB sets
            // NORMAL itself when it turns WAL on, after `prepareDatabase`, so a setting made there is lost.
            let applied = try queue.inDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability.pragma)")
                #if os(macOS)
                // macOS's fsync leaves the data in the drive's cache; only F_FULLFSYNC survives a power loss.
                if durability == .full { try db.execute(sql: "PRAGMA fullfsync = ON") }
                #endif
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard applied == durability.sqliteLevel else {
                throw StoreError.io(path: path, detail: "SQLite kept synchronous=\(applied.map(String.init) ?? "?") where \(durability.pragma) was asked for; the store was not used")
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
        // Again once open, with the files SQLite made: one another process made meanwhile is checked too.
        try Self.checkNotExposed(path)
        checkpointer = WALCheckpointer(path: path)
    }

    deinit { checkpointer?.stop() }

    /// Refuses to write to a store that every user of the machine may read or write (a mode with any
    /// bit for others, on the file, its write-ahead log or its shared-memory index, through which another
    /// process could steer the writer's reads of the log), or that anyone but its writer could replace
    /// (`StorePlacement`: its folders' owners and modes, links followed): it holds the clear values of
    /// redacted fields (kept for rollbacks) and the redaction key. rollout makes its stores 0600; one an
    /// earlier rollout or another tool made 0644 was written to without a word (review 18, D). A group's
    /// bits are the owner's choice (a service reading the store as a group member) and are kept. Read-only
    /// opens (verify, an auditor's copy) are not refused: they add nothing to it.
    static func checkNotExposed(_ path: String) throws {
        try StorePlacement(path).check(writer: geteuid(), trusted: try StorePlacement.trustedOwners(), store: path)
    }

    /// The files' and folders' modes checked again while the store is open (`checkNotExposed`): a store
    /// opened by others since it was opened here is written to no more.
    func checkStillPrivate() throws {
        try Self.checkNotExposed(path)
    }

    /// Why a store that must exist was not found, and how to name the right one: a relative path is read
    /// from the folder the command runs in, which is often not the one the guard ran in.
    static func missing(_ path: String) -> String {
        let folder = FileManager.default.currentDirectoryPath
        let place = path.hasPrefix("/") ? path : "\(path) (in \(folder))"
        return "no store at \(place); give --store with the path of the store the guard writes (or set ROLLOUT_STORE), or run this in the folder "
            + "the guard runs in. A store is created by the first command that writes to it (rollout guard, rollout call, rollout audit import)"
    }

    /// Opens the file, retrying while it is busy. Turning a new file to WAL (`PRAGMA journal_mode = WAL`)
    /// can fail at once with SQLITE_BUSY, without SQLite's busy handler, while another process opening
    /// the same new store holds its lock: without the retry, one of four imports into a new store failed
    /// about one time in fifteen. Gives up after the busy timeout, as any other wait does.
    static func open(path: String, configuration: Configuration, busyTimeout: Double) throws -> DatabaseQueue {
        let deadline = Date().addingTimeInterval(busyTimeout)
        var pause = 0.005
        while true {
            do {
                return try DatabaseQueue(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 0.1)
            }
        }
    }

    /// A read-only connection. In WAL mode SQLite needs to create the `-shm` file even to read; where it
    /// cannot (a read-only disk), the file is opened as immutable, which needs no lock and no `-shm`.
    static func openReadOnly(path: String, busyTimeout: Double, immutableFallback: Bool = true) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(Double(BusyTimeout.milliseconds(busyTimeout)) / 1000)
        configuration.label = "rollout-store-readonly"
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        } catch where immutableFallback {
            // Immutable means the write-ahead log is not read: a log copied with its `-wal` (while in use)
            // would show only its older state, and verify would call that the chain. Refused instead.
            let wal = path + "-wal"
            if let size = (try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? NSNumber, size.intValue > 0 {
                throw StoreError.io(path: path, detail: "it has a write-ahead log (\(wal)) that cannot be read where the store cannot be written "
                    + "(a read-only disk), and without it the store shows an older state; nothing was read. Checkpoint the store where it is "
                    + "written (any rollout command that writes does), or copy it with its -wal to a writable place")
            }
            let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1"
            let queue = try DatabaseQueue(path: uri, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        }
    }

    static func translate(_ error: DatabaseError, path: String, busyTimeout: Double) -> Error {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: StoreError.busy(path: path, seconds: busyTimeout)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: StoreError.incompatible(path: path, detail: "not an SQLite database (\(error.message ?? "corrupt"))")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL: StoreError.io(path: path, detail: error.message ?? "\(error.resultCode)")
        default: error
        }
    }

    public func separateConnection() throws -> any StoreEngine {
        try SQLiteEngine(liveReaderOf: path, busyTimeout: busyTimeout)
    }

    /// A read-only connection that sees every later commit: never the immutable fallback of a read-only
    /// store, which does not read the write-ahead log and would miss what other connections write.
    private init(liveReaderOf path: String, busyTimeout: Double) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        durability = .normal
        do {
            queue = try Self.openReadOnly(path: path, busyTimeout: busyTimeout, immutableFallback: false)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try queue.read { db in try body(SQLiteConnection(db: db)) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteConnection(db: db))
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// Runs the missing migrations in one immediate transaction that first reads which have run, so any
    /// number of processes opening a new store at once all succeed: the first migrates, the others wait
    /// for its lock and then find nothing left to do. Applied names are kept in GRDB's `grdb_migrations`
    /// table, so stores written by the first version keep their history. Only takes the write lock when
    /// there is something to migrate, so opening a store never waits for another process's long import.
    public func migrate(_ migrations: [StoreMigration]) throws {
        let names = Set(migrations.map(\.name))
        let applied = try read { sql in try Self.applied(sql) }
        if !applied.isSubset(of: names) { throw StoreError.incompatible(path: path, detail: "it was written by a newer rollout") }
        guard !applied.isSuperset(of: names) else { return }
        if queue.configuration.readonly { return }
        try write { sql in
            try sql.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            let done = try Self.applied(sql)
            for migration in migrations where !done.contains(migration.name) {
                try (sql as! SQLiteConnection).db.execute(sql: migration.sqlite)
                try sql.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", [.text(migration.name)])
            }
        }
    }

    static func applied(_ sql: any SQLConnection) throws -> Set<String> {
        guard try sql.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'")?.int64 ?? 0 > 0 else { return [] }
        return Set(try sql.query("SELECT identifier FROM grdb_migrations").map { $0.string(0) })
    }

    public func close() {
        checkpointer?.stop()
        try? queue.close()
    }

    /// Folds the write-ahead log back into the file (after a large import, keeps the next readers fast).
    func checkpoint() {
        _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}

/// A GRDB connection as an `SQLConnection`: statements are prepared once and cached; values are bound
/// through SQLite's C API (the audit append and the import run one per event).
struct SQLiteConnection: SQLConnection {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        do {
            try RawStatement(statement: statement).execute(arguments, db: db)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.constraint(error.message ?? "constraint failed")
        }
    }

    func executeCountingChanges(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try execute(sql, arguments)
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try each(sql, arguments) { rows.append($0) }
        return rows
    }

    func each(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        var statement = try db.cachedStatement(sql: sql)
        // The cached statement is already stepping when `body` runs this same query again: use a fresh one.
        if sqlite3_stmt_busy(statement.sqliteStatement) != 0 { statement = try db.makeStatement(sql: sql) }
        do {
            try RawStatement(statement: statement).each(arguments, db: db, columns: statement.columnNames, body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.constraint(error.message ?? "constraint failed")
        }
    }

    /// As `each`, each row a view of SQLite's current row read in place (see `RawStatement.eachView`).
    func eachView(_ sql: String, _ arguments: [SQLValue], _ body: (SQLiteRowView) throws -> Void) throws {
        var statement = try db.cachedStatement(sql: sql)
        if sqlite3_stmt_busy(statement.sqliteStatement) != 0 { statement = try db.makeStatement(sql: sql) }
        try RawStatement(statement: statement).eachView(arguments, db: db, body)
    }

    func bulkInsert(table: String, columns: [String], rows: [[SQLValue]]) throws {
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
        for row in rows { try execute(sql, row) }
    }
}
