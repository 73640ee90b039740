import Foundation
import GRDB
import RolloutCore

/// The rollout store: one SQLite file (WAL mode) holding the hash-chained audit log and the guard's
/// ledgers (idempotency keys, cap usage, dry runs, approvals, rollbacks).
///
/// Guarantees: every write happens in one `BEGIN IMMEDIATE` transaction, so a crash or kill loses no
/// committed event and leaves no half-written one; the chain continues from the stored head whatever
/// process appends; two processes writing at once are serialised by SQLite's lock, and one that waits
/// longer than the busy timeout gets `StoreError.busy` with nothing written.
public final class AuditStore: @unchecked Sendable {
    public let path: String
    let queue: DatabaseQueue
    let busyTimeout: Double
    /// Signs every row this process appends (`ROLLOUT_CHAIN_KEY`), when set.
    public let chainKey: ChainKey?
    /// Whether this process has checked that its chain key (or its lack of one) is the store's.
    private let keyChecked = LockedFlag()

    /// How long a writer waits for another process's lock: `ROLLOUT_BUSY_TIMEOUT` seconds, else 5.
    public static var defaultBusyTimeout: Double {
        ProcessInfo.processInfo.environment["ROLLOUT_BUSY_TIMEOUT"].flatMap(Double.init) ?? 5
    }

    /// The default location, `.rollout/audit.sqlite`, or `ROLLOUT_STORE` when set.
    /// Refuses what cannot be a store path: a URL (`postgres://…`, which needs the PostgreSQL engine) or a
    /// path whose folder does not exist (other than a `.rollout/` folder, which is made).
    public static func checkLocation(_ path: String) throws {
        if let range = path.range(of: "://"), path[..<range.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }),
           !path[..<range.lowerBound].isEmpty {
            let scheme = path[..<range.lowerBound].lowercased()
            throw StoreError.badLocation("--store \(path): rollout cannot open \(scheme):// stores; give the path of a SQLite file")
        }
        if path.isEmpty { throw StoreError.badLocation("--store is empty; give the path of a SQLite file") }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !isRolloutFolder(directory), !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw StoreError.badLocation("--store \(path): the folder \(directory) does not exist; create it first, or fix the path")
        }
    }

    /// rollout's own folder (`.rollout`, wherever it is), which is made when missing.
    static func isRolloutFolder(_ directory: String) -> Bool {
        (directory as NSString).lastPathComponent == ".rollout"
    }

    public static var defaultPath: String {
        ProcessInfo.processInfo.environment["ROLLOUT_STORE"] ?? ".rollout/audit.sqlite"
    }

    /// Opens (creating when `create` is set) the store at `path` and brings its schema up to date. With
    /// `readOnly`, nothing is written, not even a migration: a store on a read-only disk or an auditor's
    /// copy can still be verified and read.
    public init(path: String, create: Bool = true, busyTimeout: Double = AuditStore.defaultBusyTimeout,
                chainKey: ChainKey? = ChainKey.fromEnvironment, readOnly: Bool = false) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        self.chainKey = chainKey
        try Self.checkLocation(path)
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound("no store at \(path)") }
            do {
                queue = try Self.openReadOnly(path: path, busyTimeout: busyTimeout)
                if try queue.read({ try StoreMigrations.superseded($0) }) {
                    throw StoreError.incompatible(path: path, detail: "it was written by a newer rollout")
                }
            } catch let error as DatabaseError {
                throw Self.translate(error, path: path, busyTimeout: busyTimeout)
            }
            return
        }
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard create else { throw StoreError.notFound("no store at \(path); it is created by the first command that writes (e.g. rollout audit import)") }
            let directory = (path as NSString).deletingLastPathComponent
            // Only the default folder (.rollout/) is made; any other folder must exist (a typo in --store
            // would otherwise scatter stores).
            if !directory.isEmpty, Self.isRolloutFolder(directory) {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StoreError.io(path: directory, detail: "cannot create the folder: \(error.localizedDescription)")
                }
            }
        }
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "rollout-store"
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL: a committed transaction survives a process crash or kill;
            // only a power loss can lose the last commits, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A large import is one transaction: a bigger page cache keeps its pages in memory
            // until the commit instead of spilling them to the WAL early (up to 64 MiB, used only when needed).
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let (superseded, complete) = try queue.read { db in
                (try StoreMigrations.superseded(db), try StoreMigrations.complete(db))
            }
            if superseded { throw StoreError.incompatible(path: path, detail: "it was written by a newer rollout") }
            // Only take the write lock when there is something to migrate, so opening a store never
            // waits for another process's long import.
            if !complete { try StoreMigrations.migrate(queue) }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// A read-only connection. In WAL mode SQLite needs to create the `-shm` file even to read; where it
    /// cannot (a read-only disk), the file is opened as immutable, which needs no lock and no `-shm`.
    static func openReadOnly(path: String, busyTimeout: Double) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "rollout-store-readonly"
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        } catch {
            let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1"
            let queue = try DatabaseQueue(path: uri, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        }
    }

    /// A store in a new temporary file, for fuzz runs and tests.
    public static func temporary(chainKey: ChainKey? = nil) throws -> AuditStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-\(UUID().uuidString).sqlite").path
        return try AuditStore(path: path, chainKey: chainKey)
    }

    static func translate(_ error: DatabaseError, path: String, busyTimeout: Double) -> Error {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: StoreError.busy(path: path, seconds: busyTimeout)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: StoreError.incompatible(path: path, detail: "not an SQLite database (\(error.message ?? "corrupt"))")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL: StoreError.io(path: path, detail: error.message ?? "\(error.resultCode)")
        default: error
        }
    }

    /// Runs `body` in one immediate write transaction: committed when it returns, rolled back when it
    /// throws. The transaction sees the current chain head and moves it as events are appended.
    public func write<T>(_ body: (inout StoreTransaction) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    if !keyChecked.value {
                        try checkChainKey(db)
                        keyChecked.set()
                    }
                    var transaction = try StoreTransaction(db: db, chainKey: chainKey)
                    result = try body(&transaction)
                    try transaction.saveHead()
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// A store whose chain is signed takes rows only from a writer with the same key, and a writer with
    /// a key signs a chain from its next row on: a row added without the key, or under another, would
    /// be a hole in the signatures.
    private func checkChainKey(_ db: Database) throws {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'chain_key_id'")
        switch (chainKey, stored) {
        case (nil, nil): return
        case (nil, .some):
            throw StoreError.chainKey("the chain of \(path) is signed: set ROLLOUT_CHAIN_KEY to the key it is signed with before writing to it")
        case (let key?, nil):
            let next = (try Int64.fetchOne(db, sql: "SELECT seq FROM chain_head WHERE id = 1") ?? 0) + 1
            try db.execute(sql: "INSERT INTO store_meta (key, value) VALUES ('chain_key_id', ?), ('chain_key_from', ?)", arguments: [key.id, String(next)])
        case (let key?, let id?):
            if key.id != id {
                throw StoreError.chainKey("ROLLOUT_CHAIN_KEY is not the key the chain of \(path) is signed with; nothing was written")
            }
        }
    }

    /// The first event signed with the chain key, when the chain is signed.
    public func chainKeyedFrom() throws -> Int64? {
        try meta("chain_key_from").flatMap { Int64($0) }
    }

    /// Runs `body` with a read-only view of the store.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// Appends events in one transaction; returns them with their sequence numbers.
    @discardableResult
    public func append(_ events: [AuditEvent]) throws -> [AuditEvent] {
        try write { tx in try events.map { try tx.append($0) } }
    }

    public func head() throws -> ChainHead {
        try read { db in try StoreTransaction.readHead(db) }
    }

    public func count() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events") ?? 0 }
    }

    public func event(seq: Int64) throws -> AuditEvent? {
        try read { db in try Self.event(seq: seq, in: db) }
    }

    /// The event `seq` read inside a transaction the caller holds.
    public static func event(seq: Int64, in db: Database) throws -> AuditEvent? {
        guard let body = try String.fetchOne(db.cachedStatement(sql: "SELECT body FROM audit_events WHERE seq = ?"), arguments: [seq]) else { return nil }
        return try decodeBody(body, seq: seq)
    }

    /// A value kept in the store's settings table.
    public func meta(_ key: String) throws -> String? {
        try read { db in
            guard try db.tableExists("store_meta") else { return nil }
            return try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = ?", arguments: [key])
        }
    }

    /// Sets a value in the store's settings table, unless `ifAbsent` and it is already set.
    public func setMeta(_ key: String, _ value: String, ifAbsent: Bool = false) throws {
        try write { tx in
            try tx.db.execute(sql: ifAbsent ? "INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?)"
                                            : "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    /// The store's redaction key: 32 random bytes made at its first use and kept in the store, so that
    /// a redacted value (`hmac:` and 12 hex digits) compares equal across its reports but cannot be
    /// guessed from a list of likely secrets by anyone who does not hold the store.
    public func redactionKey() throws -> [UInt8] {
        if let hex = try meta("redaction_key"), let key = Self.bytes(hex: hex), key.count == 32 { return key }
        var fresh = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in fresh.indices { fresh[i] = UInt8.random(in: 0...255, using: &generator) }
        try setMeta("redaction_key", fresh.hexString, ifAbsent: true)
        guard let hex = try meta("redaction_key"), let key = Self.bytes(hex: hex) else {
            throw StoreError.io(path: path, detail: "the redaction key could not be kept")
        }
        return key
    }

    static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = hexValue(chars[i]), let low = hexValue(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x57
        case 0x41...0x46: c - 0x37
        default: nil
        }
    }

    /// Events after `seq`, oldest first, optionally for one tenant.
    public func events(after seq: Int64 = 0, tenant: String? = nil, limit: Int = 1000) throws -> [AuditEvent] {
        try read { db in
            var sql = "SELECT seq, body FROM audit_events WHERE seq > ?"
            var arguments: StatementArguments = [seq]
            if let tenant {
                sql += " AND tenant = ?"
                arguments += [tenant]
            }
            sql += " ORDER BY seq LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                try Self.decodeBody(row["body"], seq: row["seq"])
            }
        }
    }

    /// The last `count` events, oldest first.
    public func lastEvents(_ count: Int, tenant: String? = nil) throws -> [AuditEvent] {
        try read { db in
            var sql = "SELECT seq, body FROM audit_events"
            var arguments: StatementArguments = []
            if let tenant {
                sql += " WHERE tenant = ?"
                arguments += [tenant]
            }
            sql += " ORDER BY seq DESC LIMIT ?"
            arguments += [count]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).reversed().map { row in
                try Self.decodeBody(row["body"], seq: row["seq"])
            }
        }
    }

    static func decodeBody(_ body: String, seq: Int64) throws -> AuditEvent {
        do {
            var event = try AuditEvent(json: try JSONValue.parse(body))
            event.seq = seq
            return event
        } catch {
            throw StoreError.incompatible(path: "audit event \(seq)", detail: "its stored body cannot be read: \(error)")
        }
    }
}

/// One write transaction on the store: append events to the chain, and reach the tables of the
/// guard's ledgers and the demo domain through `db`.
public struct StoreTransaction {
    public let db: Database
    public private(set) var head: ChainHead
    private let startHead: ChainHead

    private let chainKey: ChainKey?

    init(db: Database, chainKey: ChainKey? = nil) throws {
        self.db = db
        self.chainKey = chainKey
        head = try Self.readHead(db)
        startHead = head
    }

    static func readHead(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM chain_head WHERE id = 1")) else { return .empty }
        return ChainHead(seq: row["seq"], hash: row["hash"])
    }

    /// Appends `event` after the current head: gives it the next sequence number, stores its canonical
    /// body and links it by hash. Returns the event with its `seq`.
    public mutating func append(_ event: AuditEvent) throws -> AuditEvent {
        var stored = event
        stored.seq = head.seq + 1
        try insert(stored, body: stored.canonicalBytes)
        return stored
    }

    /// Appends an event whose canonical body was already made for the next sequence number.
    mutating func append(prepared: PreparedEvent) throws {
        precondition(prepared.event.seq == head.seq + 1, "prepared events must arrive in sequence")
        try insert(prepared.event, body: prepared.body)
    }

    private mutating func insert(_ stored: AuditEvent, body bytes: [UInt8]) throws {
        let hash = HashChain.hash(previous: head.hash, body: bytes)
        let statement = try db.cachedStatement(sql: """
            INSERT INTO audit_events (seq, ts, ts_ms, tenant, actor, session, tool, model, operation, row_count,
                decision, approver, idempotency_key, reason, effect, shape, body, prev_hash, hash, form, mac)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(CanonicalForm.current), ?)
            """)
        try RawStatement(statement: statement).execute([
            .int(stored.seq), .text(Timestamp.format(stored.ts)), .int(Int64((stored.ts.timeIntervalSince1970 * 1000).rounded(.down))),
            .text(stored.tenant), .text(stored.actor), .init(stored.session), .text(stored.tool), .init(stored.model),
            .init(stored.operation), .int(Int64(stored.rowCount)), .text(stored.decision), .init(stored.approver),
            .init(stored.idempotencyKey), .init(stored.reason), .init(stored.effectKey), .init(stored.shape), .bytes(bytes), .text(head.hash), .text(hash),
            .init(chainKey?.mac(hash: hash)),
        ], db: db)
        head = ChainHead(seq: stored.seq, hash: hash)
    }

    mutating func saveHead() throws {
        guard head != startHead else { return }
        try db.cachedStatement(sql: "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1").execute(arguments: [head.seq, head.hash])
    }
}

/// A flag set once, read from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = false
    var value: Bool { lock.withLock { state } }
    func set() { lock.withLock { state = true } }
}
