import Crypto
import Foundation
import RolloutCore
import Testing

@testable import RolloutStore

/// Verification confirms the common event's `effect` and `shape` from its body's text
/// (`PlainDerivedColumns`). It may decline any body (the general way then derives them), but what it
/// confirms must be exactly what `DerivedColumns` derives, and it must confirm the common bodies, or it
/// saves nothing.
@Suite("Store: derived columns confirmed from the body's text")
struct PlainDerivedColumnsTests {
    /// What verification compares the stored columns with: the members' reading, else the decoder's.
    static func derived(_ text: [UInt8]) -> DerivedColumns? {
        text.withUnsafeBufferPointer { bytes in
            guard let members = JSONMembers(bytes) else { return nil }
            if let derived = DerivedColumns(members: members) { return derived }
            return (try? JSONValue.parse(bytes: bytes)).map(DerivedColumns.init(decoding:))
        }
    }

    static func confirms(_ text: [UInt8], effect: String?, shape: String?) -> Bool? {
        text.withUnsafeBufferPointer { bytes in
            guard let members = JSONMembers(bytes) else { return nil }
            func with(_ value: String?, _ body: (UnsafeBufferPointer<UInt8>?) -> Bool) -> Bool {
                guard var value else { return body(nil) }
                return value.withUTF8 { body($0) }
            }
            return with(effect) { e in with(shape) { s in PlainDerivedColumns.confirms(members, effect: e, shape: s) } }
        }
    }

    /// The effect the shortcut derives for a body whose shape it takes as `shape`: .some(nil) for a write
    /// without an effect, nil when it declines. Checked against the general way's, it shows the shortcut
    /// hashes the right document, not only that it rejects columns it was not given.
    static func derivedEffect(_ text: [UInt8], shape: String?) -> String?? {
        text.withUnsafeBufferPointer { bytes -> String?? in
            guard let members = JSONMembers(bytes) else { return nil }
            func derive(_ shape: UnsafeBufferPointer<UInt8>?) -> String?? {
                PlainDerivedColumns.derive(members, shape: shape) { document -> String? in
                    document.map { String(SHA256.hash(data: UnsafeRawBufferPointer($0)).withUnsafeBytes(Hex.lowercase).prefix(16)) }
                }
            }
            guard var shape else { return derive(nil) }
            return shape.withUTF8 { derive($0) }
        }
    }

    /// Stored columns that differ from `truth`: one hex digit, the shape's first letter, a name more,
    /// null for a value, a value for null.
    static func wrong(_ truth: DerivedColumns) -> [(String?, String?)] {
        var out: [(String?, String?)] = []
        if let effect = truth.effect {
            let flipped = String(effect.prefix(15)) + (effect.hasSuffix("0") ? "1" : "0")
            out += [(flipped, truth.shape), (nil, truth.shape), (effect.uppercased() == effect ? nil : effect.uppercased(), truth.shape),
                    (effect + "0", truth.shape), (String(effect.dropLast()), truth.shape)]
        } else {
            out.append(("0123456789abcdef", truth.shape))
        }
        if let shape = truth.shape {
            out += [(truth.effect, "x" + shape.dropFirst()), (truth.effect, shape + ",zz"), (truth.effect, nil), (truth.effect, ""),
                    (truth.effect, shape.split(separator: ",").reversed().joined(separator: ","))]
        } else {
            out += [(truth.effect, "status"), (truth.effect, "")]
        }
        return out.filter { $0.0 != truth.effect || $0.1 != truth.shape }
    }

    /// Bodies as rollout stores them (canonical), and whether the shortcut takes them.
    static let cases: [(name: String, body: String, confirmed: Bool)] = [
        ("one row with targets", #"{"actor":"agent-6","approver":null,"decision":"executed","fields_changed":{"notes":{"after":"tracking 6","before":null},"status":{"after":"shipped","before":"pending"}},"idempotency_key":"k-6","reason":"r","row_count":1,"seq":7,"targets":[6],"tenant":"t","tool":"orders.update","ts":"2025-11-24T16:00:01.500Z"}"#, true),
        ("no targets", #"{"actor":"a","decision":"allowed","fields_changed":{"email":{"after":"new","before":"old"},"owner":{"after":"new","before":"old"}},"row_count":1,"seq":7,"tenant":"t","tool":"crm.update","ts":"2015-02-26T21:43:09.659Z"}"#, true),
        ("targets null", #"{"decision":"allowed","fields_changed":{"b":{"after":1},"a":{"after":2}},"seq":1,"targets":null,"tenant":"t","tool":"x"}"#, true),
        ("empty targets", #"{"decision":"allowed","fields_changed":{"b":{"after":1}},"seq":1,"targets":[],"tenant":"t","tool":"x"}"#, true),
        ("string and negative targets, a field without an after value", #"{"decision":"d","fields_changed":{"z":{"before":1},"a":{"after":-12,"before":0}},"seq":1,"targets":["a-1",-3,0],"tenant":"t","tool":"x"}"#, true),
        ("after values of every plain kind", #"{"decision":"d","fields_changed":{"a":{"after":true},"b":{"after":false},"c":{"after":null},"d":{"after":[1,"x",[]]},"e":{"after":"~ ok"}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("names out of order in the body", #"{"decision":"d","fields_changed":{"zeta":{"after":1},"Alpha":{"after":2},"beta":{"after":3}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("an after value with a fraction", #"{"decision":"d","fields_changed":{"a":{"after":1.5}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an after value with an exponent", #"{"decision":"d","fields_changed":{"a":{"after":1e3}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an after value of 16 digits", #"{"decision":"d","fields_changed":{"a":{"after":1234567890123456}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an after value that is an object", #"{"decision":"d","fields_changed":{"a":{"after":{"k":1}}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an after value with an escape", #"{"decision":"d","fields_changed":{"a":{"after":"line\nbreak"}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("after values beyond ASCII, and DEL", #"{"decision":"d","fields_changed":{"a":{"after":"é 日本 ✓ 😀"},"b":{"after":"\#u{7F}"}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("a tool and targets beyond ASCII", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":["é-1",2],"tenant":"t","tool":"crm.mise_à_jour"}"#, true),
        ("an after value with an escaped non-ASCII character", #"{"decision":"d","fields_changed":{"a":{"after":"\u00e9"}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("before values with escaped quotes and backslashes (skipped, not copied)", #"{"decision":"d","fields_changed":{"a":{"after":1,"before":"say \"hi\" \\"},"b":{"after":"x","before":"\\\" \\\\ \"}"}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("a field name with an escape", #"{"decision":"d","fields_changed":{"a\"b":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("a field name beyond ASCII", #"{"decision":"d","fields_changed":{"é":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("a field that is not an object", #"{"decision":"d","fields_changed":{"a":1},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("a field with after twice", #"{"decision":"d","fields_changed":{"a":{"after":1,"after":2}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("a field with five members", #"{"decision":"d","fields_changed":{"a":{"after":1,"b":1,"c":1,"d":1,"e":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an empty fields_changed (a refusal)", #"{"decision":"d","fields_changed":{},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("an empty fields_changed with a space", #"{"decision":"d","fields_changed":{ },"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("an empty fields_changed, no targets", #"{"decision":"d","fields_changed":{},"seq":1,"tenant":"t","tool":"x"}"#, true),
        ("fields_changed null", #"{"decision":"d","fields_changed":null,"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("no fields_changed", #"{"decision":"d","seq":1,"targets":["a",2],"tenant":"t","tool":"x"}"#, true),
        ("no fields_changed, no targets", #"{"decision":"d","seq":1,"tenant":"t","tool":"x"}"#, true),
        ("fields_changed of the wrong type", #"{"decision":"d","fields_changed":[1],"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("names with commas and an empty name", #"{"decision":"d","fields_changed":{"a,b":{"after":1},"":{"after":2},"a":{"after":3}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("whitespace inside the field objects", #"{"decision":"d","fields_changed":{ "b" : { "after" : 1 , "before" : 2 } , "a":{"after":[1,2]} },"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, true),
        ("64 fields", Self.manyFields(64), true),
        ("65 fields", Self.manyFields(65), false),
        ("a changes list", #"{"changes":[{"fields":{"a":{"after":1}},"key":1}],"decision":"d","seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("an empty changes list", #"{"changes":[],"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("targets with a fraction", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1.5],"tenant":"t","tool":"x"}"#, false),
        ("targets with a leading zero", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[-0],"tenant":"t","tool":"x"}"#, false),
        ("targets that are not a list", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":7,"tenant":"t","tool":"x"}"#, false),
        ("targets with spaces", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1, 2],"tenant":"t","tool":"x"}"#, false),
        ("a tool with an escape", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x\ty"}"#, false),
        ("an empty tool", #"{"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":""}"#, false),
        ("an actor that is a number", #"{"actor":3,"decision":"d","fields_changed":{"a":{"after":1}},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
        ("a row count that is not whole", #"{"decision":"d","fields_changed":{"a":{"after":1}},"row_count":1.5,"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#, false),
    ]

    /// A body whose `fields_changed` has `count` fields.
    static func manyFields(_ count: Int) -> String {
        let fields = (0..<count).map { #""f\#($0)":{"after":\#($0)}"# }.joined(separator: ",")
        return #"{"decision":"d","fields_changed":{"# + fields + #"},"seq":1,"targets":[1],"tenant":"t","tool":"x"}"#
    }

    @Test("it confirms the common bodies' own columns, and never columns that differ", arguments: cases)
    func confirmsOnlyTheTruth(_ name: String, _ body: String, _ confirmed: Bool) throws {
        let text = Array(body.utf8)
        let truth = try #require(Self.derived(text), "\(name): indexed")
        #expect(Self.confirms(text, effect: truth.effect, shape: truth.shape) == confirmed, "\(name): \(truth)")
        let effect = Self.derivedEffect(text, shape: truth.shape)
        #expect((effect != nil) == confirmed, "\(name): derived \(String(describing: effect))")
        if let effect { #expect(effect == truth.effect, "\(name): the shortcut hashes another document") }
        for (effect, shape) in Self.wrong(truth) {
            #expect(Self.confirms(text, effect: effect, shape: shape) == false, "\(name): confirmed effect \(effect ?? "null"), shape \(shape ?? "null")")
        }
    }

    @Test("an event rollout writes is confirmed with its own effect and shape")
    func rolloutsOwnEvent() throws {
        var event = sampleEvent(3)
        event.targets = [42]
        event.changes = [RowChange(key: 42, fields: ["status": FieldChange(before: "pending", after: "shipped"), "notes": FieldChange(before: nil, after: "x 1")])]
        let text = event.canonicalBytes
        #expect(String(decoding: text, as: UTF8.self).contains(#""fields_changed""#), "a one-row event is stored in the one-row form")
        #expect(Self.confirms(text, effect: event.effectKey, shape: event.shape) == true)
    }

    @Test("20,000 seeded mutations of stored bodies: whatever it confirms is what the general way derives")
    func mutations() throws {
        var random = SeededRandom(seed: 23)
        let bases = Self.cases.map { Array($0.body.utf8) }
        let alphabet = Array(#"{}[]":,\ "0123456789-.eEtrufalsnx"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0x0A]
        var confirmed = 0
        for round in 0..<20_000 {
            let base = bases[round % bases.count]
            var bytes = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1 where bytes.count > 2: bytes.remove(at: at)
                case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...8, using: &random))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
            }
            guard let truth = Self.derived(bytes) else { continue }
            if let effect = Self.derivedEffect(bytes, shape: truth.shape) {
                #expect(effect == truth.effect, "mutation \(round): the shortcut derives \(effect ?? "null") for \(String(decoding: bytes, as: UTF8.self)); derived \(truth)")
            }
            // The stored columns may be the body's own, or the unmutated body's (a body edited in place).
            var candidates: [(String?, String?)] = [(truth.effect, truth.shape)] + Self.wrong(truth)
            if let original = Self.derived(base) { candidates.append((original.effect, original.shape)) }
            for (effect, shape) in candidates where Self.confirms(bytes, effect: effect, shape: shape) == true {
                #expect(effect == truth.effect && shape == truth.shape,
                        "mutation \(round): confirmed \(effect ?? "null")/\(shape ?? "null") for \(String(decoding: bytes, as: UTF8.self)); derived \(truth)")
                confirmed += 1
            }
        }
        // About a third of the rounds mutate a body it takes, and many of those leave a body it still takes:
        // the shortcut is taken, not just declined.
        #expect(confirmed > 1_000, "\(confirmed) of 20,000 confirmed")
    }
}
