import Foundation
import Testing

@testable import RolloutCore

/// `JSONMembers` may decline any text (the caller then parses it whole), but what it accepts must be
/// exactly what `JSONValue.parse` reads: the same members, each with the same value.
@Suite("JSON: an object's members found without building it")
struct JSONMembersTests {
    static let body = #"{"actor":"agent-billing-1","approver":null,"decision":"allowed","fields_changed":{"email":{"after":"new","before":"old"}},"#
        + #""idempotency_key":"k:4","label":0,"row_count":1,"seq":5,"tenant":"acme","tool":"crm.update_record","ts":"2015-02-26T21:43:05.634Z"}"#

    /// Objects it indexes: names of printable ASCII without escapes, each once.
    static let indexed: [String] = [
        "{}", " {\n} \t", #"{"a":1}"#, body,
        #"{"s":"tab\there \"q\" \u00e9 \ud83d\ude00","n":-0.5e-3,"t":true,"f":false,"z":null}"#,
        #"{"deep":[[[{"x":[1,{"y":"é"}]}]]],"empty":{},"list":[]}"#,
        #"{ "spaced" : [ 1 , 2 ] , "more" : { "k" : "v" } }"#,
        #"{"unicode value":"日本語 ✓","number":12345678901234567890,"big":1e308}"#,
        #"{"a b":"name with a space","-":"dash","{":"brace in a name"}"#,
    ]

    /// Texts it declines, and whether `JSONValue.parse` accepts them (an object it cannot index plainly).
    static let declined: [(text: String, parses: Bool)] = [
        ("[]", true), ("1", true), (#""s""#, true), ("null", true), ("", false), ("   ", false),
        (#"{"a":1,"a":2}"#, true), (#"{"a":1,"b":2,"b":3}"#, true), (#"{"b":1,"a":2,"b":3}"#, true),  // a repeated name: the parser keeps the last
        (#"{"a\u0062":1}"#, true), (#"{"\n":1}"#, true), (#"{"é":1}"#, true),  // names with an escape or beyond ASCII
        (#"{"a":1,}"#, false), (#"{"a":1} x"#, false), (#"{"a":01}"#, false), (#"{"a":[1,]}"#, false), (#"{"a":tru}"#, false),
        (#"{"a":"\ud800"}"#, false), ("{\"a\":\"\u{1}\"}", false), (#"{"a" 1}"#, false), (#"{'a':1}"#, false), (#"{"a":1"#, false),
        (#"{"a":"unterminated}"#, false), (#"{"a":-}"#, false), (#"{"a":1.}"#, false), (#"{"a":"\x"}"#, false), (#"{"a":NaN}"#, false),
        (#"{"a":{"b":1,}}"#, false), (#"{"a":["x" "y"]}"#, false), (#"{,}"#, false), (#"{"a":1}}"#, false),
        (String(repeating: "[", count: 600) + String(repeating: "]", count: 600), false),
        ("{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}", false),
    ]

    @Test("it indexes a plain object, and every member is the parser's", arguments: indexed)
    func agreesWithParser(text: String) throws {
        let bytes = Array(text.utf8)
        #expect(try Self.agree(bytes) == true, "\(text)")
    }

    @Test("it declines what it cannot index plainly, and what is not JSON", arguments: declined.indices)
    func declines(which: Int) {
        let (text, parses) = Self.declined[which]
        let bytes = Array(text.utf8)
        let indexed = bytes.withUnsafeBufferPointer { JSONMembers($0) != nil }
        #expect(!indexed, "\(text)")
        #expect(((try? JSONValue.parse(text)) != nil) == parses, "\(text)")
    }

    @Test("invalid UTF-8 in a value or a name is declined, as the parser refuses it", arguments: [
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D] as [UInt8],
        [0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D], [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D],
    ])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(bytes.withUnsafeBufferPointer { JSONMembers($0) } == nil)
        #expect((try? JSONValue.parse(Data(bytes))) == nil)
    }

    @Test("20,000 seeded mutations of real bodies: whatever it indexes, the parser reads as the same object")
    func mutations() throws {
        var random = SeededRandom(seed: 19)
        let alphabet = Array(#"{}[]":,\ "0123456789-+.eEtrufalsnx"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, 0x0A]
        var indexedCount = 0
        for round in 0..<20_000 {
            var bytes = Array(Self.indexed[round % Self.indexed.count].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !bytes.isEmpty: bytes[at] = alphabet.randomElement(using: &random)!
                case 1 where !bytes.isEmpty: bytes.remove(at: at)
                case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...8, using: &random))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
            }
            let agrees = try Self.agree(bytes)
            #expect(agrees != false, "mutation \(round): \(String(decoding: bytes, as: UTF8.self))")
            if agrees == true { indexedCount += 1 }
        }
        // Most single mutations leave a plain object: the index is taken, not declined, for them.
        #expect(indexedCount > 2_000, "\(indexedCount) of 20,000 indexed")
    }

    /// Names that share their first bytes or their length, and one that differs from another only
    /// in its last byte: a look-up that stopped short of comparing every byte would take a neighbour.
    /// Written in this order and sorted byte by byte (as canonical bodies are).
    /// Every length a comparison reads in its own way (one byte, two to three, four to seven, eight and
    /// more, whole words then an overlapping last one) has two names that differ only at its end, and
    /// names of one length, first and last byte (which the index hashes alike) differ only inside.
    static let alike = ["ab", "abc", "abd", "aXc", "abcdX", "abcdY", "abcdXz", "abcdYz", "abcdefg", "abcdefX", "abcdefgh", "abcdefgX", "abcdefghi",
                        "abcdefgh1", "abcdefgh12345", "abcdefgh12346", "abcdefghX12345678", "abcdefghY12345678",
                        "abcdefgH" + String(repeating: "z", count: 32), "abcdefgH" + String(repeating: "z", count: 31) + "y"]

    @Test("a look-up finds only the member of that very name", arguments: alike + [
        "a", "abcd", "abcdefgI", "abcdefgh1234", "abcdefgh123456", "abcdefgH", "abcdefgH" + String(repeating: "z", count: 33), "abcdefgh\u{0}",
    ], [false, true])
    func lookUp(name: String, sorted: Bool) throws {
        // Every name of `alike` but the one looked up, so a look-up that matched a neighbour would find it.
        let others = (sorted ? Self.alike.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : Self.alike).filter { $0 != name }
        let text = "{" + others.enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}"
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            let members = try #require(JSONMembers(buffer))
            #expect(members.value(name) == nil, "\(name) in \(text)")
            #expect(members.raw(name) == nil)
            for (index, other) in others.enumerated() {
                #expect(members.value(other) == .number(Double(index)), "\(other)")
            }
        }
    }

    /// Names known when the program is built (`JSONMembers.Name`) are found from the slot reckoned when
    /// they were made: each must find what its string finds, in objects that hold it and that do not.
    static let builtNames: [(name: JSONMembers.Name, string: String)] = [
        (.init(""), ""), (.init("a"), "a"), (.init("ts"), "ts"), (.init("seq"), "seq"), (.init("row_count"), "row_count"),
        (.init("idempotency_key"), "idempotency_key"), (.init("fields_changed"), "fields_changed"),
        (.init("abcdefgh12345678"), "abcdefgh12345678"),
    ]

    @Test("a name known when the program is built finds what its string finds", arguments: [false, true])
    func builtName(present: Bool) throws {
        let strings = Self.builtNames.map(\.string)
        for (name, string) in Self.builtNames {
            #expect(name.string == string)
            // The others in the object always; the name itself only when `present` (then its value is 99).
            let held = strings.filter { $0 != string } + (present ? [string] : [])
            let text = "{" + held.enumerated().map { #""\#($1)":\#($1 == string ? 99 : $0)"# }.joined(separator: ",") + "}"
            let bytes = Array(text.utf8)
            try bytes.withUnsafeBufferPointer { buffer in
                let members = try #require(JSONMembers(buffer))
                #expect(members.value(name) == members.value(string), "\(string) in \(text)")
                #expect(members.value(name) == (present ? .number(99) : nil), "\(string) in \(text)")
                #expect(members.raw(name).map(Array.init) == members.raw(string).map(Array.init))
                #expect(members.kind(name) == members.kind(string))
                #expect(members.isNonEmptyString(name) == members.isNonEmptyString(string))
            }
        }
    }

    /// Verification takes a plain string member's bytes as its value (`Member.plainText`): only a string
    /// without an escape, a control character or a byte beyond ASCII may be called plain.
    static let plainness: [(text: String, plain: String?)] = [
        (#""abc""#, "abc"), (#""""#, ""), ("\"a\u{7F}b\"", "a\u{7F}b"), (#""a b~{}[]:,""#, "a b~{}[]:,"),
        ("\"" + String(repeating: "x", count: 40) + "\"", String(repeating: "x", count: 40)),
        (#""a\"b""#, nil), (#""a\\b""#, nil), (#""ac\u006de""#, nil), ("\"" + String(repeating: "x", count: 20) + #"\n""#, nil),
        (#""é""#, nil), ("3", nil), ("-0.5", nil), ("null", nil), ("true", nil), (#"["a"]"#, nil), (#"{"a":"b"}"#, nil),
    ]

    @Test("a member is a plain string only when its text between the quotes is its value", arguments: plainness)
    func plainString(text: String, plain: String?) throws {
        // The member first, in the middle and last, so that what follows it differs.
        for body in [#"{"v":\#(text),"w":1}"#, #"{"u":"x","v":\#(text),"w":"y"}"#, #"{"u":2,"v":\#(text)}"#] {
            let bytes = Array(body.utf8)
            try bytes.withUnsafeBufferPointer { buffer in
                let members = try #require(JSONMembers(buffer), "\(body)")
                let member = try #require(members.member(.init("v")))
                #expect(Array(member.raw) == Array(text.utf8), "\(body)")
                #expect(member.isPlainString == (plain != nil), "\(body)")
                #expect(member.plainText.map { String(decoding: $0, as: UTF8.self) } == plain, "\(body)")
                if let plain { #expect(members.value(.init("v")) == .string(plain)) }
                #expect(members.member(.init("x")) == nil)
            }
        }
    }

    /// Objects of many members: names that share a slot of the index and names placed after a run of
    /// taken slots, a repeated name far from its first, the empty name, and the limit: 62 names with the
    /// empty one and "m" are 64 members, indexed; 63 with them are 65, declined.
    @Test("a repeated name is declined wherever it is, and every other member is found", arguments: [1, 2, 17, 40, 62, 63])
    func manyMembers(count: Int) throws {
        // Names of one length and first byte: the index hashes them near each other.
        let names = (0..<count).map { "n" + String(format: "%03d", $0) } + (count > 1 ? ["", "m"] : [])
        let text = "{" + names.enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}"
        let bytes = Array(text.utf8)
        let indexed = bytes.withUnsafeBufferPointer { JSONMembers($0) != nil }
        #expect(indexed == (names.count <= JSONMembers.maxMembers), "\(names.count) members")
        if indexed { #expect(try Self.agree(bytes) == true) }
        for repeated in [names.first!, names.last!, names[names.count / 2]] where names.count < JSONMembers.maxMembers {
            let withRepeat = Array(("{" + (names + [repeated]).enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}").utf8)
            #expect(withRepeat.withUnsafeBufferPointer { JSONMembers($0) } == nil, "\(repeated) twice")
        }
    }

    /// nil when `JSONMembers` declines; otherwise whether everything it says is what the parser says.
    static func agree(_ bytes: [UInt8]) throws -> Bool? {
        try bytes.withUnsafeBufferPointer { buffer -> Bool? in
            guard let members = JSONMembers(buffer) else { return nil }
            guard case .object(let object)? = try? JSONValue.parse(bytes: buffer) else { return false }
            guard members.count == object.count else { return false }
            for index in 0..<members.count {
                let name = members.name(at: index)
                guard let expected = object[name], members.value(name) == expected else { return false }
                guard let raw = members.raw(name), (try? JSONValue.parse(bytes: raw)) == expected else { return false }
                let kind: JSONMembers.Kind = switch expected {
                case .null: .null
                case .bool: .bool
                case .number: .number
                case .string: .string
                case .array: .array
                case .object: .object
                }
                guard members.kind(name) == kind, members.kind(at: index) == kind else { return false }
                let nonEmpty = if case .string(let s) = expected { !s.isEmpty } else { false }
                guard members.isNonEmptyString(name) == nonEmpty else { return false }
            }
            return members.value("no such member") == nil && members.kind("no such member") == nil
        }
    }
}
