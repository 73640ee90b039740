import RolloutCore
import Testing

@testable import RolloutStore

/// `ChainRowCheck.plainlySame` lets verification skip parsing a member whose text already shows the
/// column's value. It may say "not shown this way" (false) of any pair; it must never say "same" of a
/// column that holds something other than the member's value.
@Suite("Store: a column shown the same as its member from the text alone")
struct ChainRowCheckTests {
    static let cases: [(name: String, member: String?, stored: SQLValue, same: Bool)] = [
        ("a plain string", #""acme""#, .text("acme"), true),
        ("the empty string", #""""#, .text(""), true),
        ("another string", #""acme""#, .text("acmf"), false),
        ("a longer string", #""acme""#, .text("acme "), false),
        // The member's value is "acme"; a column holding its escaped spelling holds another value.
        ("a column holding the member's escape as written", #""ac\u006de""#, .text(#"ac\u006de"#), false),
        ("a column holding an escaped quote as written", #""a\"b""#, .text(#"a\"b"#), false),
        ("a column holding an escaped backslash as written", #""a\\b""#, .text(#"a\\b"#), false),
        ("a member beyond ASCII (read the slow way)", #""é""#, .text("é"), false),
        ("a number member and a text column", "3", .text("3"), false),
        ("a null column and an absent member", nil, .null, true),
        ("a null column and a null member", "null", .null, true),
        ("a null column and a string member", #""null""#, .null, false),
        ("a text column and an absent member", nil, .text(""), false),
        ("a string with DEL, which JSON writes as it is", "\"a\u{7F}b\"", .text("a\u{7F}b"), true),
        ("a column holding an escaped control character as written", #""a\tb""#, .text(#"a\tb"#), false),
        ("a column holding the control character", #""a\tb""#, .text("a\tb"), false),
    ]

    @Test("same only when the column holds the member's value, byte for byte", arguments: cases)
    func plainlySame(_ name: String, _ member: String?, _ stored: SQLValue, _ same: Bool) {
        let row = SQLRow(columns: ["value"], values: [stored])
        // The member as verification meets it: in a body indexed by `JSONMembers`, among others.
        let body = Array((#"{"seq":1,"#  + (member.map { #""tenant":\#($0),"# } ?? "") + #""tool":"t"}"#).utf8)
        let answer = body.withUnsafeBufferPointer { bytes -> Bool? in
            guard let members = JSONMembers(bytes) else { return nil }
            return ChainRowCheck.plainlySame(row, 0, members.member(.tenant))
        }
        #expect(answer == same, "\(name)")
    }
}
