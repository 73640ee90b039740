import Foundation
import RolloutCore
import Testing

/// An event's canonical bytes are what the hash chain is taken over; they are written member by member
/// in key order (no sort) and must be exactly the canonical text of the event's JSON object.
@Suite("Audit events: canonical bytes")
struct AuditEventCanonicalTests {
    static let events: [AuditEvent] = {
        let base = AuditEvent(
            ts: Date(timeIntervalSince1970: 1_764_000_000.123), tenant: "acme", actor: "agent-1", session: nil, tool: "orders.update",
            model: "Order", operation: "update", targets: [7], rowCount: 1,
            changes: [RowChange(key: 7, fields: ["status": FieldChange(before: "pending", after: "shipped")])],
            reason: "carrier update", idempotencyKey: "k-1", decision: "executed")
        var full = base
        full.seq = 42
        full.session = "s-1"
        full.approver = "maria"
        full.policyDigest = "sha256:abc"
        full.backend = "upstream:shop"
        full.message = "orders.update changed 1 row"
        full.details = ["args_digest": "sha256:def", "z": [1, 2], "a": ["nested": true]]
        full.targets = [7, "b-8"]
        full.changes = [RowChange(key: 7, fields: ["status": FieldChange(before: nil, after: "x")]),
                        RowChange(key: "b-8", fields: ["notes": FieldChange(before: "é", after: "e\u{301}\n\"q\"")])]
        var bare = base
        bare.targets = []
        bare.changes = []
        bare.model = nil
        bare.operation = nil
        bare.reason = nil
        bare.idempotencyKey = nil
        var withExtra = full
        withExtra.extra = ["principal_id": "p-1", "aaa": 1, "zzz": .null]
        var otherKey = base
        otherKey.changes = [RowChange(key: 9, fields: ["status": FieldChange(before: "a", after: "b")])]
        // fields_changed written without building its objects: names in UTF-16 order (U+FF61 sorts after the
        // emoji by UTF-16, before it by UTF-8), a field with only a before, only an after, neither, and values
        // that are objects, numbers and null.
        var manyFields = base
        manyFields.changes = [RowChange(key: 7, fields: [
            "status": FieldChange(before: "pending", after: "shipped"), "\u{FF61}": FieldChange(before: 1, after: nil),
            "\u{1F600}": FieldChange(before: nil, after: ["b": 2, "a": [1.5, .null]]), "gone": FieldChange(before: nil, after: nil),
            "Z": FieldChange(before: .null, after: .null), "é": FieldChange(before: "e\u{301}", after: "é"),
        ])]
        var noFields = base
        noFields.changes = [RowChange(key: 7, fields: [:])]
        return [base, full, bare, withExtra, otherKey, manyFields, noFields]
    }()

    @Test("canonicalBytes is the canonical text of json", arguments: events)
    func sameBytes(_ event: AuditEvent) {
        #expect(event.canonicalBytes == event.json.canonicalBytes)
    }

    /// Events whose effect key is written straight into bytes: several rows, a field without an after
    /// value (left out) beside one whose after is null (kept), names that UTF-16 order sorts unlike
    /// their bytes (`\u{E000}` after `\u{1F600}`), a row with no after values, and nested values.
    static let effects: [AuditEvent] = {
        var many = events[1]
        many.targets = [7, "b-8", 9.5]
        many.changes = [
            RowChange(key: 7, fields: ["status": FieldChange(before: "a", after: "b"), "gone": FieldChange(before: 1, after: nil),
                                       "nulled": FieldChange(before: 1, after: .null)]),
            RowChange(key: "b-8", fields: ["\u{E000}": FieldChange(before: nil, after: 1), "\u{1F600}": FieldChange(before: nil, after: 2),
                                           "Z": FieldChange(before: nil, after: ["x": [1, "y"], "a": true])]),
            RowChange(key: 9.5, fields: ["only_before": FieldChange(before: "x", after: nil)]),
        ]
        var noRows = events[0]
        noRows.changes = []
        return [events[0], events[1], events[4], many, noRows]
    }()

    @Test("effectKey is the digest of the canonical {after, targets, tool} value", arguments: effects)
    func effectKey(_ event: AuditEvent) {
        let after: [JSONValue] = event.changes.map { .object($0.fields.compactMapValues(\.after)) }
        let value: JSONValue = ["tool": .string(event.tool), "targets": .array(event.targets), "after": .array(after)]
        #expect(event.effectKey == String(value.canonicalDigest.prefix(16)))
        #expect(Self.events[2].effectKey == nil, "no targets, no effect")
    }
}
