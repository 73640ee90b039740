import Foundation
import RolloutCore

extension Guard {
    /// Phases two and three of a proxied write: the call goes to the upstream with no transaction open,
    /// then its outcome is recorded in a second transaction. An outcome that cannot be recorded stops the
    /// guard: it will not forward what it cannot audit.
    func forward(_ context: DecisionContext, intent: Intent, beforeSnapshot: [JSONValue: [String: JSONValue]]?) async throws -> Decision {
        guard let upstream else { fatalError("forward is only reached with an upstream") }
        let outcome = await upstream.call(context.forwardCall)
        var afterSnapshot: [JSONValue: [String: JSONValue]]?
        var unverifiable: String?
        // Read after an answered write, whatever the answer said: a server whose answer reads as a refusal
        // (its words, or words an agent made it repeat) may have written all the same.
        if beforeSnapshot != nil, outcome.wasAnswered, let observer = upstream.observer {
            do {
                afterSnapshot = try observer.allRows(model: context.model)
            } catch {
                unverifiable = "\(error)"
            }
        }
        do {
            return try await environment.groupedTransaction { session in
                try self.recordOutcome(outcome, context, intent: intent, before: beforeSnapshot, after: afterSnapshot, unverifiable: unverifiable,
                                       session: session)
            }
        } catch {
            let answer: String = switch outcome {
            case .accepted: "it answered that it did the write"
            case .refused(_, let message, _): "it refused: \(redactor.scrubbing(message, secretsOf: context.call.arguments))"
            case .failed(let failure): redactor.scrubbing("\(failure)", secretsOf: context.call.arguments)
            }
            let failure = GuardError.outcomeNotRecorded(tool: context.tool.name, intentSeq: intent.seq, upstream: answer, error: "\(error)")
            halt.set("the outcome of \(context.tool.name) (intent event \(intent.seq)) could not be recorded: \(error)")
            throw failure
        }
    }

    /// Every row of the written model before the write, when the upstream's database can be read: the
    /// after snapshot is compared with it to catch an upstream that changed something else.
    func snapshotForMismatch(_ context: DecisionContext) throws -> [JSONValue: [String: JSONValue]]? {
        guard let observer = upstream?.observer, !context.shadow, context.request?.dryRun == false else { return nil }
        do {
            return try observer.allRows(model: context.model)
        } catch {
            throw BackendError("cannot read \(context.model.table) from the observed database: \(error)")
        }
    }

    /// The outcome event of a proxied write, the settled idempotency key, and the answer for the agent.
    /// `unverifiable` says why the observed rows could not be read after an answered write: what it did
    /// cannot be told, so it is in doubt, never `executed` on the upstream's word.
    func recordOutcome(
        _ outcome: UpstreamOutcome, _ context: DecisionContext, intent: Intent, before: [JSONValue: [String: JSONValue]]?,
        after: [JSONValue: [String: JSONValue]]?, unverifiable: String? = nil, session: any GuardSession
    ) throws -> Decision {
        let plan = intent.plan, tool = context.tool, principal = context.principal, now = clock.now()
        var event = planEvent(plan, context)
        event.ts = max(now, context.now)
        event.details["intent_seq"] = .number(Double(intent.seq))
        if let approval = intent.approval {
            event.approver = approval.approver
            event.details["approval_id"] = .number(Double(approval.approval.id))
            event.details["pending_seq"] = .number(Double(approval.approval.pendingSeq))
            if let reason = approval.reason { event.details["approval_reason"] = .string(reason) }
        }
        let key = plan.request.idempotencyKey
        // What a refusal left changed in the observed database: rows of the call or its tenant make it a
        // write that is not what was asked; other tenants' rows alone make it one that cannot be told
        // from another writer's, so it is in doubt, never a refusal on the upstream's word.
        var changed = ObservedChange.ChangedRows()
        if case .refused = outcome, unverifiable == nil, let before, let after {
            changed = ObservedChange.changedRows(plan.model, before: before, after: after, tenant: principal.tenant, targets: plan.request.targets)
        }
        let decision: Decision
        switch outcome {
        case .accepted(let result) where unverifiable != nil, .refused(_, _, let result) where unverifiable != nil || (changed.concerning == 0 && changed.elsewhere > 0):
            let keyText = key.map { " Its idempotency key '\($0)' will not run again." } ?? ""
            let answered = if case .refused(let code, _, _) = outcome { "answered by the upstream as refused (\(code))" } else { "answered by the upstream" }
            let why = unverifiable.map { "the observed database cannot be read after it (\($0))" }
                ?? "rows it did not name changed in the observed database while it ran, as another writer's would"
            let message = "\(tool.name) was \(answered), and \(why): what it did cannot be told.\(keyText) Check the upstream's state before asking again"
            event.decision = DecisionCode.inDoubt.rawValue
            event.message = message
            event.details["in_doubt"] = true
            if case .refused(let code, _, _) = outcome { event.details["upstream_code"] = .string(code) }
            // How many, never which: they are other tenants' rows.
            if changed.elsewhere > 0 { event.details["rows_changed_elsewhere"] = .number(Double(changed.elsewhere)) }
            let stored = try session.ledger.append(event)
            let answer: JSONValue = ["ok": false, "decision": "in_doubt", "audit_id": .number(Double(stored.seq)), "message": .string(message), "upstream": result]
            decision = Decision(code: .inDoubt, message: message, auditSeq: stored.seq, approvalId: intent.approval?.approval.id, result: answer)
            if let key { try settleKey(key, plan, tool: tool, decision: .inDoubt, seq: stored.seq, result: answer, principal: principal, session: session, now: now) }
            try settleApproval(intent.approval, status: .inDoubt, seq: stored.seq, session: session)

        case .accepted(let result):
            var changes = plan.changes
            var mismatch: [String] = []
            if let before, let after {
                (changes, mismatch) = ObservedChange.compare(plan, before: before, after: after, tenant: principal.tenant, secret: redactor.isSecret)
            } else if plan.request.operation == .create, let created = createdKey(result, model: plan.model) {
                changes = [RowChange(key: created, fields: plan.changes.first?.fields ?? [:])]
            }
            let code: DecisionCode = mismatch.isEmpty ? .executed : .upstreamMismatch
            event.changes = changes.map(redactor.redact)
            if plan.request.operation == .create { event.targets = changes.map(\.key).filter { !$0.isNull } }
            event.rowCount = max(changes.count, plan.request.rowCount)
            event.decision = code.rawValue
            event.message = mismatch.isEmpty
                ? "\(tool.name) done by the upstream (\(plan.request.rowCount) row\(plan.request.rowCount == 1 ? "" : "s"))"
                : "the upstream did not do what was asked: \(mismatch.prefix(3).joined(separator: "; "))"
            if !mismatch.isEmpty { event.details["mismatch"] = .array(mismatch.map(JSONValue.string)) }
            event.details["upstream_digest"] = .string(upstreamDigest(result))
            let stored = try session.ledger.append(event)
            if let secrets = secretValues(changes) { try session.ledger.stashSecrets(seq: stored.seq, values: secrets) }
            let answer: JSONValue = [
                "ok": .bool(mismatch.isEmpty), "decision": .string(code.rawValue), "audit_id": .number(Double(stored.seq)), "upstream": result,
            ]
            decision = Decision(code: code, message: event.message!, auditSeq: stored.seq, approvalId: intent.approval?.approval.id,
                                changes: event.changes, result: answer)
            if let key { try settleKey(key, plan, tool: tool, decision: code, seq: stored.seq, result: answer, principal: principal, session: session, now: now) }
            try settleApproval(intent.approval, status: .executed, seq: stored.seq, session: session)

        case .refused(let code, let message, let result) where changed.concerning > 0:
            // Refused in words, written in fact: what the database shows is recorded, with its before and
            // after values, as a write that is not what was asked (an agent must not make a write look refused).
            let (changes, mismatch) = ObservedChange.compare(plan, before: before!, after: after!, tenant: principal.tenant, secret: redactor.isSecret)
            let said = "the upstream answered that it refused \(tool.name) (\(code): \(redactor.scrubbing(LeakDetector.scrub(message), secretsOf: plan.request.call.arguments).prefix(200))), and the observed database changed"
            event.changes = changes.map(redactor.redact)
            if plan.request.operation == .create { event.targets = changes.map(\.key).filter { !$0.isNull } }
            event.rowCount = max(changes.count, plan.request.rowCount)
            event.decision = DecisionCode.upstreamMismatch.rawValue
            event.message = mismatch.isEmpty ? "\(said) as the write asked" : "\(said): \(mismatch.prefix(3).joined(separator: "; "))"
            event.details["upstream_code"] = .string(code)
            event.details["mismatch"] = .array(([said] + mismatch).map(JSONValue.string))
            let shown = redactor.scrubbing(result, secretsOf: plan.request.call.arguments)
            event.details["upstream_digest"] = .string(upstreamDigest(shown))
            let stored = try session.ledger.append(event)
            if let secrets = secretValues(changes) { try session.ledger.stashSecrets(seq: stored.seq, values: secrets) }
            let answer: JSONValue = ["ok": false, "decision": "upstream_mismatch", "audit_id": .number(Double(stored.seq)), "upstream": shown]
            decision = Decision(code: .upstreamMismatch, message: event.message!, auditSeq: stored.seq, approvalId: intent.approval?.approval.id,
                                changes: event.changes, result: answer)
            if let key {
                try settleKey(key, plan, tool: tool, decision: .upstreamMismatch, seq: stored.seq, result: answer, principal: principal, session: session, now: now)
            }
            try settleApproval(intent.approval, status: .executed, seq: stored.seq, session: session)

        case .refused(let code, let message, let result):
            event.decision = DecisionCode.upstreamRefused.rawValue
            // An upstream's error text can hold SQL and its parameters: the log keeps the gist, not those.
            // Nor a secret it quotes from the call.
            event.message = "the upstream refused \(tool.name) (\(code)): \(redactor.scrubbing(LeakDetector.scrub(message), secretsOf: plan.request.call.arguments))"
            event.details["upstream_code"] = .string(code)
            let shown = redactor.scrubbing(result, secretsOf: plan.request.call.arguments)
            event.details["upstream_digest"] = .string(upstreamDigest(shown))
            let stored = try session.ledger.append(event)
            decision = Decision(code: .upstreamRefused, message: event.message!, auditSeq: stored.seq, approvalId: intent.approval?.approval.id,
                                result: ["ok": false, "decision": "upstream_refused", "audit_id": .number(Double(stored.seq)), "upstream": shown])
            // The key answers with the refusal from now on, as it would have answered with the result: the
            // refusal is read from the upstream's answer, which can be wrong (a server that errs after its
            // commit, or words that read as a refusal), and a retry that ran again would write twice. A new
            // attempt takes a new key.
            if let key {
                try settleKey(key, plan, tool: tool, decision: .upstreamRefused, seq: stored.seq, result: decision.result, principal: principal, session: session, now: now)
            }
            try settleApproval(intent.approval, status: .refused, seq: stored.seq, session: session)

        case .failed(let failure):
            let code: DecisionCode = failure.neverSent ? .backendError : (failure.isCrash ? .backendError : .inDoubt)
            let keyText = key.map { " Its idempotency key '\($0)' will not run again." } ?? ""
            // A failure's text holds the upstream's words (its last stderr line, its answer's start).
            let failed = redactor.scrubbing("\(failure)", secretsOf: plan.request.call.arguments)
            let message = failure.neverSent
                ? "\(tool.name) did not reach the upstream: \(failed). Nothing was done; retry later"
                : "\(tool.name) was forwarded, and then \(failed). The write may or may not have happened.\(keyText) Check the upstream's state before asking again"
            event.decision = code.rawValue
            event.message = message
            event.details["in_doubt"] = .bool(!failure.neverSent)
            // An approved write that never left: its approval is pending again (`settlement(of:)` reads this).
            if failure.neverSent, intent.approval != nil { event.details["approval_status"] = .string(PendingApproval.Status.pending.rawValue) }
            let stored = try session.ledger.append(event)
            decision = Decision(code: code, message: message, auditSeq: stored.seq, approvalId: intent.approval?.approval.id,
                                result: refusalResult(code, message))
            if let key {
                if failure.neverSent {
                    // Nothing happened: the key goes back to what it was (free, or the queued request's).
                    if intent.approval == nil { try session.ledger.releaseIdempotency(tenant: principal.tenant, key: key) }
                } else {
                    try settleKey(key, plan, tool: tool, decision: .inDoubt, seq: stored.seq, result: decision.result, principal: principal, session: session, now: now)
                }
            }
            try settleApproval(intent.approval, status: failure.neverSent ? .pending : .inDoubt, seq: stored.seq, session: session)
        }
        return decision
    }

    /// The keyed digest of an upstream's answer as a key replays it, recorded on the event that settles the key:
    /// the idempotency table is not chained, and an answer edited there (a write that ran made to read as an
    /// error) would reach the agent's retry (helper-82). Keyed: the answer may quote the call's secrets.
    func upstreamDigest(_ answer: JSONValue) -> String {
        redactor.keyedDigest(answer.canonicalBytes)
    }

    func settleKey(_ key: String, _ plan: WritePlan, tool: ToolPolicy, decision: DecisionCode, seq: Int64, result: JSONValue, principal: Principal,
                   session: any GuardSession, now: Date) throws {
        try session.ledger.saveIdempotency(IdempotencyEntry(
            tenant: principal.tenant, key: key, tool: plan.request.tool, binding: IdempotencyBinding.of(plan.request, tool: tool, principal: principal, scope: decisionScope), auditSeq: seq,
            decision: decision, result: result, createdAt: now, backend: backend))
    }

    func settleApproval(_ run: ApprovalRun?, status: PendingApproval.Status, seq: Int64, session: any GuardSession) throws {
        guard let run else { return }
        var approval = run.approval
        approval.status = status
        approval.decidedBy = status == .pending ? nil : run.approver
        approval.decidedAt = status == .pending ? nil : clock.now()
        approval.decisionReason = status == .pending ? nil : run.reason
        approval.resultSeq = seq
        try session.ledger.updateApproval(approval)
    }

    /// The new row's key from the upstream's answer: structured content or JSON text, at the model's
    /// key or under a wrapping object (`{"id": 7}`, `{"row": {"id": 7}}`, `{"data": {"id": 7}}`).
    func createdKey(_ result: JSONValue, model: ModelPolicy) -> JSONValue? {
        guard let value = MCPResultText.json(result) else { return nil }
        if let key = value[model.key], !key.isNull { return key }
        for wrapper in ["row", "data", "record", "result", "created"] {
            if let key = value[wrapper]?[model.key], !key.isNull { return key }
        }
        return nil
    }
}

extension UpstreamFailure {
    var isCrash: Bool {
        if case .crashed = self { return true }
        return false
    }
}

/// What an upstream really changed, seen through its database: the after values of the write, and
/// every way the change differs from the request.
enum ObservedChange {
    /// `secret`: whether a column's values are redacted (the guard's redactor: fields marked `secret`, and
    /// names like a credential's); a mismatch names such a column but never shows its values.
    static func compare(
        _ plan: WritePlan, before: [JSONValue: [String: JSONValue]], after: [JSONValue: [String: JSONValue]], tenant: String,
        secret: (String) -> Bool = Redactor.looksLikeCredential
    ) -> ([RowChange], [String]) {
        let model = plan.model, request = plan.request
        let watched = Set(watchedFields(model))
        /// Whether a row belongs to another tenant: its values are that tenant's, never shown to this one's agent.
        func foreign(_ row: [String: JSONValue]?) -> Bool {
            guard let field = model.tenantField, let row else { return false }
            return row[field]?.isIdentical(to: .string(tenant)) != true
        }
        /// A value as a mismatch may show it: a secret field's is not shown, and a tenant other than this
        /// one is not named.
        func shown(_ name: String, _ value: JSONValue?) -> String {
            if model.field(name)?.secret == true || secret(name) { return "(secret)" }
            if name == model.tenantField, value?.isIdentical(to: .string(tenant)) != true { return "another tenant's" }
            return value.map { hidden($0).canonicalText } ?? "null"
        }
        /// A value with its secret members (an object field's `api_key`), at any depth, not shown.
        func hidden(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members): .object(members.reduce(into: [:]) { $0[$1.key] = secret($1.key) ? "(secret)" : hidden($1.value) })
            case .array(let items): .array(items.map(hidden))
            default: value
            }
        }
        var mismatch: [String] = []
        var changes: [RowChange] = []
        let targets = Set(request.targets.map(normalize))
        let created = after.keys.filter { before[$0] == nil }
        let deleted = before.keys.filter { !model.isDeleted(before[$0]) && model.isDeleted(after[$0]) }
        let changed = after.keys.filter { key in
            before[key].map { old in !model.isDeleted(after[key]) && differs(model, old, after[key]!) } ?? false
        }

        switch request.operation {
        case .create:
            if created.count != 1 {
                mismatch.append("a create made \(created.count) rows")
            }
            if let key = created.first, let row = after[key] {
                if foreign(row) {
                    // Another tenant's row (another writer's, or this one's gone astray): neither named nor described.
                    mismatch.append("the new \(model.name) belongs to another tenant, not \(tenant) (its key is not shown)")
                    break
                }
                for (name, value) in request.fields where !holds(row[name], value) && row[name] != nil {
                    mismatch.append("the new \(model.name) \(key.canonicalText) has \(name) \(shown(name, row[name])), not \(shown(name, value))")
                }
                changes = [RowChange(key: key, fields: request.fields.keys.reduce(into: [:]) { $0[$1] = FieldChange(before: .null, after: row[$1] ?? .null) })]
            }
        case .update, .bulkUpdate:
            for key in request.targets {
                let k = normalize(key)
                guard let old = before[k] else { continue }
                guard let new = after[k] else {
                    mismatch.append("\(model.name) \(key.canonicalText) was deleted by an update")
                    continue
                }
                var fields: [String: FieldChange] = [:]
                for name in request.fields.keys { fields[name] = FieldChange(before: old[name] ?? .null, after: new[name] ?? .null) }
                for (name, value) in request.fields where !holds(new[name], value) {
                    mismatch.append("\(model.name) \(key.canonicalText): \(name) is \(shown(name, new[name])), the write asked for \(shown(name, value))")
                }
                for name in watched.sorted() where old[name] != new[name] && request.fields[name] == nil {
                    mismatch.append("\(model.name) \(key.canonicalText): \(name) changed (\(shown(name, old[name])) → \(shown(name, new[name]))), which the write did not ask for")
                }
                // Columns the policy does not describe (the tenant's among them): named, their values not
                // recorded (nobody said what they hold).
                for name in undescribed(model, old, new) {
                    mismatch.append("\(model.name) \(key.canonicalText): column \(name) changed, which the write did not ask for and the policy does not describe (its values are not recorded)")
                }
                changes.append(RowChange(key: key, fields: fields))
            }
        case .delete:
            changes = plan.changes
            for key in request.targets where !model.isDeleted(after[normalize(key)]) {
                mismatch.append("\(model.name) \(key.canonicalText) still exists after the delete")
            }
        }
        // Rows that were never this tenant's, before or after: another writer's meanwhile, or this write's
        // gone astray, which cannot be told apart. Counted, never named: they are other tenants' rows.
        func elsewhere(_ key: JSONValue) -> Bool {
            guard let field = model.tenantField else { return false }
            return before[key]?[field]?.isIdentical(to: .string(tenant)) != true && after[key]?[field]?.isIdentical(to: .string(tenant)) != true
        }
        var othersChanged = 0
        for key in changed.sorted(by: { $0.canonicalText < $1.canonicalText }) where !targets.contains(key) {
            if elsewhere(key) { othersChanged += 1 } else { mismatch.append("\(model.name) \(key.canonicalText) changed, and the write did not name it") }
        }
        for key in deleted.sorted(by: { $0.canonicalText < $1.canonicalText }) where !targets.contains(key) {
            if elsewhere(key) { othersChanged += 1 } else { mismatch.append("\(model.name) \(key.canonicalText) was deleted, and the write did not ask for it") }
        }
        if request.operation != .create {
            for key in created.sorted(by: { $0.canonicalText < $1.canonicalText }) {
                if elsewhere(key) { othersChanged += 1 } else { mismatch.append("\(model.name) \(key.canonicalText) was created by a \(request.operation.rawValue)") }
            }
        }
        if othersChanged > 0 {
            mismatch.append("\(othersChanged) row\(othersChanged == 1 ? "" : "s") of other tenants changed while it ran (another writer's, or this write's gone astray: which cannot be told)")
        }
        return (changes, mismatch)
    }

    /// The rows a write answered as a refusal leaves changed in the observed database: made, gone, or
    /// with any column changed (a refusal changes nothing, so a column the policy does not name counts
    /// too), counted apart by whether they concern the call (one of its targets, or a row of its tenant
    /// before or after) or not.
    struct ChangedRows: Equatable {
        /// Its targets' and its tenant's rows: what it wrote, whatever it answered.
        var concerning = 0
        /// Other tenants' rows: another writer's meanwhile, or this call's gone astray; which of the two
        /// cannot be told from the database.
        var elsewhere = 0
    }

    static func changedRows(_ model: ModelPolicy, before: [JSONValue: [String: JSONValue]], after: [JSONValue: [String: JSONValue]],
                            tenant: String, targets: [JSONValue]) -> ChangedRows {
        let targeted = Set(targets.map(normalize))
        var counts = ChangedRows()
        func count(_ key: JSONValue, _ old: [String: JSONValue]?, _ new: [String: JSONValue]?) {
            let concerns = model.tenantField.map { field in targeted.contains(key) || old?[field]?.isIdentical(to: .string(tenant)) == true || new?[field]?.isIdentical(to: .string(tenant)) == true } ?? true
            if concerns { counts.concerning += 1 } else { counts.elsewhere += 1 }
        }
        for (key, row) in after where before[key] == nil { count(key, nil, row) }
        for (key, old) in before {
            guard let new = after[key] else {
                count(key, old, nil)
                continue
            }
            if differs(model, old, new) { count(key, old, new) }
        }
        return counts
    }

    /// Whether a row changed in any column but those the upstream manages on its own (`managed:`).
    static func differs(_ model: ModelPolicy, _ old: [String: JSONValue], _ new: [String: JSONValue]) -> Bool {
        guard old != new else { return false }
        guard !model.managed.isEmpty else { return true }
        return Set(old.keys).union(new.keys).contains { old[$0] != new[$0] && !model.managed.contains($0) }
    }

    /// The columns of a row that changed and that neither the policy's fields nor its soft-delete mark
    /// describe, nor `managed:` lets change: the tenant column, and any the policy does not name. Sorted.
    static func undescribed(_ model: ModelPolicy, _ old: [String: JSONValue], _ new: [String: JSONValue]) -> [String] {
        guard old != new else { return [] }
        let described = Set(watchedFields(model) + model.managed)
        return Set(old.keys).union(new.keys).filter { old[$0] != new[$0] && !described.contains($0) }.sorted()
    }

    /// The columns a comparison of snapshots reads: the model's fields and its soft-delete mark.
    static func watchedFields(_ model: ModelPolicy) -> [String] {
        model.allFieldNames + (model.softDelete.map { [$0] } ?? [])
    }

    /// Whether an observed value is the value a write asked for: the same, or an integer beyond 2^53 that
    /// the observer reads as its exact text and the asked number is exactly.
    static func holds(_ stored: JSONValue?, _ asked: JSONValue) -> Bool {
        if stored == asked { return true }
        if case .string(let s)? = stored, case .number(let d) = asked, let n = Int64(s), n.magnitude > 1 << 53, let m = Int64(exactly: d) {
            return n == m
        }
        return false
    }

    /// "7" and 7 name the same row, as they do in SQLite's integer keys. A key beyond 2^53 stays the exact
    /// text the observer reads it as (a double would round it onto its neighbour).
    static func normalize(_ key: JSONValue) -> JSONValue {
        if case .string(let s) = key, let n = Int64(s), n.magnitude <= 1 << 53 { return .number(Double(n)) }
        return key
    }
}
