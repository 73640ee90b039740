import Foundation
import RolloutCore

/// The rollout store: the hash-chained audit log and the guard's ledgers (idempotency keys, cap usage,
/// dry runs, approvals, rollbacks), on one of two engines: a SQLite file (the default) or a PostgreSQL
/// database (`postgres://...`, for guards on many hosts; its engine registers from its own target).
///
/// Guarantees, on either engine: every write happens in one transaction that no other writer runs
/// beside, so a crash or kill loses no committed event and leaves no half-written one; the chain
/// continues from the stored head whatever process (or host) appends; a writer that waits longer than
/// the busy timeout gets `StoreError.busy` with nothing written.
public final class AuditStore: @unchecked Sendable {
    /// Where the store is, as people name it: a file path, or a URL without its password.
    public let path: String
    public let engine: any StoreEngine
    let busyTimeout: Double
    /// Signs every row this process appends (`ROLLOUT_CHAIN_KEY`), when set.
    public let chainKey: ChainKey?
    /// Whether this process has checked that its chain key (or its lack of one) is the store's.
    private let keyChecked = LockedFlag()
    /// The key's records (`markRecords`) as they were when last found to hold.
    private let checkedMarks = LockedText()
    /// When rollout's own schema was last found as its migrations made it.
    private let schemaChecked = SchemaCheck()
    private let anchorLock = NSLock()
    nonisolated(unsafe) private var anchorValue: ChainAnchor?
    /// A head written down outside the store (`rollout audit anchor`) that the checks behind approvals and
    /// rollbacks (`checkedEvents`) hold the log to: it must still hold that event with that hash, so a
    /// tail deleted with the head moved back, which no check inside the store can see, is caught.
    public var anchor: ChainAnchor? {
        get { anchorLock.withLock { anchorValue } }
        set { anchorLock.withLock { anchorValue = newValue } }
    }
    /// Shares commits between the writers that arrive together (`writeGrouped`).
    let groupCommit = GroupCommit()

    /// The URL scheme of `location`, when it is a URL (`postgres` for `postgres://...`).
    static func scheme(_ location: String) -> String? {
        guard let range = location.range(of: "://") else { return nil }
        let scheme = location[..<range.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) else { return nil }
        return scheme.lowercased()
    }

    /// Refuses what cannot be a store: a URL of an engine this build lacks, or a path whose folder does
    /// not exist (other than a `.rollout/` folder, which is made).
    public static func checkLocation(_ path: String) throws {
        if let scheme = scheme(path) {
            guard StoreEngines.factory(scheme) != nil else {
                let known = StoreEngines.schemes.map { "\($0)://" }.joined(separator: ", ")
                throw StoreError.badLocation("--store \(StoreEngines.redacted(path)): rollout cannot open \(scheme):// stores; give the path of a SQLite file" + (known.isEmpty ? "" : " or a \(known) URL"))
            }
            return
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

    /// The default location, `.rollout/audit.sqlite`, or `ROLLOUT_STORE` when set.
    public static var defaultPath: String {
        ProcessInfo.processInfo.environment["ROLLOUT_STORE"] ?? ".rollout/audit.sqlite"
    }

    /// Opens (creating when `create` is set) the store at `path` (a file, or a URL of a registered
    /// engine) and brings its schema up to date. With `readOnly`, nothing is written, not even a
    /// migration: a store on a read-only disk or an auditor's copy can still be verified and read.
    /// `durability` applies to a SQLite file; nil reads it from `ROLLOUT_SQLITE_SYNCHRONOUS` (`StoreDurability`).
    /// `busyTimeout` is in seconds; nil reads it from `ROLLOUT_BUSY_TIMEOUT` (`BusyTimeout`).
    public init(path: String, create: Bool = true, busyTimeout: Double? = nil,
                chainKey: ChainKey? = ChainKey.fromEnvironment, readOnly: Bool = false, durability: StoreDurability? = nil) throws {
        let busyTimeout = try BusyTimeout.resolve(busyTimeout)
        self.busyTimeout = busyTimeout
        self.chainKey = chainKey
        try Self.checkLocation(path)
        // Read for every store, so a value no store takes is refused on PostgreSQL too (which has its own).
        let durability = try durability ?? StoreDurability.fromEnvironment
        if let scheme = Self.scheme(path), let factory = StoreEngines.factory(scheme) {
            engine = try factory(path, create, readOnly, busyTimeout)
        } else {
            engine = try SQLiteEngine(path: path, create: create, readOnly: readOnly, busyTimeout: busyTimeout, durability: durability)
        }
        self.path = engine.location
        groupCommit.store = self
        do {
            try engine.migrate(StoreMigrations.all)
        } catch {
            engine.close()
            throw error
        }
    }

    /// Wraps an engine opened elsewhere (tests, benchmarks), migrating it.
    public init(engine: any StoreEngine, chainKey: ChainKey? = ChainKey.fromEnvironment, busyTimeout: Double? = nil) throws {
        self.engine = engine
        self.path = engine.location
        self.chainKey = chainKey
        self.busyTimeout = try BusyTimeout.resolve(busyTimeout)
        groupCommit.store = self
        try engine.migrate(StoreMigrations.all)
    }

    /// A second, read-only connection to the same SQLite file, for reading beside this one on another
    /// thread (one connection runs one statement at a time); nil on other engines, which are read
    /// through this store alone.
    public func readOnlyTwin() throws -> AuditStore? {
        guard let sqlite = engine as? SQLiteEngine else { return nil }
        return try AuditStore(path: sqlite.path, create: false, busyTimeout: busyTimeout, chainKey: chainKey, readOnly: true, durability: sqlite.durability)
    }

    /// The same store on a connection of its own, for reading while a write transaction of this one may
    /// be open on the calling thread (a read on this store's connection would then wait for itself).
    public func separateReader() throws -> AuditStore {
        try AuditStore(engine: engine.separateConnection(), chainKey: chainKey, busyTimeout: busyTimeout)
    }

    /// A store in a new file in the system's temporary directory, for benchmarks: the caller removes it
    /// (tests make theirs in their own scratch folder, removed when they end).
    public static func temporary(chainKey: ChainKey? = nil, durability: StoreDurability = .normal) throws -> AuditStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-\(UUID().uuidString).sqlite").path
        return try AuditStore(path: path, chainKey: chainKey, durability: durability)
    }

    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    /// The transaction sees the current chain head and moves it as events are appended.
    public func write<T>(_ body: (inout StoreTransaction) throws -> T) throws -> T {
        // The key's records as this transaction checked them: remembered only once it has committed. A
        // check whose transaction rolled back (a write that threw, a group run again) may have written a
        // record that is gone with it, so the next write checks again.
        var checked: String??
        let result = try engine.write { sql in
            // A writer whose key matches the store's stays matched; any other is checked on every write,
            // so a writer without the key stops once another process has signed the chain.
            if !keyChecked.value {
                if try checkChainKey(sql) { checked = .some(try Self.markRecords(sql)) }
            } else if chainKey != nil, try Self.markRecords(sql) != checkedMarks.value {
                // The key's records changed since they were checked (by another writer, or by hand): checked
                // again before this writer signs another row, which would make a moved mark look right.
                _ = try checkChainKey(sql, legacy: false)
                checked = .some(try Self.markRecords(sql))
            }
            try checkSchema(sql)
            let started = ProcessInfo.processInfo.systemUptime
            var transaction = try StoreTransaction(sql: sql, chainKey: chainKey, anchor: anchor)
            let result = try body(&transaction)
            // A long transaction (an import) checks the store's files and folders again before it commits.
            if ProcessInfo.processInfo.systemUptime - started >= SchemaCheck.interval { try (engine as? SQLiteEngine)?.checkStillPrivate() }
            try transaction.saveHead()
            return result
        }
        if let marks = checked {
            checkedMarks.set(marks)
            keyChecked.set()
        }
        return result
    }

    /// Refuses the write when rollout's own schema is not as its migrations made it (`StoreSchema`). Compared
    /// again whenever SQLite's schema cookie moved since the last comparison held, and at least once a
    /// second: an edit through `PRAGMA writable_schema` leaves the cookie as it was (this connection then
    /// keeps the schema it loaded, but a reload would take the edit). Otherwise one pragma per transaction.
    /// A SQLite store's files and folders are checked at the same times (`SQLiteEngine.checkStillPrivate`).
    /// PostgreSQL has no cookie: its catalogs are compared at most once a second (`PostgresSchemaCheck`).
    private func checkSchema(_ sql: any SQLConnection) throws {
        guard sql.dialect == .sqlite else {
            let now = ProcessInfo.processInfo.systemUptime
            guard sql.dialect == .postgres, !schemaChecked.holds(version: 0, now: now) else { return }
            let differences = try StoreSchema.differences(sql)
            guard differences.isEmpty else { throw StoreError.schemaEdited(path: path, differences: differences) }
            schemaChecked.record(version: 0, now: now)
            return
        }
        let version = try sql.scalar("PRAGMA schema_version")?.int64 ?? 0
        let now = ProcessInfo.processInfo.systemUptime
        if schemaChecked.holds(version: version, now: now) { return }
        let differences = try StoreSchema.differences(sql)
        guard differences.isEmpty else { throw StoreError.schemaEdited(path: path, differences: differences) }
        // Its files' modes too: a store made readable by others while this writer had it open.
        try (engine as? SQLiteEngine)?.checkStillPrivate()
        schemaChecked.record(version: version, now: now)
    }

    /// A store whose chain is signed takes rows only from a writer with the same key, and a writer with
    /// a key signs a chain from its next row on: a row added without the key, or under another, would
    /// be a hole in the signatures.
    /// Whether the writer's key is the store's, for good (nil and an unsigned store can change).
    /// `legacy`: an unsigned mark of an earlier rollout may be signed (not when this writer saw the records
    /// hold before: then they were changed).
    private func checkChainKey(_ sql: any SQLConnection, legacy: Bool = true) throws -> Bool {
        let stored = try sql.scalar("SELECT value FROM store_meta WHERE key = 'chain_key_id'")?.string
        switch (chainKey, stored) {
        case (nil, nil): return false
        case (nil, .some):
            throw StoreError.chainKey("the chain of \(path) is signed: set ROLLOUT_CHAIN_KEY to the key it is signed with before writing to it")
        case (let key?, nil):
            // A chain that holds signed rows, or a signing mark, had its key recorded: the record was removed.
            // Signing it anew from the head would pass the rows before unchecked.
            let marked = try sql.scalar("SELECT count(*) FROM store_meta WHERE key IN ('chain_key_from', 'chain_key_from_mac')")?.int64 ?? 0
            let signed = try AuditStore.columns(sql).contains("mac")
                && sql.scalar("SELECT 1 FROM audit_events WHERE mac IS NOT NULL LIMIT 1") != nil
            if marked > 0 || signed {
                throw StoreError.chainKey("the chain of \(path) holds signed events or a signing mark, and the record of its chain key was removed; nothing was written (rollout audit verify --anchor FILE says whether the log is the one anchored)")
            }
            let next = (try sql.scalar("SELECT seq FROM chain_head WHERE id = 1")?.int64 ?? 0) + 1
            try sql.execute("INSERT INTO store_meta (key, value) VALUES ('chain_key_id', ?), ('chain_key_from', ?), ('chain_key_from_mac', ?)",
                            [.text(key.id), .text(String(next)), .text(key.mac(keyedFrom: next))])
            return true
        case (let key?, let id?):
            if key.id != id {
                throw StoreError.chainKey("ROLLOUT_CHAIN_KEY is not the key the chain of \(path) is signed with; nothing was written")
            }
            // A signing mark that does not hold (moved, its signature gone or wrong) is not signed over: the
            // next signed row would make a moved mark look right.
            func setting(_ name: String) throws -> String? { try sql.scalar("SELECT value FROM store_meta WHERE key = ?", [.text(name)])?.string }
            let head = try sql.scalar("SELECT seq FROM chain_head WHERE id = 1")?.int64 ?? 0
            let from = try setting("chain_key_from").flatMap { Int64($0) }, mac = try setting("chain_key_from_mac")
            if let problem = ChainKeyMarks.problem(key: key, storedKeyID: id, keyedFrom: from, keyedFromMAC: mac, head: head) {
                // A store an earlier rollout marked without signing the mark, whose key never signed a row: the
                // mark sits just past the head, and nothing before it was ever checked. Signing it there is
                // what that rollout would do now; with a signed row anywhere, the mark was moved.
                let signed = try sql.scalar("SELECT 1 FROM audit_events WHERE mac IS NOT NULL LIMIT 1") != nil
                if legacy, mac == nil, from == head + 1, !signed {
                    try sql.execute("INSERT INTO store_meta (key, value) VALUES ('chain_key_from_mac', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                    [.text(key.mac(keyedFrom: head + 1))])
                    return true
                }
                throw StoreError.chainKey("the record of where the chain of \(path) is signed from does not hold (\(problem.detail)); nothing was written: run rollout audit verify")
            }
            return true
        }
    }

    /// The chain key's records in store_meta, as one text: one statement for every keyed write.
    static func markRecords(_ sql: any SQLConnection) throws -> String? {
        try sql.query("SELECT key, value FROM store_meta WHERE key IN ('chain_key_id', 'chain_key_from', 'chain_key_from_mac') ORDER BY key")
            .map { "\($0.string(0))=\($0.string(1))" }.joined(separator: "|")
    }

    /// The first event signed with the chain key, when the chain is signed.
    public func chainKeyedFrom() throws -> Int64? {
        try meta("chain_key_from").flatMap { Int64($0) }
    }

    /// Runs `body` with a read-only view of the store.
    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try engine.read(body)
    }

    /// Appends events in one transaction; returns them with their sequence numbers.
    @discardableResult
    public func append(_ events: [AuditEvent]) throws -> [AuditEvent] {
        try write { tx in try events.map { try tx.append($0) } }
    }

    public func head() throws -> ChainHead {
        try read { sql in try StoreTransaction.readHead(sql) }
    }

    public func count() throws -> Int {
        try read { sql in Int(try sql.scalar("SELECT count(*) FROM audit_events")?.int64 ?? 0) }
    }

    public func event(seq: Int64) throws -> AuditEvent? {
        try read { sql in try Self.event(seq: seq, in: sql) }
    }

    /// The event `seq` read inside a transaction the caller holds.
    /// Throws `StoreError.unreadableEvent` when its body is no audit event.
    public static func event(seq: Int64, in sql: any SQLConnection) throws -> AuditEvent? {
        guard let row = try sql.queryOne("SELECT body, tenant, tool FROM audit_events WHERE seq = ?", [.int(seq)]) else { return nil }
        return try decodeBody(row.optionalString(0) ?? "", seq: seq, tenant: row.optionalString(1), tool: row.optionalString(2))
    }

    /// A value kept in the store's settings table.
    public func meta(_ key: String) throws -> String? {
        try read { sql in
            guard try sql.tableExists("store_meta") else { return nil }
            return try sql.scalar("SELECT value FROM store_meta WHERE key = ?", [.text(key)])?.string
        }
    }

    /// Sets a value in the store's settings table, unless `ifAbsent` and it is already set.
    public func setMeta(_ key: String, _ value: String, ifAbsent: Bool = false) throws {
        try write { tx in
            try tx.sql.execute(ifAbsent ? "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                                        : "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               [.text(key), .text(value)])
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
        try read { sql in
            var query = "SELECT seq, body FROM audit_events WHERE seq > ?"
            var arguments: [SQLValue] = [.int(seq)]
            if let tenant {
                query += " AND tenant = ?"
                arguments.append(.text(tenant))
            }
            query += " ORDER BY seq LIMIT ?"
            arguments.append(.int(Int64(limit)))
            return try sql.query(query, arguments).map { row in try Self.decodeBody(row.string(1), seq: row.int(0)) }
        }
    }

    /// The last `count` events, oldest first.
    public func lastEvents(_ count: Int, tenant: String? = nil) throws -> [AuditEvent] {
        try read { sql in
            var query = "SELECT seq, body FROM audit_events"
            var arguments: [SQLValue] = []
            if let tenant {
                query += " WHERE tenant = ?"
                arguments.append(.text(tenant))
            }
            query += " ORDER BY seq DESC LIMIT ?"
            arguments.append(.int(Int64(count)))
            return try sql.query(query, arguments).reversed().map { row in try Self.decodeBody(row.string(1), seq: row.int(0)) }
        }
    }

    /// The event a stored body holds; `StoreError.unreadableEvent` (with the row's `tenant` and `tool`
    /// where the caller read them) when it holds none.
    static func decodeBody(_ body: String, seq: Int64, tenant: String? = nil, tool: String? = nil) throws -> AuditEvent {
        do {
            var event = try AuditEvent(json: try JSONValue.parse(body))
            event.seq = seq
            return event
        } catch {
            throw StoreError.unreadableEvent(seq: seq, tenant: tenant, tool: tool, detail: "its stored body is no audit event: \(error)")
        }
    }
}

/// One write transaction on the store: append events to the chain, and reach the tables of the
/// guard's ledgers and the demo domain through `sql`.
public struct StoreTransaction {
    public let sql: any SQLConnection
    public private(set) var head: ChainHead
    private let startHead: ChainHead
    let chainKey: ChainKey?
    /// The store's anchor, when one was given (`AuditStore.anchor`).
    let anchor: ChainAnchor?
    /// Rows of an import, sent in bulk (PostgreSQL's COPY) rather than one insert each.
    private var pending: [[SQLValue]] = []
    static let columns = ["seq", "ts", "ts_ms", "tenant", "actor", "session", "tool", "model", "operation", "row_count", "decision", "approver",
                          "idempotency_key", "reason", "effect", "shape", "body", "prev_hash", "hash", "form", "mac"]

    init(sql: any SQLConnection, chainKey: ChainKey? = nil, anchor: ChainAnchor? = nil) throws {
        self.sql = sql
        self.chainKey = chainKey
        self.anchor = anchor
        head = try Self.readHead(sql)
        startHead = head
    }

    static func readHead(_ sql: any SQLConnection) throws -> ChainHead {
        guard let row = try sql.queryOne("SELECT seq, hash FROM chain_head WHERE id = 1") else { return .empty }
        return ChainHead(seq: row.int(0), hash: row.string(1))
    }

    /// Appends `event` after the current head: gives it the next sequence number, stores its canonical
    /// body and links it by hash. Returns the event with its `seq`.
    public mutating func append(_ event: AuditEvent) throws -> AuditEvent {
        var stored = event
        stored.seq = head.seq + 1
        try flushPending()
        try sql.execute(Self.insertSQL,
                        row(stored, body: stored.canonicalBytes))
        return stored
    }

    /// Appends an event whose canonical body was already made for the next sequence number (an import):
    /// held and sent in batches, on PostgreSQL through COPY.
    mutating func append(prepared: PreparedEvent) throws {
        precondition(prepared.seq == head.seq + 1, "prepared events must arrive in sequence")
        let values = link(prepared.values, seq: prepared.seq, body: prepared.body)
        if sql.dialect == .sqlite {
            try sql.execute(Self.insertSQL, values)
        } else {
            pending.append(values)
            if pending.count >= 20_000 { try flushPending() }
        }
    }

    /// The values of one audit row, linked to the current head; moves the head.
    private mutating func row(_ stored: AuditEvent, body bytes: [UInt8]) -> [SQLValue] {
        link(Self.values(stored, body: bytes), seq: stored.seq, body: bytes)
    }

    /// The append's statement, written once (it was joined anew for every event, and the statement
    /// cache hashed a new string each time).
    static let insertSQL = "INSERT INTO audit_events (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"

    /// Positions of the chain's values in `columns`.
    private static let prevHashColumn = 17, hashColumn = 18, macColumn = 20

    /// The values of an audit row that do not depend on the chain (those are null): pure, so an
    /// import makes them on every core.
    static func values(_ stored: AuditEvent, body bytes: [UInt8]) -> [SQLValue] {
        [
            .int(stored.seq), .text(Timestamp.format(stored.ts)), .int(Timestamp.millis(stored.ts)),
            .text(stored.tenant), .text(stored.actor), SQLValue(stored.session), .text(stored.tool), SQLValue(stored.model),
            SQLValue(stored.operation), .int(Int64(stored.rowCount)), .text(stored.decision), SQLValue(stored.approver),
            SQLValue(stored.idempotencyKey), SQLValue(stored.reason), SQLValue(stored.effectKey), SQLValue(stored.shape), .bytes(bytes),
            .null, .null, .int(Int64(CanonicalForm.current)), .null,
        ]
    }

    /// Fills in the chain's values of row `seq`, linked to the current head; moves the head.
    private mutating func link(_ values: [SQLValue], seq: Int64, body bytes: [UInt8]) -> [SQLValue] {
        var values = values
        let hash = HashChain.hash(previous: head.hash, body: bytes)
        values[Self.prevHashColumn] = .text(head.hash)
        values[Self.hashColumn] = .text(hash)
        values[Self.macColumn] = SQLValue(chainKey?.mac(hash: hash))
        head = ChainHead(seq: seq, hash: hash)
        return values
    }

    private mutating func flushPending() throws {
        guard !pending.isEmpty else { return }
        try sql.bulkInsert(table: "audit_events", columns: Self.columns, rows: pending)
        pending.removeAll(keepingCapacity: true)
    }

    mutating func saveHead() throws {
        try flushPending()
        guard head != startHead else { return }
        try sql.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", [.int(head.seq), .text(head.hash)])
    }
}

/// A text set and read from any thread.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var state: String?
    var value: String? { lock.withLock { state } }
    func set(_ text: String?) { lock.withLock { state = text } }
}

/// When a writer last found the store's schema as rollout's migrations made it: SQLite's schema cookie
/// then, and the time (seconds of uptime).
final class SchemaCheck: @unchecked Sendable {
    /// How long a comparison holds while the cookie stays the same.
    static let interval = 1.0
    private let lock = NSLock()
    private var version: Int64?
    private var at = 0.0

    func holds(version current: Int64, now: Double) -> Bool {
        lock.withLock { version == current && now - at < Self.interval }
    }

    func record(version current: Int64, now: Double) {
        lock.withLock {
            version = current
            at = now
        }
    }
}

/// A flag set once, read from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = false
    var value: Bool { lock.withLock { state } }
    func set() { lock.withLock { state = true } }
}
