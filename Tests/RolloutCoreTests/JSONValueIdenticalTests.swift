import Foundation
import Testing

@testable import RolloutCore

/// `isIdentical` is what every check that lets a value through compares with: the same JSON down to its
/// text's bytes, where Swift's `==` calls two spellings of one character equal.
@Suite("JSON values identical down to their bytes")
struct JSONValueIdenticalTests {
    static let kelvin = "\u{212A}", composed = "\u{E9}", decomposed = "e\u{301}"

    @Test("strings and values", arguments: [
        (JSONValue.string("abc"), JSONValue.string("abc"), true), (.string(""), .string(""), true), (.string(""), .string("a"), false),
        (.string("K"), .string(kelvin), false), (.string(composed), .string(decomposed), false),
        (.string(String(repeating: "long text ", count: 40)), .string(String(repeating: "long text ", count: 40)), true),
        (.string(String(repeating: "long text ", count: 40) + "K"), .string(String(repeating: "long text ", count: 40) + kelvin), false),
        (.number(1), .number(1), true), (.number(1), .string("1"), false), (.null, .null, true),
        (["a", 1], ["a", 1], true), (["a", 1], [1, "a"], false), ([.string("K")], [.string(kelvin)], false),
    ] as [(JSONValue, JSONValue, Bool)])
    func values(_ a: JSONValue, _ b: JSONValue, _ identical: Bool) {
        #expect(a.isIdentical(to: b) == identical)
        #expect(b.isIdentical(to: a) == identical)
    }

    @Test("objects: the same names with the same bytes, whatever their order", arguments: [
        (["a": 1, "b": "x"], ["b": "x", "a": 1], true),
        (["a": 1, "b": "x"], ["a": 1, "b": "y"], false),
        (["a": 1], ["a": 1, "b": 2], false),
        (["K": 1], [kelvin: 1], false),
        (["K": 1, "x": 2], [kelvin: 1, "x": 2], false),
        ([composed: ["n": .string(composed)]], [composed: ["n": .string(composed)]], true),
        ([composed: 1], [decomposed: 1], false),
        (["n": ["K": 1]], ["n": [kelvin: 1]], false),
        ([:], [:], true),
    ] as [([String: JSONValue], [String: JSONValue], Bool)])
    func objects(_ a: [String: JSONValue], _ b: [String: JSONValue], _ identical: Bool) {
        #expect(JSONValue.object(a).isIdentical(to: .object(b)) == identical)
        #expect(JSONValue.object(b).isIdentical(to: .object(a)) == identical)
    }

    @Test("a string bridged from Foundation compares by its bytes too")
    func bridged() {
        let bridged = NSString(string: "order K-42").substring(from: 0)
        #expect(bridged.hasSameBytes(as: "order K-42"))
        #expect(!bridged.hasSameBytes(as: "order \u{212A}-42"))
    }
}
