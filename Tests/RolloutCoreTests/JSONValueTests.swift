import Foundation
import Testing

@testable import RolloutCore
import RolloutTestSupport

@Suite("JSON values")
struct JSONValueTests {
    @Test("canonical text sorts keys and is stable", arguments: [
        (#"{"b":1,"a":[true,null,"x"]}"#, #"{"a":[true,null,"x"],"b":1}"#),
        (#" { "z" : 1.5 , "y": -0 } "#, #"{"y":0,"z":1.5}"#),
        (#""tab\there \"q\" \u00e9 \ud83d\ude00""#, "\"tab\\there \\\"q\\\" é 😀\""),
        ("[1e3, 2.50, -7]", "[1000,2.5,-7]"),
        (#"{"ctl":"\u0001"}"#, #"{"ctl":"\u0001"}"#),
    ])
    func canonical(input: String, expected: String) throws {
        let value = try JSONValue.parse(input)
        #expect(value.canonicalText == expected)
        // Canonical text parses back to the same value.
        #expect(try JSONValue.parse(value.canonicalText) == value)
    }

    @Test("an object literal keeps every key once, the last value of a key written twice")
    func objectLiteral() {
        let twice: JSONValue = ["a": 1, "b": "x", "a": 3]
        #expect(twice == .object(["a": .number(3), "b": .string("x")]))
        let empty: JSONValue = [:]
        #expect(empty == .object([:]))
    }

    @Test("a write's effect digest, written member by member, is the digest of the effect built as one object")
    func effectDigestInParts() {
        var random = SeededRandom(seed: 5)
        let texts = ["", "a", "Zoë", "e\u{301}", "\u{1F600}", "quote\"d", "line\nbreak", "\u{212A}", "status", "ä", "A", "z"]
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 1 ? 4 : 6), using: &random) {
            case 0: return .string(texts.randomElement(using: &random)!)
            case 1: return .number([0, -1, 1e21, 0.1, 12.5, -0.0, 1e-7].randomElement(using: &random)!)
            case 2: return Bool.random(using: &random) ? .bool(true) : .null
            case 3: return .number(Double(Int.random(in: -1_000...1_000, using: &random)))
            case 4: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth + 1) })
            default:
                return .object(Dictionary((0..<Int.random(in: 0...4, using: &random)).map { _ in (texts.randomElement(using: &random)!, value(depth + 1)) },
                                          uniquingKeysWith: { a, _ in a }))
            }
        }
        for _ in 0..<2_000 {
            let fields = Dictionary((0..<Int.random(in: 0...5, using: &random)).map { _ in (texts.randomElement(using: &random)!, value(1)) },
                                    uniquingKeysWith: { a, _ in a })
            let request = WriteRequest(
                tool: texts.randomElement(using: &random)!, model: texts.randomElement(using: &random)!,
                operation: WriteOperation.allCases.randomElement(using: &random)!,
                targets: (0..<Int.random(in: 0...3, using: &random)).map { _ in value(1) }, fields: fields,
                reason: nil, idempotencyKey: nil, dryRun: false, call: ToolCall(tool: "t", arguments: .null))
            let built: JSONValue = [
                "tool": .string(request.tool), "model": .string(request.model), "operation": .string(request.operation.rawValue),
                "targets": .array(request.targets), "fields": .object(request.fields),
            ]
            #expect(request.effectDigest == "sha256:" + built.canonicalDigest)
        }
    }

    @Test("parse errors name the line and column", arguments: [
        ("{\n  \"a\": 1,\n  \"b\": }", 3, 8),
        ("[1, 2", 1, 6),
        ("{\"a\" 1}", 1, 6),
        ("01", 1, 2),
        ("\"\\ud800\"", 1, 8),
        ("[1] x", 1, 5),
    ])
    func parseErrors(input: String, line: Int, column: Int) {
        #expect {
            try JSONValue.parse(input)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.line == line && error.column == column
        }
    }

    @Test("a number refused for exactness is not quoted in the error (it may be a card number), only its size", arguments: [
        ("{\"card\": 41111111111111111111}", "an integer of 20 digits"),
        ("[-9007199254740993]", "an integer of 16 digits"),
        ("{\"n\": 1e400}", "a number of 5 characters"),
    ])
    func exactNumberErrors(input: String, says: String) throws {
        let bytes = Array(input.utf8)
        do {
            _ = try bytes.withUnsafeBufferPointer { try JSONValue.parse(bytes: $0, exactNumbers: true) }
            Issue.record("\(input) parsed")
        } catch let error as JSONParseError {
            #expect(error.message.contains(says), "\(error.message)")
            #expect(!error.message.contains("1111111") && !error.message.contains("9007199") && !error.message.contains("400"), "\(error.message)")
        }
    }

    @Test("JSON pointers resolve, set and remove per RFC 6901")
    func pointers() throws {
        let doc = try JSONValue.parse(#"{"a/b": {"c~d": [10, 20]}, "data": {"x": 1}}"#)
        #expect(JSONPointer("/a~1b/c~0d/1")?.resolve(in: doc) == .number(20))
        #expect(JSONPointer("/missing")?.resolve(in: doc) == nil)
        #expect(JSONPointer("nope") == nil)
        let set = JSONPointer("/data/y")!.setting(2, in: doc)
        #expect(set["data"] == ["x": 1, "y": 2])
        #expect(JSONPointer("/data/x")!.removing(from: doc)["data"] == .object([:]))
        #expect(JSONPointer("/a~1b/c~0d/1")!.description == "/a~1b/c~0d/1")
    }

    @Test("integers print without a fraction, other numbers round-trip")
    func numbers() {
        #expect(JSONValue.formatNumber(42) == "42")
        #expect(JSONValue.formatNumber(-0.25) == "-0.25")
        #expect(JSONValue.formatNumber(.nan) == "null")
        #expect(JSONValue.formatNumber(1e300) == "1e+300")
    }

    @Test("on the wire a whole number beyond 2^53 keeps its exact digits; the canonical text (hashed) keeps ECMAScript's", arguments: [
        (1_152_921_504_606_846_976.0, "1152921504606846976", "1152921504606847000"),
        (-9_007_199_254_740_994.0, "-9007199254740994", "-9007199254740994"),
        (9_007_199_254_740_992.0, "9007199254740992", "9007199254740992"),
        (1e300, "1e+300", "1e+300"), (0.5, "0.5", "0.5"), (42, "42", "42"),
    ])
    func wireNumbers(value: Double, wire: String, canonical: String) {
        let doc: JSONValue = ["n": .number(value), "list": [.number(value)]]
        #expect(String(decoding: doc.wireBytes, as: UTF8.self) == #"{"list":[\#(wire)],"n":\#(wire)}"#)
        #expect(doc.canonicalText == #"{"list":[\#(canonical)],"n":\#(canonical)}"#)
    }
}
