import Foundation
import RolloutCore

/// One audit event as one line for a terminal: number, time, tenant, actor, tool, decision, rows,
/// the changed fields and the reason.
enum EventText {
    /// Every value is printed on this one line (`VisibleText.oneLine`): a tool name or a reason an agent
    /// wrote with a line feed in it cannot print a line that reads as another event.
    static func line(_ event: AuditEvent) -> String {
        var parts = ["#\(event.seq)", Timestamp.formatSeconds(event.ts), event.tenant, event.actor, event.tool, event.decision].map(VisibleText.oneLine)
        if event.rowCount > 0 { parts.append("rows=\(event.rowCount)") }
        if let first = event.changes.first {
            let fields = first.fields.keys.sorted().prefix(4).map { name -> String in
                let change = first.fields[name]!
                return "\(VisibleText.oneLine(name)): \(change.before?.canonicalText ?? "?")→\(change.after?.canonicalText ?? "?")"
            }
            if !fields.isEmpty { parts.append(fields.joined(separator: ", ")) }
        }
        if let approver = event.approver { parts.append("approver=\(VisibleText.oneLine(approver))") }
        if let reason = event.reason { parts.append("reason=\"\(VisibleText.oneLine(String(reason.prefix(80))))\"") }
        if event.category == .refused || event.category == .shadowed, let message = event.message { parts.append("— \(VisibleText.oneLine(message))") }
        return parts.joined(separator: "  ")
    }
}

extension Decision {
    /// The decision as printed by `--format json`.
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "decision": .string(code.rawValue), "message": .string(message), "audit_id": .number(Double(auditSeq)),
            "result": result,
        ]
        if let approvalId { object["approval_id"] = .number(Double(approvalId)) }
        if let wouldBe { object["would_be"] = .string(wouldBe.rawValue) }
        return .object(object)
    }
}
