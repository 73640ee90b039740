import GRDB
import Testing

@testable import RolloutStore

/// Verification, scoring and the reports read SQLite's rows in place (`SQLiteRowView`) or as values
/// (`SQLRow`), both through SQLite's value API. Whatever a column holds (a hand-edited store can hold
/// anything), the two readings must agree on its value, its kind and its bytes.
@Suite("Store: a row read in place and read as values agree on every kind of column")
struct SQLiteRowViewTests {
    static let notUTF8 = "text that is not UTF-8"
    static let cases: [(name: String, literal: String, value: SQLValue, text: [UInt8]?)] = [
        ("an integer", "42", .int(42), Array("42".utf8)),
        ("a negative integer", "-7", .int(-7), Array("-7".utf8)),
        ("a fraction", "2.5", .double(2.5), Array("2.5".utf8)),
        ("ASCII text", "'acme'", .text("acme"), Array("acme".utf8)),
        ("the empty text", "''", .text(""), []),
        ("text beyond ASCII", "'café'", .text("café"), Array("café".utf8)),
        (notUTF8, "CAST(x'61ff62' AS TEXT)", .bytes([0x61, 0xFF, 0x62]), [0x61, 0xFF, 0x62]),
        ("a blob", "x'00ff10'", .bytes([0x00, 0xFF, 0x10]), [0x00, 0xFF, 0x10]),
        ("the empty blob", "x''", .bytes([]), []),
        ("null", "NULL", .null, nil),
    ]

    @Test("value, kind and bytes of each kind of column, read in place and as a row", arguments: cases)
    func agree(_ name: String, _ literal: String, _ value: SQLValue, _ text: [UInt8]?) throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            // Each value beside a fixed text, so that a view reading the wrong column is seen too.
            let statement = try db.makeStatement(sql: "SELECT 'before', \(literal), 'after'")
            var viewed: [(SQLValue, Int64, Bool, Bool, [UInt8], [UInt8]?, SQLValue)] = []
            try RawStatement(statement: statement).eachView([], db: db) { row in
                viewed.append((row[1], row.int(1), row.isText(1), row.isNull(1),
                               row.withText(1) { Array($0) }, row.withOptionalText(1) { $0.map(Array.init) }, row[2]))
            }
            var rows: [SQLRow] = []
            try RawStatement(statement: statement).each([], db: db, columns: ["a", "b", "c"]) { rows.append($0) }
            try #require(viewed.count == 1 && rows.count == 1, "\(name)")
            let (seen, int, isText, isNull, bytes, optional, neighbour) = viewed[0]
            #expect(seen == value, "\(name): read in place")
            #expect(rows[0][1] == value, "\(name): read as a row")
            #expect(neighbour == .text("after") && rows[0][2] == .text("after"), "\(name)")
            #expect(int == (value.int64 ?? 0), "\(name)")
            #expect(isNull == rows[0].isNull(1) && isNull == (value == .null), "\(name)")
            // A row says text of a string; the view, of what SQLite stores as text, which includes text that
            // is not UTF-8 (a row's `.bytes`): its bytes equal no string's either way.
            #expect(rows[0].isText(1) == { if case .text = value { true } else { false } }(), "\(name)")
            #expect(isText == (rows[0].isText(1) || name == Self.notUTF8), "\(name)")
            // As stored: a string's UTF-8, bytes as they are, a number's text; nothing for null.
            #expect(bytes == (text ?? []), "\(name)")
            #expect(bytes == rows[0].withText(1) { Array($0) }, "\(name)")
            if let text {
                #expect(optional == text, "\(name)")
            } else {
                #expect(optional == nil, "\(name)")
            }
        }
    }
}
