import GRDB
import GRDBSQLite

/// Binds and steps a prepared GRDB statement through SQLite's C API: the audit append and the import
/// run it once per event, and GRDB's general argument handling cost more than SQLite's own insert.
struct RawStatement {
    let statement: Statement

    /// SQLite copies the bytes it is given; the Swift string may go away after binding.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bindText(_ handle: OpaquePointer, _ index: Int32, _ buffer: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return sqlite3_bind_text(handle, index, "", 0, transient)
        }
        return sqlite3_bind_text(handle, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buffer.count), transient)
    }

    /// Binds `values` to parameters 1...n, steps to completion, resets. Throws GRDB's error on failure.
    func execute(_ values: [SQLValue], db: Database) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        try bind(values, db: db)
        let step = sqlite3_step(handle)
        sqlite3_reset(handle)
        if step != SQLITE_DONE && step != SQLITE_ROW {
            throw DatabaseError(resultCode: ResultCode(rawValue: step), message: db.lastErrorMessage, sql: statement.sql)
        }
    }

    /// Binds `values`, then hands each result row to `body` as it steps, its values read straight from
    /// SQLite's column API (verification, scoring and reports read millions of rows this way). Resets
    /// the statement when done, also when `body` throws.
    func each(_ values: [SQLValue], db: Database, columns: [String], _ body: (SQLRow) throws -> Void) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        try bind(values, db: db)
        let count = sqlite3_column_count(handle)
        while true {
            let step = sqlite3_step(handle)
            if step == SQLITE_DONE { return }
            guard step == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: step), message: db.lastErrorMessage, sql: statement.sql)
            }
            var row: [SQLValue] = []
            row.reserveCapacity(Int(count))
            for i in 0..<count { row.append(Self.value(sqlite3_column_value(handle, i))) }
            try body(SQLRow(columns: columns, values: row))
        }
    }

    /// Binds `values`, then hands each result row to `body` as a view of SQLite's current row, read in
    /// place (valid only during the call): verification reads a million rows without making a string
    /// of every column. Resets the statement when done, also when `body` throws.
    func eachView(_ values: [SQLValue], db: Database, _ body: (SQLiteRowView) throws -> Void) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        try bind(values, db: db)
        let count = Int(sqlite3_column_count(handle))
        try withUnsafeTemporaryAllocation(of: OpaquePointer?.self, capacity: max(count, 1)) { row in
            while true {
                let step = sqlite3_step(handle)
                if step == SQLITE_DONE { return }
                guard step == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: step), message: db.lastErrorMessage, sql: statement.sql)
                }
                // The row's values, each valid until the next step: one call per column instead of one
                // per question asked of it.
                for i in 0..<count { row[i] = sqlite3_column_value(handle, Int32(i)) }
                try body(SQLiteRowView(values: UnsafeBufferPointer(rebasing: row[0..<count])))
            }
        }
    }

    /// A result column's value (`sqlite3_column_value`) as a value: text is made a string, a blob and
    /// text that is not UTF-8 are kept as bytes.
    static func value(_ value: OpaquePointer?) -> SQLValue {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: return .int(sqlite3_value_int64(value))
        case SQLITE_FLOAT: return .double(sqlite3_value_double(value))
        case SQLITE_TEXT:
            // The text first, then its length (SQLite's advice: the length is of the text asked for).
            guard let text = sqlite3_value_text(value) else { return .text("") }
            let length = Int(sqlite3_value_bytes(value))
            let bytes = UnsafeBufferPointer(start: text, count: length)
            if SQLiteRowView.isASCII(bytes) { return .text(String(decoding: bytes, as: UTF8.self)) }
            // Text that is not UTF-8 (written by hand, never by rollout) is kept as the bytes it is:
            // verification hashes what is stored, and such a column equals no string.
            guard let string = String(validating: bytes, as: UTF8.self) else { return .bytes(Array(bytes)) }
            return .text(string)
        case SQLITE_BLOB:
            let length = Int(sqlite3_value_bytes(value))
            guard let blob = sqlite3_value_blob(value) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: blob, count: length)))
        default: return .null
        }
    }

    private func bind(_ values: [SQLValue], db: Database) throws {
        let handle = statement.sqliteStatement
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .int(let n): code = sqlite3_bind_int64(handle, index, n)
            case .double(let d): code = sqlite3_bind_double(handle, index, d)
            case .null: code = sqlite3_bind_null(handle, index)
            case .bytes(let bytes):
                code = bytes.withUnsafeBufferPointer { Self.bindText(handle, index, $0) }
            case .text(var s):
                code = s.withUTF8 { Self.bindText(handle, index, $0) }
            }
            if code != SQLITE_OK { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql) }
        }
    }
}

