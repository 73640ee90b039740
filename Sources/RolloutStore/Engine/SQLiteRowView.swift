import RolloutCore
import GRDB
import GRDBSQLite

/// SQLite's current result row, read in place through the C API: valid only while the statement
/// rests on that row (inside `RawStatement.eachView`'s call). Its values are those `RawStatement.each`
/// puts in an `SQLRow`, and its text bytes those that row's `withText` gives.
struct SQLiteRowView: ChainRowValues {
    let handle: OpaquePointer

    subscript(_ index: Int) -> SQLValue { RawStatement.value(handle, Int32(index)) }

    func int(_ index: Int) -> Int64 {
        if sqlite3_column_type(handle, Int32(index)) == SQLITE_INTEGER { return sqlite3_column_int64(handle, Int32(index)) }
        return self[index].int64 ?? 0
    }

    func isText(_ index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_TEXT }

    func isNull(_ index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let column = Int32(index)
        if sqlite3_column_type(handle, column) == SQLITE_TEXT, let text = sqlite3_column_text(handle, column) {
            // Text is handed out as stored: UTF-8 is its string's bytes, and other bytes are what an
            // `SQLRow` keeps of it (`.bytes`).
            return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
        }
        switch self[index] {
        case .bytes(let bytes): return try bytes.withUnsafeBufferPointer(body)
        case let value:
            var text = value.string ?? ""
            return try text.withUTF8(body)
        }
    }

    func withOptionalText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let column = Int32(index)
        // Two calls, not three: the text pointer is null only for a null column (or a zero-length
        // blob, or no memory: asked apart).
        if let text = sqlite3_column_text(handle, column) {
            return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
        }
        if sqlite3_column_type(handle, column) == SQLITE_NULL { return try body(nil) }
        return try withText(index) { try body($0) }
    }

    /// Whether every byte is below 0x80.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { ASCIIBytes.check(UnsafeRawBufferPointer(bytes)) }
}
