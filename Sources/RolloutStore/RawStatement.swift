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
        let step = sqlite3_step(handle)
        sqlite3_reset(handle)
        if step != SQLITE_DONE && step != SQLITE_ROW {
            throw DatabaseError(resultCode: ResultCode(rawValue: step), message: db.lastErrorMessage, sql: statement.sql)
        }
    }
}

