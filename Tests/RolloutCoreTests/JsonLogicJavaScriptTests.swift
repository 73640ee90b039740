import Testing

@testable import RolloutCore

/// A rule, its data, and what json-logic-js gives (checked with node where the two could differ).
struct JavaScriptCase: Sendable, CustomTestStringConvertible {
    var rule: JSONValue
    var data: JSONValue
    var expected: JSONValue
    var testDescription: String { "\(rule.canonicalText) over \(data.canonicalText) is \(expected.canonicalText)" }
}

@Suite("JsonLogic reads and compares as JavaScript does, where Swift's strings would differ (review 29)")
struct JsonLogicJavaScriptTests {
    static let combiningAcute = "\u{301}"

    static let cases: [JavaScriptCase] = [
        // `length` of a string (UTF-16 units) and of an array: lint accepts both, so both must be read.
        JavaScriptCase(rule: ["var": "notes.length"], data: ["notes": "twenty-one characters"], expected: 21),
        JavaScriptCase(rule: ["var": "notes.length"], data: ["notes": "😀"], expected: 2),
        JavaScriptCase(rule: ["var": "items.length"], data: ["items": [1, 2, 3]], expected: 3),
        JavaScriptCase(rule: [">": [["var": "notes.length"], 20]], data: ["notes": "this note is far longer than twenty characters"], expected: true),
        JavaScriptCase(rule: ["var": "obj.length"], data: ["obj": ["length": "own member"]], expected: "own member"),
        // Only a plain index names an item.
        JavaScriptCase(rule: ["var": "items.1"], data: ["items": [10, 20]], expected: 20),
        JavaScriptCase(rule: ["var": "items.01"], data: ["items": [10, 20]], expected: .null),
        JavaScriptCase(rule: ["var": "items.+1"], data: ["items": [10, 20]], expected: .null),
        JavaScriptCase(rule: ["var": "notes.01"], data: ["notes": "abc"], expected: .null),
        JavaScriptCase(rule: ["var": "notes.2"], data: ["notes": "abc"], expected: "c"),
        // `in` finds the needle's code units even where a combining mark follows it (indexOf does).
        JavaScriptCase(rule: ["in": ["http", ["var": "notes"]]], data: ["notes": .string("see http\(combiningAcute)://evil.example")], expected: true),
        JavaScriptCase(rule: ["in": ["http", ["var": "notes"]]], data: ["notes": "see htt p://"], expected: false),
        JavaScriptCase(rule: ["in": ["aab", "aaab"]], data: [:], expected: true),
        JavaScriptCase(rule: ["in": ["abab", "abaabab"]], data: [:], expected: true),
        JavaScriptCase(rule: ["in": ["", "x"]], data: [:], expected: true),
        // Two encodings of one character are two strings in JavaScript.
        JavaScriptCase(rule: ["==": ["josé", .string("jose\(combiningAcute)")]], data: [:], expected: false),
        JavaScriptCase(rule: ["===": ["josé", .string("jose\(combiningAcute)")]], data: [:], expected: false),
        JavaScriptCase(rule: ["!=": ["josé", .string("jose\(combiningAcute)")]], data: [:], expected: true),
        JavaScriptCase(rule: ["in": ["josé", [.string("jose\(combiningAcute)")]]], data: [:], expected: false),
        JavaScriptCase(rule: ["==": ["josé", "josé"]], data: [:], expected: true),
        // `all`, `some` and `none` take only arrays (json-logic-js checks `Array.isArray`), not a string's characters.
        JavaScriptCase(rule: ["all": [["var": "n"], ["in": [["var": ""], "0123456789"]]]], data: ["n": "4111"], expected: false),
        JavaScriptCase(rule: ["all": [["var": "n"], ["in": [["var": ""], "0123456789"]]]], data: ["n": ["4", "1"]], expected: true),
        JavaScriptCase(rule: ["some": [["var": "n"], ["==": [["var": ""], "a"]]]], data: ["n": "abc"], expected: false),
        // An empty haystack holds nothing (`if (!b) return false`).
        JavaScriptCase(rule: ["in": ["", ""]], data: [:], expected: false),
        JavaScriptCase(rule: ["in": [["var": "a"], ["var": "b"]]], data: ["a": "", "b": ""], expected: false),
        // parseFloat reads code units: a combining mark ends the number after the digit it follows.
        JavaScriptCase(rule: ["+": [.string("5000\(combiningAcute)")]], data: [:], expected: 5000),
        JavaScriptCase(rule: ["+": [" \u{FEFF}12.5kg"]], data: [:], expected: 12.5),
        // JavaScript's white space: U+FEFF is trimmed, U+0085 is not.
        JavaScriptCase(rule: [">": ["\u{FEFF}5000", 1000]], data: [:], expected: true),
        JavaScriptCase(rule: [">": ["\u{85}5000", 0]], data: [:], expected: false),
        JavaScriptCase(rule: ["-": ["\u{2003}7\u{2029}", 0]], data: [:], expected: 7),
        // Number() reads 0x, 0o and 0b integers, of any length; parseFloat stops at the x.
        JavaScriptCase(rule: ["-": ["0x10", 0]], data: [:], expected: 16),
        JavaScriptCase(rule: ["-": ["0o17", 0]], data: [:], expected: 15),
        JavaScriptCase(rule: ["-": ["0B101", 0]], data: [:], expected: 5),
        JavaScriptCase(rule: ["-": ["0x1FFFFFFFFFFFFFFFF", 0]], data: [:], expected: .number(36_893_488_147_419_103_231.0)),
        // Rounded once, to the nearest double: node gives 26028510742171144000 for this one.
        JavaScriptCase(rule: [">=": ["0x16937d89d738cc899", 26_028_510_742_171_144_000.0]], data: [:], expected: true),
        JavaScriptCase(rule: ["-": ["0b11111111111111111111111111111111111111111111111111111111", 0]], data: [:], expected: .number(72_057_594_037_927_935.0)),
        JavaScriptCase(rule: ["-": ["0o7777777777777777777777", 0]], data: [:], expected: .number(73_786_976_294_838_206_463.0)),
        JavaScriptCase(rule: [">": ["0o19", 0]], data: [:], expected: false),
        JavaScriptCase(rule: ["+": ["0x10"]], data: [:], expected: 0),
        // Numbers print as JavaScript prints them.
        JavaScriptCase(rule: ["cat": [0.00001]], data: [:], expected: "0.00001"),
        JavaScriptCase(rule: ["cat": [1e-7]], data: [:], expected: "1e-7"),
        JavaScriptCase(rule: ["cat": [1_152_921_504_606_846_976.0]], data: [:], expected: "1152921504606847000"),
        JavaScriptCase(rule: ["in": ["0.00001", ["cat": ["x", 0.00001]]]], data: [:], expected: true),
    ]

    @Test("each case", arguments: cases)
    func evaluates(_ test: JavaScriptCase) throws {
        let rule = try JsonLogicRule(test.rule)
        #expect(rule.evaluate(test.data) == test.expected)
    }

    static let identities: [(JSONValue, JSONValue, Bool)] = [
        (.string("josé"), .string("jose\u{301}"), false),
        ("josé", "josé", true),
        (["a": ["é"]], ["a": ["é"]], true),
        (["a": ["é"]], ["a": [.string("e\u{301}")]], false),
        ([1, "x"], [1, "x"], true),
    ]

    @Test("a value is identical to another only with the same bytes", arguments: identities)
    func identical(_ a: JSONValue, _ b: JSONValue, _ expected: Bool) {
        #expect(a.isIdentical(to: b) == expected)
        #expect(b.isIdentical(to: a) == expected)
    }
}
