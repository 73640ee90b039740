import Foundation
import RolloutCore

extension Guard {
    /// Steps 3 to 11 of DESIGN.md's pipeline, in order, first refusal wins. Reads state through
    /// `session` but writes nothing: recording is the caller's job, so shadow mode can reuse this as is.
    func evaluate(
        _ call: ToolCall, tool: ToolPolicy, principal: Principal, session: any GuardSession, now: Date,
        mode: EvaluationMode
    ) throws -> Verdict {
        // 3. The binding must be able to read the request.
        let request: WriteRequest
        switch RequestBinder.bind(call, to: tool) {
        case .success(let bound): request = bound
        case .failure(let failure):
            return .refuse(.invalidArguments, "\(tool.name): \(failure.message)")
        }
        guard let model = policy.model(named: tool.model) else {
            return .refuse(.invalidArguments, "\(tool.name) writes model \(tool.model), which the policy does not define")
        }

        // 4. A real reason.
        if !faults.contains(.skipReasonCheck), let problem = tool.reason.problem(with: request.reason) {
            let hint = tool.reason.required ? " Say why this write is needed, in words (at least \(tool.reason.minLength) characters)." : ""
            return .refuse(.reasonRequired, "\(tool.name): \(problem).\(hint)")
        }

        // 5. Idempotency: required on real writes; a known key replays or conflicts.
        if mode != .approved, !request.dryRun {
            if let key = request.idempotencyKey {
                if !faults.contains(.skipIdempotencyLedger), let entry = try session.ledger.idempotency(tenant: principal.tenant, key: key) {
                    if entry.tool == tool.name && entry.effectDigest == request.effectDigest {
                        return .replay(entry)
                    }
                    return .refuse(.idempotencyConflict,
                        "\(tool.name): idempotency key '\(key)' was already used (audit event \(entry.auditSeq)) for a different write; use a new key for a new write")
                }
            } else if tool.idempotencyRequired, !faults.contains(.skipIdempotencyRequirement) {
                return .refuse(.idempotencyKeyRequired,
                    "\(tool.name) needs an idempotency key\(tool.binding.idempotencyKey.map { " at \($0)" } ?? ""): a fresh unique string per write, reused only when retrying the same write")
            }
        }

        // 6. Tenant scoping: never the tenant field, never another tenant's row.
        if !faults.contains(.skipTenantCheck) {
            if request.fields[model.tenantField] != nil {
                return .refuse(.crossTenant, "\(tool.name): \(model.tenantField) is the tenant field; a write can never set it")
            }
        }
        var rows: [[String: JSONValue]] = []
        let observed = session.backend.observesRows
        if !request.targets.isEmpty, !observed {
            // Rows nobody can read: their before values are unknown, never invented.
            rows = request.targets.map { _ in [:] }
        } else if !request.targets.isEmpty {
            let found = try session.backend.rows(model: model, keys: request.targets)
            for (key, row) in zip(request.targets, found) {
                guard let row else {
                    return .refuse(.notFound, "\(tool.name): no \(model.name) \(key.canonicalText) in tenant \(principal.tenant)")
                }
                if !faults.contains(.skipTenantCheck), row[model.tenantField] != .string(principal.tenant) {
                    return .refuse(.crossTenant, "\(tool.name): \(model.name) \(key.canonicalText) does not belong to tenant \(principal.tenant)")
                }
                rows.append(row)
            }
        }

        // 7. Only writable fields.
        if !faults.contains(.skipWritableCheck) {
            let notWritable = request.fields.keys.filter { !tool.writable.contains($0) }.sorted()
            if !notWritable.isEmpty {
                let list = tool.writable.isEmpty ? "none" : tool.writable.joined(separator: ", ")
                return .refuse(.fieldNotWritable,
                    "\(tool.name) may not change \(notWritable.joined(separator: ", ")); it may change only: \(list)")
            }
        }

        // 8. Values within the model's rules (and every required field on a create).
        if !faults.contains(.skipValueCheck) {
            for name in request.fields.keys.sorted() {
                if let rule = model.field(name), let problem = rule.violation(request.fields[name]!) {
                    return .refuse(.invalidValue, "\(tool.name): \(problem)")
                }
            }
            if request.operation == .create {
                let missing = tool.writable.filter { name in
                    request.fields[name] == nil && !(model.field(name)?.nullable ?? true)
                }
                if !missing.isEmpty {
                    return .refuse(.invalidValue, "\(tool.name): a new \(model.name) needs \(missing.joined(separator: ", "))")
                }
            }
        }

        // 9. Caps per window, for the tenant and for the actor.
        if mode != .approved, !request.dryRun, !faults.contains(.skipCaps) {
            if let cap = tool.cap {
                let since = now.addingTimeInterval(-cap.per.timeInterval)
                let used = try session.ledger.callCount(tenant: principal.tenant, tool: tool.name, actor: nil, since: since)
                if used >= cap.max {
                    return .refuse(.capExceeded, "\(tool.name): tenant \(principal.tenant) has used its cap of \(cap); try again later or ask for a higher cap")
                }
            }
            if let cap = tool.actorCap {
                let since = now.addingTimeInterval(-cap.per.timeInterval)
                let used = try session.ledger.callCount(tenant: principal.tenant, tool: tool.name, actor: principal.actor, since: since)
                if used >= cap.max {
                    return .refuse(.capExceeded, "\(tool.name): actor \(principal.actor) has used its cap of \(cap)")
                }
            }
        }

        let plan = WritePlan(request: request, model: model, rows: rows, changes: Self.changes(request, model: model, rows: rows, observed: observed),
                             observed: observed)

        // 10. Row limits and dry runs.
        if !faults.contains(.skipRowLimits) {
            if let maxRows = tool.maxRows, request.rowCount > maxRows {
                return .refuse(.tooManyRows, "\(tool.name): \(request.rowCount) rows is above the limit of \(maxRows); split the work or ask a person")
            }
        }
        if request.dryRun { return .dryRun(plan) }
        if !faults.contains(.skipRowLimits), let threshold = tool.dryRunAboveRows, request.rowCount > threshold, mode != .approved {
            let since = now.addingTimeInterval(-options.dryRunValidity.timeInterval)
            let hasDryRun = try session.ledger.hasDryRun(tenant: principal.tenant, tool: tool.name, effectDigest: request.effectDigest, since: since)
            if !hasDryRun {
                return .refuse(.dryRunRequired,
                    "\(tool.name): \(request.rowCount) rows is above \(threshold); run the same call with dry_run: true first, check the diff, then repeat it")
            }
        }

        // 11. Approval for the high-stakes few.
        if mode != .approved, !faults.contains(.skipApproval), let approval = tool.approval {
            if approval.when.isTruthy(Self.conditionData(plan, principal: principal)) {
                return .pending(plan)
            }
        }
        return .execute(plan)
    }

    /// `{tool, tenant, actor, args, before, after, rows}`: what approval conditions read.
    static func conditionData(_ plan: WritePlan, principal: Principal) -> JSONValue {
        let before: JSONValue = plan.rows.first.map { .object($0) } ?? .null
        var after = plan.rows.first ?? [:]
        for (name, value) in plan.request.fields { after[name] = value }
        return [
            "tool": .string(plan.request.tool), "tenant": .string(principal.tenant), "actor": .string(principal.actor),
            "args": plan.request.call.arguments, "before": before,
            "after": plan.request.operation == .delete ? .null : .object(after),
            "rows": .number(Double(plan.request.rowCount)),
        ]
    }

    /// Before and after of every field the write sets. A delete records the whole row as before, so
    /// that a rollback can put it back.
    static func changes(_ request: WriteRequest, model: ModelPolicy, rows: [[String: JSONValue]], observed: Bool = true) -> [RowChange] {
        switch request.operation {
        case .create:
            return [RowChange(key: .null, fields: request.fields.mapValues { FieldChange(before: .null, after: $0) })]
        case .delete:
            return zip(request.targets, rows).map { key, row in
                RowChange(key: key, fields: row.filter { $0.key != model.key }.mapValues { FieldChange(before: $0, after: .null) })
            }
        case .update, .bulkUpdate:
            return zip(request.targets, rows).map { key, row in
                var fields: [String: FieldChange] = [:]
                for (name, value) in request.fields { fields[name] = FieldChange(before: row[name] ?? (observed ? .null : nil), after: value) }
                return RowChange(key: key, fields: fields)
            }
        }
    }
}
