import Foundation
import RolloutCore
import Testing

@testable import RolloutStore

/// Verification reads `effect` and `shape` from the parsed body without decoding the whole event; it
/// must give what the event's own `effectKey` and `shape` give, or hand the body to the decoder.
@Suite("Store: derived columns read from the body")
struct DerivedColumnsTests {
    static func body(_ event: AuditEvent) -> JSONValue {
        try! JSONValue.parse(String(decoding: event.canonicalBytes, as: UTF8.self))
    }

    /// Each body, and whether the fast reading takes it (true) or hands it to the decoder (false).
    static let cases: [(String, JSONValue, Bool)] = {
        var several = sampleEvent(1)
        several.targets = [1, 2, "a-3"]
        several.changes = [
            RowChange(key: 1, fields: ["status": FieldChange(before: "pending", after: "shipped"), "notes": FieldChange(before: nil, after: "x")]),
            RowChange(key: 2, fields: ["status": FieldChange(before: "pending", after: nil)]),
            RowChange(key: "a-3", fields: [:]),
        ]
        var noTargets = sampleEvent(2)
        noTargets.targets = []
        var noChanges = sampleEvent(3)
        noChanges.changes = []
        var nested = sampleEvent(4)
        nested.changes = [RowChange(key: 4, fields: ["items": FieldChange(before: [["sku": "a", "qty": 1]], after: [["qty": 2, "sku": "a"]])])]
        var out: [(String, JSONValue, Bool)] = [
            ("one change", body(sampleEvent(0)), true), ("several rows, a field without an after value", body(several), true),
            ("no targets", body(noTargets), true), ("no changes", body(noChanges), true), ("nested values", body(nested), true),
        ]
        // Bodies rollout does not write, but an interchange file or a forger could hold.
        func edited(_ base: JSONValue, _ key: String, _ value: JSONValue?) -> JSONValue {
            guard case .object(var object) = base else { return base }
            object[key] = value
            return .object(object)
        }
        let base = body(sampleEvent(5))
        out += [
            ("fields_changed instead of changes", edited(edited(base, "changes", nil), "fields_changed", ["status": ["before": "a", "after": "b"]]), true),
            ("an empty changes list and fields_changed", edited(edited(base, "changes", []), "fields_changed", ["a": ["after": 1], "b": ["before": 2]]), true),
            ("an empty fields_changed", edited(edited(base, "changes", nil), "fields_changed", [:]), true),
            ("a fields_changed value that is not an object", edited(edited(base, "changes", nil), "fields_changed", ["status": "b"]), false),
            ("fields_changed of the wrong type", edited(edited(base, "changes", nil), "fields_changed", [1, 2]), false),
            ("changes of the wrong type", edited(base, "changes", "oops"), false),
            ("targets of the wrong type", edited(base, "targets", 7), false),
            ("an actor that is a number", edited(base, "actor", 3), false),
            ("an empty tool", edited(base, "tool", ""), false),
            ("a row count that is not whole", edited(base, "row_count", 1.5), false),
            ("a change without fields", edited(base, "changes", [["key": 1]]), false),
            ("a field change that is not an object", edited(base, "changes", [["key": 1, "fields": ["status": "shipped"]]]), true),
        ]
        // Without targets the shape is read from fields_changed's names alone.
        let untargeted = edited(edited(base, "targets", nil), "changes", nil)
        out += [
            ("no targets, fields_changed", edited(untargeted, "fields_changed", ["status": ["before": "a", "after": "b"], "notes": ["after": 1]]), true),
            ("no targets, an empty fields_changed", edited(untargeted, "fields_changed", [:]), true),
            ("no targets, a fields_changed value that is not an object", edited(untargeted, "fields_changed", ["status": "b", "notes": ["after": 1]]), false),
            ("no targets, fields_changed names with escapes", edited(untargeted, "fields_changed", ["line\nbreak": ["after": 1], "é": ["after": 2]]), true),
            ("no targets, fields_changed null", edited(untargeted, "fields_changed", .null), true),
        ]
        return out
    }()

    @Test("the fast reading takes the well-typed bodies, agrees with decoding on them, and hands every other to the decoder", arguments: cases)
    func agrees(_ name: String, _ json: JSONValue, _ takesFast: Bool) throws {
        let decoded = DerivedColumns(decoding: json)
        let object = try #require(json.objectValue)
        #expect((DerivedColumns(object) != nil) == takesFast, "\(name)")
        let fast = DerivedColumns(object) ?? decoded
        #expect(fast == decoded, "\(name): fast \(fast), decoded \(decoded)")
        // The same from the body's members found without building it (as verification reads them).
        let text = Array(json.canonicalText.utf8)
        let indexed = text.withUnsafeBufferPointer { bytes in JSONMembers(bytes).map { DerivedColumns(members: $0) } }
        let members = try #require(indexed, "\(name): the canonical body is indexed")
        #expect((members != nil) == takesFast, "\(name)")
        #expect((members ?? decoded) == decoded, "\(name): from members \(String(describing: members)), decoded \(decoded)")
    }

    @Test("the common body is read without decoding, and gives the event's own effect and shape")
    func commonBodyIsFast() throws {
        let event = sampleEvent(9)
        let object = try #require(Self.body(event).objectValue)
        let fast = try #require(DerivedColumns(object))
        #expect(fast.effect == event.effectKey && fast.shape == event.shape && fast.effect != nil)
    }
}
