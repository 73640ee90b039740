import Foundation
import Testing
@testable import RolloutCore

/// The values kept in a shared box (`CopyOnWrite`) behave as plain structs: a change to one copy is never
/// seen by another, and equality and hashing read the values, not the box.
@Suite struct CopyOnWriteTests {
    static func tool() -> ToolPolicy {
        ToolPolicy(name: "orders.update", model: "Order", operation: .update, writable: ["status"], cap: Cap(max: 5, per: .hours(1)))
    }

    @Test func toolCopyChangesAlone() {
        let original = Self.tool()
        var copy = original
        copy.cap = nil
        copy.writable.append("notes")
        copy.rules = []
        #expect(original.cap == Cap(max: 5, per: .hours(1)))
        #expect(original.writable == ["status"])
        #expect(copy.writable == ["status", "notes"])
        #expect(copy != original)
    }

    @Test func printedWithItsValues() {
        let text = String(describing: Self.tool())
        #expect(text.contains("orders.update") && text.contains("status"))
        let event = AuditEvent(ts: Date(timeIntervalSince1970: 0), tenant: "acme", actor: "agent-1", tool: "orders.update", decision: "executed")
        #expect(String(describing: event).contains("agent-1"))
    }

    @Test func equalValuesInSeparateBoxesAreEqual() {
        let a = Self.tool(), b = Self.tool()
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        var c = b
        c.description = "changed"
        #expect(c != a)
        c.description = nil
        #expect(c == a)  // changed and changed back: equal by value, in its own box
    }

    @Test func modelCopyChangesAlone() {
        let original = ModelPolicy(name: "Order", table: "orders", key: "id", tenantField: "tenant_id", fields: [])
        var copy = original
        copy.managed.append("updated_at")
        copy.tenantField = nil
        #expect(original.managed.isEmpty)
        #expect(original.tenantField == "tenant_id")
        #expect(copy.managed == ["updated_at"])
    }

    @Test func eventCopyChangesAlone() {
        let original = AuditEvent(ts: Date(timeIntervalSince1970: 0), tenant: "acme", actor: "agent-1", tool: "orders.update", decision: "executed",
                                  details: ["args_digest": "hmac:x"])
        var copy = original
        copy.seq = 7
        copy.details["approval_rule"] = "refund"
        #expect(original.seq == 0)
        #expect(original.details.count == 1)
        #expect(copy.details.count == 2)
        #expect(copy != original)
        copy.seq = 0
        copy.details["approval_rule"] = nil
        #expect(copy == original)
        #expect(copy.hashValue == original.hashValue)
    }
}
