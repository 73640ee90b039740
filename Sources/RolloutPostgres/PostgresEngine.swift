import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RolloutStore

/// The store on a PostgreSQL database, for guards on many hosts: one chain, one idempotency ledger,
/// one set of caps and one approval queue, all rows of the one database.
///
/// Writers are serialised by the database, never by a process: every write transaction first locks
/// the chain head's row (`SELECT ... FOR UPDATE`), so appends from any host form one sequence, and a
/// cap or a key checked in the transaction holds until it commits. A writer that waits for that lock
/// longer than the busy timeout (`lock_timeout`) gets `StoreError.busy` with nothing written.
/// Migrations run under an advisory lock, so many hosts opening a new database at once all succeed.
/// A connection that fails is reopened for the next transaction; the failed one changed nothing.
///
/// The store's tables are in one schema, pinned as the whole search path of every connection (`pin`):
/// the one the URL names (`?schema=`), or else the one on the server's search path that holds a store, or,
/// for a new store, the first schema on it. Left to the default path (`"$user", public`), a schema named
/// after the user, made after the store, took the names of the store's tables: the next writer made them
/// again there and wrote a second, empty store, whose ledgers knew none of the first's keys, caps or
/// approvals.
public final class PostgresEngine: StoreEngine, @unchecked Sendable {
    public let target: PostgresLocation
    public var location: String { target.redacted }
    public let dialect = SQLDialect.postgres
    let busyTimeout: Double
    /// One transaction at a time on the one connection.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    /// The store's schema once a connection has found it (or the URL's), kept for every later connection.
    private var schema: String?
    static let logger = Logger(label: "rollout.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The advisory lock migrations run under (any number; the same on every host).
    static let migrationLock: Int64 = 0x726f6c6c6f7574

    /// Registers the `postgres://` and `postgresql://` schemes with the store.
    public static func register() {
        for scheme in ["postgres", "postgresql"] {
            StoreEngines.register(scheme: scheme) { url, _, _, busyTimeout in
                try PostgresEngine(location: try PostgresLocation.parse(url), busyTimeout: busyTimeout)
            }
        }
    }

    /// Connects at once, so a wrong host, user or password is an error here, with the server's words.
    public convenience init(location: PostgresLocation, busyTimeout: Double = 5) throws {
        try self.init(location: location, busyTimeout: busyTimeout, schema: location.schema)
    }

    /// Connects with `schema` as the store's schema, when it is known.
    init(location: PostgresLocation, busyTimeout: Double, schema: String?) throws {
        target = location
        self.busyTimeout = busyTimeout
        self.schema = schema
        lock.lock()
        defer { lock.unlock() }
        _ = try connected()
    }

    deinit { close() }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if let connection { try? connection.close().wait() }
        connection = nil
    }

    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch target.sslMode {
            case .disable: tls = .disable
            case .prefer, .require:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                let context = try NIOSSLContext(configuration: configuration)
                tls = target.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw StoreError.server(location: location, message: "cannot set up TLS: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password, database: target.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        do {
            let fresh = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                       id: 1, logger: Self.logger).wait()
            // Waiting for another host's write lock longer than the busy timeout is `busy`, not a hang.
            _ = try fresh.query(PostgresQuery(unsafeSQL: "SET lock_timeout = '\(BusyTimeout.milliseconds(busyTimeout))ms'"), logger: Self.logger).wait()
            do {
                try pin(fresh)
            } catch {
                try? fresh.close().wait()
                throw error
            }
            connection = fresh
            return fresh
        } catch {
            throw translate(error)
        }
    }

    /// Sets `connection`'s search path to the store's schema alone (PostgreSQL's own catalog is searched
    /// first whatever the path): the schema already found, or the URL's (which must exist), or the one
    /// schema on the connection's search path that holds rollout's tables, or, where none does, the first
    /// schema on it, where a new store is made. Two stores on the path are an error naming both: which one
    /// the guards of other hosts write to cannot be told from here.
    private func pin(_ connection: PostgresConnection) throws {
        func rows(_ sql: String) throws -> [String?] {
            var found: [String?] = []
            for row in try connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger).wait() {
                found.append(try row.decode(String?.self))
            }
            return found
        }
        let chosen: String
        if let schema {
            guard try !rows("SELECT nspname::text FROM pg_namespace WHERE nspname = \(Self.literal(schema))").isEmpty else {
                throw StoreError.badLocation("the store \(location): schema \(Self.quote(schema)) does not exist in database \(Self.quote(target.database)) (create it, or name another with ?schema=)")
            }
            chosen = schema
        } else {
            let stores = try rows("""
                SELECT s.name::text FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(name, pos)
                WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname = s.name AND c.relname = 'rollout_migrations')
                ORDER BY s.pos
                """).compactMap { $0 }
            if stores.count > 1 {
                let named = stores.map(Self.quote).joined(separator: " and ")
                throw StoreError.badLocation("the store \(location): the schemas \(named) on this connection's search path both hold rollout's tables, so which one is the store cannot be told; name it in the URL with ?schema= (the one your other guards write to), and drop the other once you have looked at what it holds")
            }
            if let store = stores.first {
                chosen = store
            } else if let first = try rows("SELECT current_schema()::text").first ?? nil {
                chosen = first
            } else {
                throw StoreError.badLocation("the store \(location): no schema on this connection's search path exists to make the store in; create one, or name one with ?schema=")
            }
        }
        _ = try connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(Self.quote(chosen))"), logger: Self.logger).wait()
        schema = chosen
    }

    /// `name` as an SQL identifier.
    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// `text` as an SQL string literal.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// What a PostgreSQL error means to the store: a constraint, a lock wait that timed out, or the
    /// server's own message (a refused connection, a failed statement).
    func translate(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        guard let psql = error as? PSQLError else { return StoreError.server(location: location, message: "\(error)") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "\(psql.code)"
            if state.hasPrefix("23") { return StoreError.constraint(message + (info[.detail].map { " (\($0))" } ?? "")) }
            if state == "55P03" { return StoreError.busy(path: location, seconds: busyTimeout) }
            return StoreError.server(location: location, message: "\(message) [SQLSTATE \(state)]")
        }
        if psql.code == .connectionError || psql.code == .serverClosedConnection || psql.code == .clientClosedConnection {
            connection = nil
        }
        let underlying = psql.underlying.map { ": \($0)" } ?? ""
        return StoreError.server(location: location, message: "\(psql.code)\(underlying)")
    }

    /// Runs `body` in a transaction begun with `begin`: committed when it returns, rolled back when it
    /// throws. A connection lost on the way is dropped, and reopened for the next one.
    private func transaction<T>(_ begin: String, _ body: (any SQLConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let connection = try connected()
        let sql = PostgresSQLConnection(connection: connection, engine: self)
        do {
            try sql.execute(begin, [])
            let result = try body(sql)
            try sql.execute("COMMIT", [])
            return result
        } catch {
            _ = try? sql.settle()
            if !connection.isClosed { _ = try? connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: Self.logger).wait() }
            if connection.isClosed { self.connection = nil }
            throw error
        }
    }

    public func separateConnection() throws -> any StoreEngine {
        try PostgresEngine(location: target, busyTimeout: busyTimeout, schema: schema)
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN") { sql in
            // One writer at a time across every host: the chain head's row is the lock.
            try sql.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE", [])
            return try body(sql)
        }
    }

    public func migrate(_ migrations: [StoreMigration]) throws {
        lock.lock()
        defer { lock.unlock() }
        let connection = try connected()
        let sql = PostgresSQLConnection(connection: connection, engine: self)
        try sql.execute("SELECT pg_advisory_lock(\(Self.migrationLock))", [])
        defer { _ = try? sql.execute("SELECT pg_advisory_unlock(\(Self.migrationLock))", []) }
        try sql.execute("CREATE TABLE IF NOT EXISTS rollout_migrations (name TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)", [])
        let applied = Set(try sql.query("SELECT name FROM rollout_migrations", []).map { $0.string(0) })
        let names = Set(migrations.map(\.name))
        if !applied.isSubset(of: names) { throw StoreError.incompatible(path: location, detail: "it was written by a newer rollout") }
        for migration in migrations where !applied.contains(migration.name) {
            do {
                try sql.execute("BEGIN", [])
                for statement in Self.statements(migration.postgres) { try sql.execute(statement, []) }
                try sql.execute("INSERT INTO rollout_migrations (name, applied_ms) VALUES (?, ?)",
                                [.text(migration.name), .int(Int64(Date().timeIntervalSince1970 * 1000))])
                try sql.execute("COMMIT", [])
            } catch {
                _ = try? connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: Self.logger).wait()
                throw error
            }
        }
    }

    /// The statements of a migration's text, one per query (the extended protocol takes one at a time):
    /// comment lines dropped, split at the semicolons that end statements.
    /// A migration's statements: split at semicolons, except inside a dollar-quoted body (`$$ ... $$`,
    /// a trigger function's), with whole-line comments left out.
    static func statements(_ text: String) -> [String] {
        let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
        var statements: [String] = []
        var current = ""
        var quoted = false
        var previous: Character?
        for character in lines {
            if character == "$" && previous == "$" { quoted.toggle() }
            if character == ";" && !quoted {
                statements.append(current)
                current = ""
            } else {
                current.append(character)
            }
            previous = character == "$" && previous == "$" ? nil : character
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}

/// Statements on a PostgreSQL connection (`?` placeholders become `$1`, `$2`...). Statements whose
/// rows nobody reads (`execute`) are pipelined: sent at once and settled before the next query that
/// returns rows, before COPY, and at COMMIT, so a decision's inserts cost one round trip, not four. An
/// error in any of them fails the transaction, which then commits nothing. Called only inside the
/// engine's lock, from threads that are not NIO's.
final class PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let engine: PostgresEngine
    var dialect: SQLDialect { .postgres }
    private var inFlight: [EventLoopFuture<PostgresQueryResult>] = []

    init(connection: PostgresConnection, engine: PostgresEngine) {
        self.connection = connection
        self.engine = engine
    }

    func discardPending() {
        let pending = inFlight
        inFlight.removeAll()
        for future in pending { _ = try? future.wait() }
    }

    /// Waits for every pipelined statement; the first error is the transaction's.
    func settle() throws {
        let pending = inFlight
        inFlight.removeAll()
        var first: (any Error)?
        for future in pending {
            do { _ = try future.wait() } catch { if first == nil { first = error } }
        }
        if let first { throw engine.translate(first) }
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let future = connection.query(Self.query(sql, arguments), logger: PostgresEngine.logger)
        // A savepoint is a boundary a group commit relies on: the statements before it must have
        // succeeded or failed by then, so an error is blamed on the write that caused it.
        if sql == "COMMIT" || sql.hasPrefix("SELECT pg_advisory") || sql.hasPrefix("SET ") || sql.hasPrefix("SAVEPOINT ")
            || sql.hasPrefix("RELEASE ") || sql.hasPrefix("ROLLBACK TO ") {
            inFlight.append(future)
            try settle()
        } else {
            inFlight.append(future)
        }
    }

    func executeCountingChanges(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try settle()
        do {
            return try connection.query(Self.query(sql, arguments), logger: PostgresEngine.logger).wait().metadata.rows ?? 0
        } catch {
            throw engine.translate(error)
        }
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try settle()
        do {
            let result = try connection.query(Self.query(sql, arguments), logger: PostgresEngine.logger).wait()
            return result.rows.map(Self.row)
        } catch {
            throw engine.translate(error)
        }
    }

    func each(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        try settle()
        // Rows arrive on the event loop while this thread waits for the end: `body` never runs beside it.
        // postgres-nio may release its row handler a moment after the query's future completes, so the
        // handler holds `body` through a sink that is emptied before `body` stops being valid.
        try withoutActuallyEscaping(body) { body in
            let sink = RowSink(body)
            defer { sink.clear() }
            do {
                _ = try connection.query(Self.query(sql, arguments), logger: PostgresEngine.logger) { row in
                    try sink.deliver(Self.row(row))
                }.wait()
            } catch let error as PSQLError {
                throw engine.translate(error)
            }
        }
    }

    /// Rows through COPY ... FROM STDIN, in text format: an import's events, many thousands at a time.
    func bulkInsert(table: String, columns: [String], rows: [[SQLValue]]) throws {
        try settle()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(rows.count * 512)
        for row in rows {
            for (i, value) in row.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                Self.copyText(value, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        let connection = self.connection
        let data = buffer
        do {
            try Blocking.run {
                try await connection.copyFrom(table: table, columns: columns, logger: PostgresEngine.logger) { writer in
                    try await writer.write(data)
                }
            }
        } catch {
            throw engine.translate(error)
        }
    }

    /// A value in COPY's text format: `\N` for null, backslash, tab, newline and carriage return escaped.
    static func copyText(_ value: SQLValue, into buffer: inout ByteBuffer) {
        func escaped<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
            // Most values need no escape: copy them whole.
            if !bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
                buffer.writeBytes(bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buffer.writeInteger(byte)
                }
            }
        }
        switch value {
        case .null: buffer.writeString("\\N")
        case .int(let n): buffer.writeString(String(n))
        case .double(let d): buffer.writeString(String(d))
        case .text(let s): escaped(s.utf8)
        case .bytes(let b): escaped(b)
        }
    }

    /// `?` placeholders as `$n`, outside quoted text and identifiers; the values as bindings.
    static func query(_ sql: String, _ arguments: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value {
            case .null: bindings.appendNull()
            case .int(let n): bindings.append(n)
            case .double(let d): bindings.append(d)
            case .text(let s): bindings.append(s)
            case .bytes(let b): bindings.append(String(decoding: b, as: UTF8.self))
            }
        }
        return PostgresQuery(unsafeSQL: Placeholders.numbered(sql), binds: bindings)
    }

    static func row(_ row: PostgresRow) -> SQLRow {
        var columns: [String] = []
        var values: [SQLValue] = []
        for cell in row {
            columns.append(cell.columnName)
            values.append(value(cell))
        }
        return SQLRow(columns: columns, values: values)
    }

    static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return (try? cell.decode(Int64.self)).map(SQLValue.int) ?? .null
        case .float8, .float4: return (try? cell.decode(Double.self)).map(SQLValue.double) ?? .null
        case .bool: return (try? cell.decode(Bool.self)).map { .int($0 ? 1 : 0) } ?? .null
        case .numeric: return (try? cell.decode(String.self)).flatMap { Double($0) }.map(SQLValue.double) ?? .null
        default: return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }
}

/// SQL with `?` placeholders turned into PostgreSQL's `$1`, `$2`...: once per distinct statement.
enum Placeholders {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: String] = [:]

    static func numbered(_ sql: String) -> String {
        if let done = lock.withLock({ cache[sql] }) { return done }
        var out = ""
        out.reserveCapacity(sql.count + 16)
        var n = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        lock.withLock { if cache.count < 4096 { cache[sql] = out } }
        return out
    }
}

/// A value handed across threads whose use the caller serialises itself.
/// The row handler of `each`: holds the caller's non-escaping body only until the query is done
/// (the event loop calls `deliver` only before the query's future completes; `clear` runs after).
final class RowSink: @unchecked Sendable {
    private var body: ((SQLRow) throws -> Void)?
    init(_ body: @escaping (SQLRow) throws -> Void) { self.body = body }
    func deliver(_ row: SQLRow) throws { try body?(row) }
    func clear() { body = nil }
}

/// Runs async work to completion from synchronous code (the store's API is synchronous; COPY in
/// postgres-nio is async). The calling thread waits, and the work runs on a dispatch queue of its own:
/// never on Swift's cooperative pool, whose few threads may all be waiting in calls like this one.
enum Blocking {
    static let executor = QueueExecutor()

    static func run(_ work: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = ResultHolder()
        Task(executorPreference: executor) {
            do { try await work() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    final class ResultHolder: @unchecked Sendable {
        var error: (any Error)?
    }
}

/// A task executor on a serial dispatch queue.
final class QueueExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "rollout.postgres.blocking")

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async { unowned.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
