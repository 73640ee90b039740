import Foundation
import RolloutCore

extension Guard {
    /// Undoes one executed write: builds the inverse from the audit event's before and after values and
    /// runs it in one transaction, itself audited (`rolled_back`, linked by `rollback_of`). Refused, and
    /// audited as `rollback_refused` with the reason, when the rows changed since, a value was redacted,
    /// or the write was already rolled back.
    public func rollback(_ seq: Int64, by actor: String, reason: String) throws -> Decision {
        let now = clock.now()
        return try environment.transaction { session in
            guard let original = try session.ledger.event(seq: seq) else { throw GuardError.noSuchEvent(seq) }
            let principal = Principal(tenant: original.tenant, actor: actor)

            func refuse(_ message: String) throws -> Decision {
                var event = rollbackEvent(original, principal: principal, now: now, reason: reason)
                event.decision = DecisionCode.rollbackRefused.rawValue
                event.message = message
                let stored = try session.ledger.append(event)
                return Decision(code: .rollbackRefused, message: message, auditSeq: stored.seq, result: refusalResult(.rollbackRefused, message))
            }

            if let problem = ReasonRule().problem(with: reason) { return try refuse("a rollback needs a real reason: \(problem)") }
            guard original.decision == DecisionCode.executed.rawValue else {
                return try refuse("event \(seq) is \(original.decision); only executed writes can be rolled back")
            }
            if let by = try session.ledger.rollback(of: seq) { return try refuse("event \(seq) was already rolled back by event \(by)") }
            guard let modelName = original.model, let model = policy.model(named: modelName) else {
                return try refuse("event \(seq) wrote model \(original.model ?? "?"), which the policy does not define")
            }
            guard let operation = original.operation.flatMap(WriteOperation.init(rawValue:)) else {
                return try refuse("event \(seq) has no operation that can be inverted")
            }
            guard !original.changes.isEmpty else { return try refuse("event \(seq) recorded no changes to invert") }

            // Check every row first, so that a refusal changes nothing. Redacted values come back from the
            // stash, checked against the digest the log holds.
            let stash = try session.ledger.stashedSecrets(seq: seq)
            var inverse: [RowChange] = []
            for logged in original.changes {
                var change = logged
                let current = try session.backend.rows(model: model, keys: [change.key]).first ?? nil
                for (name, field) in change.fields {
                    if let before = field.before, Redactor.isRedacted(before) {
                        guard let clear = stash?[change.key.canonicalText]?[name], Redactor.digest(clear) == before.stringValue else {
                            return try refuse("\(model.name) \(change.key.canonicalText): \(name) was redacted in the log and its value was not kept, so it cannot be restored")
                        }
                        change.fields[name]?.before = clear
                    }
                    if let after = field.after, Redactor.isRedacted(after), let now = current?[name], Redactor.digest(now) == after.stringValue {
                        change.fields[name]?.after = now
                    }
                    if field.before == nil {
                        return try refuse("\(model.name) \(change.key.canonicalText): the value of \(name) before the write is unknown")
                    }
                }
                switch operation {
                case .create:
                    guard let current else { return try refuse("\(model.name) \(change.key.canonicalText) no longer exists") }
                    if let name = changedSince(change, current) {
                        return try refuse("\(model.name) \(change.key.canonicalText) changed since: \(name) is now \(current[name]?.canonicalText ?? "null")")
                    }
                    inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: $0.after, after: .null) }))
                case .update, .bulkUpdate:
                    guard let current else { return try refuse("\(model.name) \(change.key.canonicalText) no longer exists") }
                    if let name = changedSince(change, current) {
                        return try refuse("\(model.name) \(change.key.canonicalText) changed since: \(name) is now \(current[name]?.canonicalText ?? "null"), the write set \(change.fields[name]?.after?.canonicalText ?? "null")")
                    }
                    inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: $0.after, after: $0.before) }))
                case .delete:
                    if current != nil { return try refuse("\(model.name) \(change.key.canonicalText) exists again, so the delete cannot be undone") }
                    inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: .null, after: $0.before) }))
                }
            }

            for change in inverse {
                switch operation {
                case .create:
                    try session.backend.delete(model: model, key: change.key)
                case .update, .bulkUpdate:
                    try session.backend.update(model: model, key: change.key, values: change.fields.compactMapValues(\.after))
                case .delete:
                    var values = change.fields.compactMapValues(\.after)
                    values[model.key] = change.key
                    _ = try session.backend.insert(model: model, values: values)
                }
            }
            var event = rollbackEvent(original, principal: principal, now: now, reason: reason)
            event.decision = DecisionCode.rolledBack.rawValue
            event.changes = inverse
            event.message = "rolled back event \(seq): \(inverse.count) row\(inverse.count == 1 ? "" : "s") restored"
            let stored = try session.ledger.append(event)
            try session.ledger.recordRollback(of: seq, by: stored.seq)
            let result: JSONValue = ["ok": true, "decision": "rolled_back", "audit_id": .number(Double(stored.seq)), "rollback_of": .number(Double(seq))]
            return Decision(code: .rolledBack, message: event.message!, auditSeq: stored.seq, changes: inverse, result: result)
        }
    }

    /// The first field whose current value is not what the write left, if any.
    private func changedSince(_ change: RowChange, _ current: [String: JSONValue]) -> String? {
        for name in change.fields.keys.sorted() where (current[name] ?? .null) != (change.fields[name]?.after ?? .null) {
            return name
        }
        return nil
    }

    private func rollbackEvent(_ original: AuditEvent, principal: Principal, now: Date, reason: String) -> AuditEvent {
        AuditEvent(
            ts: now, tenant: principal.tenant, actor: principal.actor, tool: original.tool, model: original.model,
            operation: original.operation, targets: original.targets, rowCount: original.changes.count, reason: reason,
            decision: "", policyDigest: policyDigest, details: ["rollback_of": .number(Double(original.seq))])
    }
}
