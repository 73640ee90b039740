/// The SQL a store runs, inside a read or a write transaction of its engine. Statements are written
/// once with `?` placeholders, in the SQL both engines accept (`ON CONFLICT`, `RETURNING`); where the
/// dialects differ, `dialect` says which to write.
public protocol SQLConnection {
    var dialect: SQLDialect { get }
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs an `UPDATE` or `DELETE` and returns how many rows it changed: cheaper than `RETURNING`, which
    /// makes SQLite keep the changed rows in a table of their own until the statement ends.
    func executeCountingChanges(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs a query and returns every row.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a query and hands each row to `body` as it arrives (for scans of the whole log).
    func each(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws
    /// Appends audit rows in bulk (an import): `columns` in order, one array of values per row.
    func bulkInsert(table: String, columns: [String], rows: [[SQLValue]]) throws
    /// Waits for the statements sent but not yet answered and forgets their errors: a write that failed
    /// in a group commit is rolled back to its savepoint, and what it left in flight is its own.
    func discardPending()
}

extension SQLConnection {
    /// Statements are answered as they are run: nothing is ever pending.
    public func discardPending() {}
}

extension SQLConnection {
    public func execute(_ sql: String) throws { try execute(sql, []) }
    public func query(_ sql: String) throws -> [SQLRow] { try query(sql, []) }

    /// The first row, if any.
    public func queryOne(_ sql: String, _ arguments: [SQLValue] = []) throws -> SQLRow? {
        try query(sql, arguments).first
    }

    /// Whether the table exists (a store of the first version, read as it is, lacks later tables).
    public func tableExists(_ name: String) throws -> Bool {
        switch dialect {
        case .sqlite: try queryOne("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) != nil
        case .postgres: try queryOne("SELECT 1 FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()", [.text(name)]) != nil
        }
    }

    /// The first column of the first row, if any.
    public func scalar(_ sql: String, _ arguments: [SQLValue] = []) throws -> SQLValue? {
        try queryOne(sql, arguments)?[0]
    }
}

/// The SQL dialects of the two engines, and the few expressions they spell differently.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres

    /// The JSON text of member `key` of the JSON text in `column` (null when absent).
    public func jsonMember(_ column: String, _ key: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(key)')"
        case .postgres: "((\(column))::jsonb -> '\(key)')::text"
        }
    }

    /// The text of string member `key` of the JSON text in `column` (null when absent).
    public func jsonString(_ column: String, _ key: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(key)')"
        case .postgres: "((\(column))::jsonb ->> '\(key)')"
        }
    }

    /// Whether `column` matches the LIKE pattern bound at the next `?` (escape character `!`), ASCII
    /// letters in either case (SQLite's LIKE; PostgreSQL's ILIKE).
    public func likeIgnoringCase(_ column: String) -> String {
        switch self {
        case .sqlite: "\(column) LIKE ? ESCAPE '!'"
        case .postgres: "\(column) ILIKE ? ESCAPE '!'"
        }
    }

    /// Whether `column` contains the text bound at the next `?`.
    public func contains(_ column: String) -> String {
        switch self {
        case .sqlite: "instr(\(column), ?) > 0"
        case .postgres: "strpos(\(column), ?) > 0"
        }
    }
}
