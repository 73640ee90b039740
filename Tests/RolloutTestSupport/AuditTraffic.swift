import Foundation
import RolloutCore

/// Quiet, steady audit traffic for scoring and gate tests: one executed write every five minutes, by two
/// actors, each with its own key, target and a real reason.
public enum AuditTraffic {
    public static func background(days: Int = 10, start: Date = Timestamp.parse("2026-11-01T00:00:00Z")!, tenant: String = "acme",
                                  tool: String = "orders.update") -> [AuditEvent] {
        (0..<(days * 288)).map { (i: Int) -> AuditEvent in
            let key: JSONValue = .number(Double(i % 500))
            let change = RowChange(key: key, fields: ["status": FieldChange(before: "pending", after: .string("s\(i)"))])
            let actor = i % 2 == 0 ? "agent-1" : "agent-2"
            let rows = i % 3 == 0 ? 2 : 1
            return AuditEvent(
                ts: start.addingTimeInterval(Double(i) * 300 + 17), tenant: tenant, actor: actor, tool: tool,
                model: "Order", operation: "update", targets: [key], rowCount: rows, changes: [change],
                reason: "carrier update from the tracking feed", idempotencyKey: "bg-\(i)", decision: "executed")
        }
    }
}
