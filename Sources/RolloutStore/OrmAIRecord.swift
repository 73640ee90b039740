import Foundation
import RolloutCore

/// Maps one OrmAI 0.2.1 audit record onto an `AuditEvent`. OrmAI logs reads and writes alike, with
/// the call's `inputs`, an `error` when the call failed, and snapshots when it captured them; the
/// fields we do not map are kept in `extra` (secrets redacted), so nothing is lost.
enum OrmAIRecord {
    static let mappedKeys: Set<String> = ["tool_name", "principal_id", "tenant_id", "timestamp", "reason", "row_count", "affected_rows"]

    static let operations = [
        "db.create": "create", "db.update": "update", "db.delete": "delete", "db.bulk_update": "bulk_update",
        "db.query": "read", "db.get": "read", "db.aggregate": "read", "db.describe_schema": "read",
    ]

    static func event(_ record: JSONValue, redactor: Redactor) throws(AuditEventError) -> AuditEvent {
        guard case .object(let object) = record else { throw AuditEventError(field: "", message: "is not an object") }
        guard case .string(let tool)? = object["tool_name"] else { throw AuditEventError(field: "tool_name", message: "is missing") }
        guard case .string(let tsText)? = object["timestamp"] else { throw AuditEventError(field: "timestamp", message: "is missing") }
        guard let ts = Timestamp.parse(tsText) else {
            throw AuditEventError(field: "timestamp", message: "'\(tsText)' is not an ISO 8601 timestamp")
        }
        let inputs = object["inputs"] ?? .null
        var targets: [JSONValue] = []
        if let id = inputs["id"], !id.isNull { targets = [id] }
        if case .array(let ids)? = inputs["ids"] { targets = ids }

        // OrmAI 0.2.1 logs a policy denial as a successful call (error null, outputs null): the outcome is
        // in the tool result, which its audit store does not keep. Say so rather than guess.
        var decision = "attempted"
        var message: String?
        if let error = object["error"], !error.isNull {
            decision = error["code"]?.stringValue ?? "denied"
            message = error["message"]?.stringValue ?? error.stringValue
        } else if let outputs = object["outputs"], !outputs.isNull {
            if outputs["success"] == .bool(false) {
                decision = outputs["error"]?["code"]?.stringValue ?? "denied"
                message = outputs["error"]?["message"]?.stringValue
            } else {
                decision = "executed"
            }
        } else {
            message = "OrmAI recorded the call without its outcome"
        }

        // Before/after: snapshots when OrmAI captured them, else the written data with before unknown.
        var changes: [RowChange] = []
        let before = object["before_snapshot"]?.objectValue
        let after = object["after_snapshot"]?.objectValue
        if let data = inputs["data"]?.objectValue ?? inputs["updates"]?.objectValue {
            var fields: [String: FieldChange] = [:]
            for (name, value) in data {
                fields[name] = FieldChange(before: before?[name], after: after?[name] ?? value)
            }
            for key in targets.isEmpty ? [JSONValue.null] : targets {
                changes.append(redactor.redact(RowChange(key: key, fields: fields)))
            }
        }

        let rowCount = object["affected_rows"]?.intValue ?? object["row_count"]?.intValue ?? (decision == "executed" || decision == "attempted" ? max(targets.count, changes.isEmpty ? 0 : 1) : 0)
        let leftovers = object.filter { !mappedKeys.contains($0.key) }
        // A field named like one of the event's own (`decision`, `tenant`, `details`...) is kept apart: written at
        // the top level, it would be a second member of that name in the chained body.
        var extra = leftovers.filter { !AuditEvent.knownKeys.contains($0.key) && $0.key != "source" && $0.key != "ormai_fields" }
        let apart = leftovers.filter { extra[$0.key] == nil }
        if !apart.isEmpty { extra["ormai_fields"] = .object(apart) }
        extra["source"] = "ormai"
        extra = redactor.redact(.object(extra)).objectValue ?? [:]
        return AuditEvent(
            ts: ts, tenant: object["tenant_id"]?.stringValue ?? "unknown", actor: object["principal_id"]?.stringValue ?? "unknown",
            session: object["trace_id"]?.stringValue ?? object["request_id"]?.stringValue, tool: tool,
            model: inputs["model"]?.stringValue, operation: operations[tool], targets: targets, rowCount: rowCount,
            changes: changes, reason: object["reason"]?.stringValue ?? inputs["reason"]?.stringValue,
            idempotencyKey: inputs["idempotency_key"]?.stringValue, decision: decision, message: message, extra: extra)
    }
}
