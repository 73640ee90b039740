import GRDB
import GRDBSQLite
import Testing

@testable import RolloutStore

/// Verification, scoring and the reports read SQLite's rows in place (`SQLiteRowView`) or as values
/// (`SQLRow`), both through SQLite's value API. Whatever a column holds (a hand-edited store can hold
/// anything), they must read what SQLite's column API reads (`sqlite3_column_*`, which they read
/// through before), in whatever order a caller asks.
@Suite("Store: a row read in place and read as values agree with SQLite's column API on every kind of column")
struct SQLiteRowViewTests {
    static let notUTF8 = "text that is not UTF-8"
    static let cases: [(name: String, literal: String, value: SQLValue, text: [UInt8]?)] = [
        ("an integer", "42", .int(42), Array("42".utf8)),
        ("a negative integer", "-7", .int(-7), Array("-7".utf8)),
        ("a fraction", "2.5", .double(2.5), Array("2.5".utf8)),
        ("ASCII text", "'acme'", .text("acme"), Array("acme".utf8)),
        ("the empty text", "''", .text(""), []),
        ("text beyond ASCII", "'café'", .text("café"), Array("café".utf8)),
        ("text that looks like a number", "'12'", .text("12"), Array("12".utf8)),
        (notUTF8, "CAST(x'61ff62' AS TEXT)", .bytes([0x61, 0xFF, 0x62]), [0x61, 0xFF, 0x62]),
        ("a blob", "x'00ff10'", .bytes([0x00, 0xFF, 0x10]), [0x00, 0xFF, 0x10]),
        ("the empty blob", "x''", .bytes([]), []),
        ("null", "NULL", .null, nil),
    ]

    /// What a reading answers of column 1 of the row, asked in one order.
    struct Answers: Equatable {
        var value: SQLValue, int: Int64, isText: Bool, isNull: Bool, text: [UInt8], optional: [UInt8]?
    }

    /// The questions, each a way of reading the column, asked in `order`.
    static func ask(_ row: some ChainRowValues, order: [Int]) -> Answers {
        var answers = Answers(value: .null, int: 0, isText: false, isNull: false, text: [], optional: nil)
        for question in order {
            switch question {
            case 0: answers.value = row[1]
            case 1: answers.int = row.int(1)
            case 2: answers.isText = row.isText(1)
            case 3: answers.isNull = row.isNull(1)
            case 4: answers.text = row.withText(1) { Array($0) }
            default: answers.optional = row.withOptionalText(1) { $0.map(Array.init) }
            }
        }
        return answers
    }

    /// The same questions through SQLite's column API on the statement, as the view read them before.
    static func reference(_ handle: OpaquePointer, order: [Int]) -> Answers {
        func value() -> SQLValue {
            switch sqlite3_column_type(handle, 1) {
            case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, 1))
            case SQLITE_FLOAT: return .double(sqlite3_column_double(handle, 1))
            case SQLITE_TEXT:
                let bytes = Array(UnsafeBufferPointer(start: sqlite3_column_text(handle, 1), count: Int(sqlite3_column_bytes(handle, 1))))
                return String(validating: bytes, as: UTF8.self).map(SQLValue.text) ?? .bytes(bytes)
            case SQLITE_BLOB:
                guard let blob = sqlite3_column_blob(handle, 1) else { return .bytes([]) }
                return .bytes(Array(UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(handle, 1)))))
            default: return .null
            }
        }
        func stored() -> [UInt8] {
            if sqlite3_column_type(handle, 1) == SQLITE_TEXT, let text = sqlite3_column_text(handle, 1) {
                return Array(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 1))))
            }
            switch value() {
            case .bytes(let bytes): return bytes
            case let other: return Array((other.string ?? "").utf8)
            }
        }
        var answers = Answers(value: .null, int: 0, isText: false, isNull: false, text: [], optional: nil)
        for question in order {
            switch question {
            case 0: answers.value = value()
            case 1: answers.int = sqlite3_column_type(handle, 1) == SQLITE_INTEGER ? sqlite3_column_int64(handle, 1) : (value().int64 ?? 0)
            case 2: answers.isText = sqlite3_column_type(handle, 1) == SQLITE_TEXT
            case 3: answers.isNull = sqlite3_column_type(handle, 1) == SQLITE_NULL
            case 4: answers.text = stored()
            default:
                if let text = sqlite3_column_text(handle, 1) {
                    answers.optional = Array(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 1))))
                } else {
                    answers.optional = sqlite3_column_type(handle, 1) == SQLITE_NULL ? nil : stored()
                }
            }
        }
        return answers
    }

    /// Orders in which the six questions are asked: reading a column as text can change what SQLite
    /// says of its type afterwards, so the order matters and must matter alike.
    static let orders: [[Int]] = [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [5, 2, 0, 1, 3, 4], [4, 2, 0, 1, 3, 5], [1, 5, 0, 2, 4, 3]]

    @Test("value, kind and bytes of each kind of column, asked in several orders", arguments: cases)
    func agree(_ name: String, _ literal: String, _ value: SQLValue, _ text: [UInt8]?) throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            for order in Self.orders {
                // Each value beside a fixed text, so that a view reading the wrong column is seen too. One
                // statement per reading: a conversion made by one must not be seen by the other.
                var viewed: [(Answers, SQLValue)] = []
                try RawStatement(statement: try db.makeStatement(sql: "SELECT 'before', \(literal), 'after'")).eachView([], db: db) { row in
                    viewed.append((Self.ask(row, order: order), row[2]))
                }
                let statement = try db.makeStatement(sql: "SELECT 'before', \(literal), 'after'")
                let handle = statement.sqliteStatement
                #expect(sqlite3_step(handle) == SQLITE_ROW)
                let expected = Self.reference(handle, order: order)
                sqlite3_reset(handle)
                var rows: [SQLRow] = []
                try RawStatement(statement: statement).each([], db: db, columns: ["a", "b", "c"]) { rows.append($0) }
                try #require(viewed.count == 1 && rows.count == 1, "\(name)")
                let (answers, neighbour) = viewed[0]
                #expect(answers == expected, "\(name), order \(order)")
                #expect(neighbour == .text("after") && rows[0][2] == .text("after"), "\(name)")
                // And the values themselves, asked first: a string, bytes as they are, a number's text,
                // nothing for null. (A blob read as text first is text to SQLite from then on, in both.)
                #expect(rows[0][1] == value, "\(name)")
                if order.first == 0 { #expect(answers.value == value, "\(name)") }
                #expect(answers.text == (text ?? []) && rows[0].withText(1) { Array($0) } == (text ?? []), "\(name)")
                #expect(answers.isNull == (value == .null) && rows[0].isNull(1) == answers.isNull, "\(name)")
                // A row says text of a string; the view, of what SQLite stores as text, which includes text
                // that is not UTF-8 (a row's `.bytes`): its bytes equal no string's either way.
                #expect(rows[0].isText(1) == { if case .text = value { true } else { false } }(), "\(name)")
            }
        }
    }
}
