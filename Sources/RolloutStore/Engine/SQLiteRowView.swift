import RolloutCore
import GRDB
import GRDBSQLite

/// SQLite's current result row, read in place: valid only while the statement rests on that row (inside
/// `RawStatement.eachView`'s call). Its values are those `RawStatement.each` puts in an `SQLRow`, and its
/// text bytes those that row's `withText` gives.
///
/// The row's values are SQLite's own (`sqlite3_column_value`, taken once per column when the statement
/// steps), read through the value API: each `sqlite3_column_*` call enters and leaves the connection and
/// checks for a failed allocation, and verification asks about a hundred of them a row. The statement is
/// stepped and read on one thread at a time (GRDB serialises its connection), which is what SQLite asks
/// of an unprotected value.
struct SQLiteRowView: ChainRowValues {
    /// The row's values, one per result column.
    let values: UnsafeBufferPointer<OpaquePointer?>

    subscript(_ index: Int) -> SQLValue { RawStatement.value(value(index)) }

    /// Column `index`'s value. The column API answered a column past the row with null; a pointer past
    /// the row's values would be read as a value, so the index is checked in every build.
    private func value(_ index: Int) -> OpaquePointer? {
        precondition(index >= 0 && index < values.count, "column \(index) of a row of \(values.count)")
        return values[index]
    }

    func int(_ index: Int) -> Int64 {
        let value = value(index)
        if sqlite3_value_type(value) == SQLITE_INTEGER { return sqlite3_value_int64(value) }
        return self[index].int64 ?? 0
    }

    func isText(_ index: Int) -> Bool { sqlite3_value_type(value(index)) == SQLITE_TEXT }

    func isNull(_ index: Int) -> Bool { sqlite3_value_type(value(index)) == SQLITE_NULL }

    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let value = value(index)
        if sqlite3_value_type(value) == SQLITE_TEXT, let text = sqlite3_value_text(value) {
            // Text is handed out as stored: UTF-8 is its string's bytes, and other bytes are what an
            // `SQLRow` keeps of it (`.bytes`).
            return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value))))
        }
        switch self[index] {
        case .bytes(let bytes): return try bytes.withUnsafeBufferPointer(body)
        case let value:
            var text = value.string ?? ""
            return try text.withUTF8(body)
        }
    }

    func withOptionalText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let value = value(index)
        // The text pointer is null for a null value, and otherwise only when memory runs out: asked apart.
        if let text = sqlite3_value_text(value) {
            return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value))))
        }
        if sqlite3_value_type(value) == SQLITE_NULL { return try body(nil) }
        return try withText(index) { try body($0) }
    }

    /// Whether every byte is below 0x80.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { ASCIIBytes.check(UnsafeRawBufferPointer(bytes)) }
}
