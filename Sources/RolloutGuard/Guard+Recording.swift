import Foundation
import RolloutCore

extension Guard {
    /// How long a write a person must approve waits before it expires: the tool's `approval.expires`,
    /// else a day (also for a write a rule sends to a person).
    static func approvalWait(_ tool: ToolPolicy) -> TimeSpan {
        tool.approval?.expiresAfter ?? .hours(24)
    }

    /// Records a verdict and carries it out, in the caller's transaction. For the built-in rows the
    /// write itself happens here; an upstream's write never does (see `forward`).
    func act(on verdict: Verdict, _ context: DecisionContext, session: any GuardSession) throws -> Decision {
        let call = context.call, tool = context.tool, principal = context.principal, now = context.now
        switch verdict {
        case .refuse(let code, let message):
            return try refuse(code, message, context, session: session)

        case .replay(let entry):
            var event = baseEvent(call, principal: principal, now: now, tool: tool, argumentsMark: context.marks?.arguments)
            event.decision = DecisionCode.replayed.rawValue
            event.idempotencyKey = entry.key
            event.message = "replayed the answer of audit event \(entry.auditSeq); nothing ran again"
            event.details["replay_of"] = .number(Double(entry.auditSeq))
            if let request = context.request { event.reason = request.reason; event.targets = request.targets }
            let stored = try session.ledger.append(event)
            return Decision(code: .replayed, message: event.message!, auditSeq: stored.seq, result: entry.result)

        case .inDoubt(let entry):
            let message = entry.missingFromLedger
                ? "idempotency key '\(entry.key)' was used by audit event \(entry.auditSeq), but the guard's ledger has no entry for it (the store was changed outside rollout; run `rollout audit verify`): the key is not taken as free, so the write does not run. Check the upstream's state; a new write needs a new key"
                : "idempotency key '\(entry.key)' belongs to a write that was forwarded (audit event \(entry.auditSeq)) whose outcome is not known: it may have happened, so it will not run again. Check the upstream's state; a new write needs a new key"
            var event = baseEvent(call, principal: principal, now: now, tool: tool, argumentsMark: context.marks?.arguments)
            event.decision = DecisionCode.inDoubt.rawValue
            event.idempotencyKey = entry.key
            event.message = message
            event.details["in_doubt_of"] = .number(Double(entry.auditSeq))
            if entry.missingFromLedger { event.details["ledger_missing"] = true }
            if let request = context.request { event.reason = request.reason; event.targets = request.targets }
            let stored = try session.ledger.append(event)
            return Decision(code: .inDoubt, message: message, auditSeq: stored.seq, result: refusalResult(.inDoubt, message))

        case .dryRun(let plan):
            var event = planEvent(plan, context)
            event.decision = DecisionCode.dryRun.rawValue
            event.message = "dry run: \(plan.request.rowCount) row\(plan.request.rowCount == 1 ? "" : "s") would change; nothing was written"
            // What it clears: the same call, from the same caller, on the rows as shown (`DryRunBinding`; its
            // ledger row is not chained, so the event holds the binding too). No plain digest of the effect: its
            // values may be secret, and an exported event gave them back to anyone who guessed.
            let binding = DryRunBinding.of(plan, tool: tool, principal: principal, scope: decisionScope)
            event.details[DryRunBinding.detail] = .string(binding)
            let stored = try session.ledger.append(event)
            try session.ledger.recordDryRun(tenant: principal.tenant, tool: tool.name, binding: binding, at: now, auditSeq: stored.seq)
            let result: JSONValue = [
                "ok": true, "decision": "dry_run", "audit_id": .number(Double(stored.seq)),
                "rows": .number(Double(plan.request.rowCount)), "changes": .array(event.changes.map(\.resultJSON)),
            ]
            return Decision(code: .dryRun, message: event.message!, auditSeq: stored.seq, changes: event.changes, result: result)

        case .pending(let plan, let rule):
            let expires = now.addingTimeInterval(Guard.approvalWait(tool).timeInterval)
            var event = planEvent(plan, context)
            event.decision = DecisionCode.pendingApproval.rawValue
            if let rule {
                event.details["approval_rule"] = .string(rule.name)
                event.details["approval_message"] = .string(rule.message)
            }
            let stored = try session.ledger.append(event)
            let id = try session.ledger.enqueue(PendingApproval(
                createdAt: now, expiresAt: expires, tenant: principal.tenant, actor: principal.actor, session: principal.session,
                subject: principal.subject, tool: tool.name, call: call, pendingSeq: stored.seq, backend: backend))
            let why = rule.map { " (\($0.message))" } ?? ""
            // What was asked, in the agent's own terms (redacted values stay redacted), so it can tell its user.
            let asked = event.changes.prefix(3).map { change in
                change.fields.keys.sorted().map { "\($0) → \(change.fields[$0]?.after.map(\.canonicalText) ?? "null")" }.joined(separator: ", ")
            }.filter { !$0.isEmpty }.joined(separator: "; ")
            let what = asked.isEmpty ? "" : " (\(asked)\(event.changes.count > 3 ? "; …" : ""))"
            let message = "\(tool.name)\(what) needs a person's approval\(why): approval \(id), expires \(Timestamp.formatSeconds(expires)). Nothing was done yet; a confirmation follows when a person decides: the write then runs once, and its outcome is recorded as its own event"
            try session.ledger.recordCall(tenant: principal.tenant, tool: tool.name, actor: principal.actor, at: now, auditSeq: stored.seq)
            var result: JSONValue = [
                "ok": true, "decision": "pending_approval", "approval_id": .number(Double(id)), "audit_id": .number(Double(stored.seq)),
                "message": .string(message), "requested": redactor.redact(context.forwardCall.arguments), "tool": .string(call.tool),
            ]
            if let rule, case .object(var object) = result {
                object["rule"] = .string(rule.name)
                result = .object(object)
            }
            try remember(plan.request, tool: tool, principal: principal, seq: stored.seq, decision: .pendingApproval, result: result, session: session, now: now,
                         marks: context.marks)
            return Decision(code: .pendingApproval, message: message, auditSeq: stored.seq, approvalId: id, changes: event.changes, result: result)

        case .execute(let plan):
            let changes = try executeRows(plan, principal: principal, session: session)
            var event = planEvent(plan, context)
            event.changes = changes.map(redactor.redact)
            event.targets = changes.map(\.key)
            event.rowCount = changes.count
            event.decision = DecisionCode.executed.rawValue
            event.message = "\(tool.name) changed \(changes.count) row\(changes.count == 1 ? "" : "s")"
            let stored = try session.ledger.append(event)
            if let secrets = secretValues(changes) { try session.ledger.stashSecrets(seq: stored.seq, values: secrets) }
            let result: JSONValue = [
                "ok": true, "decision": "executed", "audit_id": .number(Double(stored.seq)), "rows": .array(event.changes.map(\.resultJSON)),
            ]
            try session.ledger.recordCall(tenant: principal.tenant, tool: tool.name, actor: principal.actor, at: now, auditSeq: stored.seq)
            try remember(plan.request, tool: tool, principal: principal, seq: stored.seq, decision: .executed, result: result, session: session, now: now,
                         marks: context.marks)
            return Decision(code: .executed, message: event.message!, auditSeq: stored.seq, changes: event.changes, result: result)
        }
    }

    /// Step 12 on the built-in rows, in the caller's transaction.
    func executeRows(_ plan: WritePlan, principal: Principal, session: any GuardSession) throws -> [RowChange] {
        guard let rows = session.rows else { throw BackendError("this guard holds no rows and has no upstream to write to") }
        let request = plan.request
        let model = plan.model
        switch request.operation {
        case .create:
            var values = request.fields
            if let field = model.tenantField { values[field] = .string(principal.tenant) }
            let key = try rows.insert(model: model, values: values)
            return [RowChange(key: key, fields: request.fields.mapValues { FieldChange(before: .null, after: $0) })]
        case .update, .bulkUpdate:
            for key in request.targets { try rows.update(model: model, key: key, values: request.fields) }
            return plan.changes
        case .delete:
            for key in request.targets { try rows.delete(model: model, key: key) }
            return plan.changes
        }
    }

    /// Phase one of a proxied write: the intent event, the key reserved, the cap consumed.
    func recordIntent(_ plan: WritePlan, _ context: DecisionContext, approval: ApprovalRun?, session: any GuardSession) throws -> Intent {
        var event = planEvent(plan, context)
        event.decision = DecisionCode.intent.rawValue
        event.message = "\(context.tool.name) forwarded to the upstream; its outcome is the next event of this write"
        if let approval {
            event.approver = approval.approver
            event.details["approval_id"] = .number(Double(approval.approval.id))
            event.details["pending_seq"] = .number(Double(approval.approval.pendingSeq))
        }
        let stored = try session.ledger.append(event)
        if approval == nil {
            try session.ledger.recordCall(tenant: context.principal.tenant, tool: context.tool.name, actor: context.principal.actor,
                                          at: context.now, auditSeq: stored.seq)
            try remember(plan.request, tool: context.tool, principal: context.principal, seq: stored.seq, decision: .intent,
                         result: .null, session: session, now: context.now, marks: context.marks)
        } else if var queued = approval?.approval {
            queued.status = .executing
            queued.decidedBy = approval?.approver
            queued.decidedAt = context.now
            queued.decisionReason = approval?.reason
            try session.ledger.updateApproval(queued)
        }
        return Intent(seq: stored.seq, plan: plan, approval: approval)
    }

    /// The clear before-values of fields the redactor hides, by row key and field, or nil when none.
    func secretValues(_ changes: [RowChange]) -> JSONValue? {
        var rows: [String: JSONValue] = [:]
        for change in changes {
            var fields: [String: JSONValue] = [:]
            for (name, field) in change.fields where redactor.isSecret(name) {
                if let before = field.before, !before.isNull { fields[name] = before }
            }
            if !fields.isEmpty { rows[change.key.canonicalText] = .object(fields) }
        }
        return rows.isEmpty ? nil : .object(rows)
    }

    func refuse(_ code: DecisionCode, _ message: String, _ context: DecisionContext, session: any GuardSession) throws -> Decision {
        var event = baseEvent(context.call, principal: context.principal, now: context.now, tool: context.tool, argumentsMark: context.marks?.arguments)
        event.decision = code.rawValue
        event.message = message
        fill(&event, from: context)
        let stored = try session.ledger.append(event)
        return Decision(code: code, message: message, auditSeq: stored.seq, result: refusalResult(code, message))
    }

    func refuse(
        _ code: DecisionCode, _ message: String, call: ToolCall, tool: ToolPolicy?, principal: Principal,
        session: any GuardSession, now: Date
    ) throws -> Decision {
        var event = baseEvent(call, principal: principal, now: now, tool: tool)
        event.decision = code.rawValue
        event.message = message
        // Arguments with a NUL are not bound into the event's columns (`AuditEvent.columnHoldingNUL`).
        if let tool, !call.arguments.holdsNUL, case .success(let request) = RequestBinder.bind(call, to: tool) {
            event.reason = request.reason
            event.idempotencyKey = request.idempotencyKey
            event.targets = request.targets
            event.rowCount = request.rowCount
        }
        let stored = try session.ledger.append(event)
        return Decision(code: code, message: message, auditSeq: stored.seq, result: refusalResult(code, message))
    }

    /// What the bound request says, on a refusal's event.
    func fill(_ event: inout AuditEvent, from context: DecisionContext) {
        // Arguments with a NUL are not bound into the event's columns (`AuditEvent.columnHoldingNUL`).
        guard !context.call.arguments.holdsNUL, let request = context.request ?? (try? RequestBinder.bind(context.call, to: context.tool).get()) else { return }
        event.reason = request.reason
        event.idempotencyKey = request.idempotencyKey
        event.targets = request.targets
        event.rowCount = request.rowCount
        event.details["fields"] = .array(request.fields.keys.sorted().map(JSONValue.string))
        if !context.droppedArguments.isEmpty { event.details["dropped_args"] = .array(context.droppedArguments.map(JSONValue.string)) }
    }

    func recordShadow(_ verdict: Verdict, _ context: DecisionContext, session: any GuardSession) throws -> Decision {
        let tool = context.tool
        var event = baseEvent(context.call, principal: context.principal, now: context.now, tool: tool, argumentsMark: context.marks?.arguments)
        let wouldBe = verdict.code
        switch verdict {
        case .dryRun(let plan), .pending(let plan, _), .execute(let plan):
            event = planEvent(plan, context)
        case .refuse(_, let message):
            event.message = message
            fill(&event, from: context)
        case .replay, .inDoubt:
            fill(&event, from: context)
        }
        event.decision = DecisionCode.shadowed.rawValue
        event.details["would_be"] = .string(wouldBe.rawValue)
        let why = if case .refuse(_, let m) = verdict { ": \(m)" } else { "" }
        let message = "\(tool.name) is in shadow for tenant \(context.principal.tenant): validated and recorded, not executed (live, it would be \(wouldBe.rawValue)\(why))"
        event.message = message
        let stored = try session.ledger.append(event)
        let result: JSONValue = ["ok": true, "decision": "shadowed", "would_be": .string(wouldBe.rawValue), "audit_id": .number(Double(stored.seq)), "message": .string(message)]
        return Decision(code: .shadowed, message: message, auditSeq: stored.seq, changes: event.changes, wouldBe: wouldBe, result: result)
    }

    /// Keeps `request`'s idempotency key with the answer it got; `marks` the digests the caller made
    /// before the transaction (`CallMarks`), whose binding is used only when it was made for this request.
    func remember(_ request: WriteRequest, tool: ToolPolicy, principal: Principal, seq: Int64, decision: DecisionCode, result: JSONValue,
                  session: any GuardSession, now: Date, marks: CallMarks? = nil) throws {
        guard let key = request.idempotencyKey else { return }
        try session.ledger.saveIdempotency(IdempotencyEntry(
            tenant: principal.tenant, key: key, tool: tool.name,
            binding: marks?.binding(for: request) ?? IdempotencyBinding.of(request, tool: tool, principal: principal, scope: decisionScope), auditSeq: seq,
            decision: decision, result: result, createdAt: now, backend: backend))
    }

    func refusalResult(_ code: DecisionCode, _ message: String) -> JSONValue {
        ["ok": false, "decision": .string(code.rawValue), "message": .string(message)]
    }

    /// A name as an event records it: an event names its tool (and tenant), so an empty name an agent
    /// sent is recorded as `(no name)`, never as an event the log could not read back.
    /// A NUL in it is written U+FFFD: no store's column holds one (`AuditEvent.columnHoldingNUL`).
    static func recordedName(_ name: String) -> String { name.isEmpty ? "(no name)" : name.withoutNUL }

    /// The `args_digest` an event records: the keyed digest of the call's arguments (`Redactor.keyedDigest`).
    /// A plain SHA-256 of them gave a secret value back from an exported event (a 4-digit token in under a
    /// second); events written before 2026-12-02 hold that plain `sha256:` form, which approvals still accept.
    func argumentsMark(_ call: ToolCall) -> String {
        redactor.keyedDigest(call.arguments.canonicalBytes)
    }

    /// The digests of `context`'s call that its transaction records, made now, on the caller's thread
    /// (`CallMarks`): once the pipeline's first checks have bound the request, before the transaction.
    /// The key's binding only when `forWrite` (a call already refused records none) and where the
    /// transaction runs on a worker shared by many calls (elsewhere it is made where needed, if at all).
    func markCall(_ context: inout DecisionContext, forWrite: Bool) {
        guard context.marks == nil else { return }
        let bound = forWrite && environment.sharesCommits ? context.request.flatMap { request in
            request.idempotencyKey == nil ? nil
                : (request, IdempotencyBinding.of(request, tool: context.tool, principal: context.principal, scope: context.decisionScope))
        } : nil
        context.marks = CallMarks(arguments: argumentsMark(context.call), bound: bound)
    }

    /// An event's common members; `argumentsMark` is the call's `args_digest` when already made (`CallMarks`).
    func baseEvent(_ call: ToolCall, principal: Principal, now: Date, tool: ToolPolicy? = nil, argumentsMark mark: String? = nil) -> AuditEvent {
        assert(mark == nil || mark == argumentsMark(call), "an arguments mark made before the transaction is not this call's")
        var details: [String: JSONValue] = ["args_digest": .string(mark ?? argumentsMark(call))]
        if let subject = principal.subject { details["subject"] = .string(subject) }
        return AuditEvent(
            ts: now, tenant: principal.tenant, actor: principal.actor, session: principal.session,
            tool: Self.recordedName(tool?.name ?? call.tool), model: tool?.model, operation: tool?.operation.rawValue, decision: "",
            policyDigest: policyDigest, backend: backend, details: details)
    }

    /// Why this guard's upstream is not where `recorded` (an event's `details.placement`) says the write
    /// was asked for or ran, with what to do, or nil when every part recorded still matches: another
    /// working directory, an upstream entry's variable with another value (or one the entry did not list
    /// then), another observed database, or none; or, for a guard with an upstream, an event that records
    /// no placement at all (written before rollout recorded one: where it ran cannot be checked). An
    /// observer the first guard lacked is no mismatch.
    func placementMismatch(_ recorded: JSONValue?) -> String? {
        guard let recorded = recorded?.objectValue else {
            return placement.isEmpty ? nil : "the event records no placement (it was written before rollout recorded one), so where it ran cannot be checked: undo or redo it in the upstream itself"
        }
        let added = placement.keys.filter { $0.hasPrefix("env:") && recorded[$0] == nil }
        let differing = (recorded.keys.filter { $0 != Self.environmentMarks && placement[$0] != recorded[$0] } + added).sorted()
        guard !differing.isEmpty else { return nil }
        return differing.map { part in
            switch part {
            case "cwd": "this runs in another directory (the upstream runs where its guard runs: start this from the guard's directory)"
            case "command": "the upstream's command line differs (its upstreams.yaml entry changed)"
            case "program":
                "the upstream's command runs another program here (its first word is found elsewhere on this PATH, or the link to it moved): run this with the PATH the guard had"
            case "inherit": "the upstream's entry passes it another environment than then (its inherit: changed in upstreams.yaml)"
            case "environment":
                "the upstream was started from a command line and gets its guard's whole environment, and this one differs (\(environmentDifference(recorded[Self.environmentMarks]))): a variable added, removed or changed can move where such a server writes. Run this with the guard's environment (ROLLOUT_*, PGPASSWORD, the shell's _, PWD, OLDPWD and SHLVL and the terminal session's TERM, SSH_*, DISPLAY, TMUX and the like do not count), or leave the write be (an approval can be denied); for writes asked for from now on, name the server in upstreams.yaml with the variables that decide where it writes (env:) and what else it may inherit (inherit:)"
            case "observe" where placement[part] == nil:
                "this guard observes no database (give --observe sqlite:PATH with the database the first guard observed)"
            case "observe": "this guard observes another database (give --observe sqlite:PATH with the database the first guard observed)"
            case _ where recorded[part] == nil: "$\(part.dropFirst(4)) was not one of the upstream's env: variables then (upstreams.yaml changed)"
            default: "$\(part.dropFirst(4)) has another value here (values are compared as written: set it as the guard had it)"
            }
        }.joined(separator: "; ")
    }

    /// The key of `placement` that holds a short mark per variable of a bare command's environment.
    static let environmentMarks = "environment_marks"

    /// Which variables differ between the environment recorded (`recorded`: its per-variable marks) and
    /// this guard's, by name; the values stay marks.
    func environmentDifference(_ recorded: JSONValue?) -> String {
        guard let then = recorded?.objectValue, let now = placement[Self.environmentMarks]?.objectValue else {
            return "the write records one mark of it, so which variable cannot be said"
        }
        let parts = [
            ("set here only", now.keys.filter { then[$0] == nil }),
            ("missing here", then.keys.filter { now[$0] == nil }),
            ("another value here", then.keys.filter { now[$0] != nil && now[$0] != then[$0] }),
        ].filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1.sorted().joined(separator: ", "))" }
        return parts.isEmpty ? "the same variables, yet not the same mark" : parts.joined(separator: "; ")
    }

    func planEvent(_ plan: WritePlan, _ context: DecisionContext) -> AuditEvent {
        var event = baseEvent(context.call, principal: context.principal, now: context.now, tool: context.tool, argumentsMark: context.marks?.arguments)
        event.targets = plan.request.targets
        event.rowCount = plan.request.rowCount
        event.changes = plan.changes.map(redactor.redact)
        event.reason = plan.request.reason
        event.idempotencyKey = plan.request.idempotencyKey
        if !plan.lookups.isEmpty { event.details["lookup"] = redactor.redact(.object(plan.lookups)) }
        if !context.droppedArguments.isEmpty { event.details["dropped_args"] = .array(context.droppedArguments.map(JSONValue.string)) }
        if !placement.isEmpty { event.details["placement"] = .object(placement) }
        // The database observed when given on the command line, in clear: an approval or rollback observes it
        // again unless told otherwise (its mark in the placement still has to match).
        if let observed = upstream?.recordedObserve { event.details["observed"] = .string(observed) }
        // A bare command's line, in clear (any user reads it in /proc): where an approval or rollback runs it.
        if backend.hasPrefix("command:"), let text = upstream?.placement["command"], let line = try? JSONValue.parse(text), line.arrayValue != nil {
            event.details["command"] = line
        }
        if !plan.observed { event.details["before"] = "unknown: the upstream's rows are not observable (run the guard with --observe, or give the tool a before: lookup)" }
        return event
    }
}

extension RowChange {
    /// The change as the agent sees it in a tool result.
    var resultJSON: JSONValue {
        .object(["key": key, "fields": .object(fields.mapValues { change in
            var object: [String: JSONValue] = [:]
            if let before = change.before { object["before"] = before }
            if let after = change.after { object["after"] = after }
            return .object(object)
        })])
    }
}

extension AuditEvent {
    /// The database the guard that wrote this event observed (`sqlite:PATH`), when it observed one: where
    /// its approval or rollback reads the rows again, unless `--observe` says otherwise.
    public var observedDatabase: String? { details["observed"]?.stringValue }

    /// The command line of the server started from a bare command that this write was asked for on, in
    /// clear: its approval or rollback starts it again (its backend names the command's digest, which a
    /// changed line does not match).
    public var recordedCommand: [String]? {
        guard let parts = details["command"]?.arrayValue else { return nil }
        let words = parts.compactMap(\.stringValue)
        return words.count == parts.count && !words.isEmpty ? words : nil
    }
}
