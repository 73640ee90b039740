import Foundation
import RolloutCore

extension Guard {
    /// Whether two names, either absent, are the same by their bytes (both absent counts as the same).
    static func sameName(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a.hasSameBytes(as: b)
        default: false
        }
    }

    /// A person approves a queued write: it runs now, once, exactly as it was asked (the stored call,
    /// for the same tenant, actor and subject), through the backend it was queued for and nothing else,
    /// if the approval has not expired, the approver is not the one who asked (names compared as people
    /// type them: case, width and spacing aside), the stored arguments are still those the chained
    /// pending event names, and the write still passes every other check against today's state.
    public func approve(_ id: Int64, by approver: String, reason: String? = nil) async throws -> Decision {
        let now = clock.now()
        guard let queued = try environment.transaction({ try $0.ledger.approval(id: id) }) else { throw GuardError.noSuchApproval(id) }
        // The log after the pending event is checked before the transaction that decides, which then walks
        // only what was appended since: a long stretch is read holding no write lock.
        // A check that fails here (a body that does not decode) is made again inside, where it is recorded.
        let known = try? environment.checkedEvents(after: queued.pendingSeq) { _ in .namingAnApprover(tenant: queued.tenant) }
        if let refusal = try environment.transaction({ session in
            try approvalRefusal(queued, by: approver, reason: reason, session: session, now: now, known: known)
        }) {
            return refusal
        }
        guard let tool = policy.tool(named: queued.tool), let model = policy.model(named: tool.model) else {
            fatalError("approvalRefusal checks that the tool and its model exist")
        }
        var context = DecisionContext(policy: policy, call: queued.call, tool: tool, model: model, principal: queued.principal, now: now,
                                      mode: .approved, stages: stages, options: options, decisionScope: decisionScope)
        // What the approver was shown: the pending event `approvalRefusal` found to match the queued request.
        context.approvedView = try environment.transaction { session in try session.ledger.event(seq: queued.pendingSeq) }.map(ApprovedView.init)
        if let halted = halt.reason { throw GuardError.halted(halted) }
        return try await run(&context, approval: ApprovalRun(approval: queued, approver: approver, reason: reason, known: known))
    }

    /// Why a queued write cannot run as approved, recorded as its own event; nil when it can. `known`, the
    /// log after its pending event as checked before this transaction, is resumed.
    func approvalRefusal(_ approval: PendingApproval, by approver: String, reason: String?, session: any GuardSession, now: Date,
                         known: CheckedEvents? = nil) throws -> Decision? {
        var approval = approval
        guard approval.status == .pending else {
            return try approvalEvent(.approvalRefused, "approval \(approval.id) is already \(approval.status.rawValue); an approval runs its write once",
                                     approval, by: approver, reason: reason, session: session, now: now)
        }
        guard approval.backend.hasSameBytes(as: backend) else {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) was queued for \(approval.backend), and this guard runs \(backend): a write runs only where it was asked to",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        if PersonIdentity.couldBeSame(approver, approval.actor) {
            return try approvalEvent(.approvalRefused, "\(approver) asked for this write and cannot approve it; another person must",
                                     approval, by: approver, reason: reason, session: session, now: now)
        }
        // The person the agent acted for asked for it as much as the agent did.
        if let subject = approval.subject, PersonIdentity.couldBeSame(approver, subject) {
            return try approvalEvent(.approvalRefused, "the agent asked for this write on behalf of \(approver), who cannot approve it; another person must",
                                     approval, by: approver, reason: reason, session: session, now: now)
        }
        // The queued request must be the one the chained pending event records: same caller (and the user
        // it acted for), tool, arguments and backend. The approvals table is not chained; the event is.
        let pending: AuditEvent?
        do {
            pending = try session.ledger.event(seq: approval.pendingSeq)
        } catch {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id)'s pending event \(approval.pendingSeq) cannot be read (\(error)): the audit log was edited (run rollout audit verify); it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        if let pending, pending.isImported {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) points at event \(approval.pendingSeq), which was imported, not queued by a guard (the queued request was changed after it was asked for); it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        guard let pending, queues(pending, approval) else {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) no longer matches its pending event \(approval.pendingSeq) in the audit log (the queued request was changed after it was asked for); it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        // The table's status is not chained either: one set back to pending must not run the write again.
        // The events that would say so are read from a log shown intact from the pending event to its head:
        // a deleted event, or a column edited to hide one (its approver, tenant or decision), refuses.
        let later = try session.ledger.checkedEvents(after: approval.pendingSeq, .namingAnApprover(tenant: approval.tenant), resuming: known)
        if let problem = later.problem {
            return try approvalEvent(.approvalRefused,
                "the audit log after pending event \(approval.pendingSeq) does not hold (\(problem); run rollout audit verify), so whether approval \(approval.id) was already decided cannot be told; it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        if let settled = settlement(of: approval, pending: pending, among: later.events) {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) was already decided: event \(settled.seq) (\(settled.decision)) in the audit log settled its pending event \(approval.pendingSeq) (the approvals table was changed after the decision); it will not run again",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        // Expired only once the chain shows it open and queued as the table says: an expiry settles the key
        // ("the write did not run"), and one recorded for an approval that ran, its row set back, told a retry
        // the write had not happened (helper-82).
        if now > approval.expiresAt {
            approval.status = .expired
            approval.decidedAt = now
            let decision = try approvalEvent(.approvalExpired,
                "approval \(approval.id) expired at \(Timestamp.formatSeconds(approval.expiresAt)); the write did not run. It may be asked for again under a new idempotency key (this one now answers with this expiry)",
                approval, by: approver, reason: reason, session: session, now: now, settles: .expired)
            approval.resultSeq = decision.auditSeq
            try session.ledger.updateApproval(approval)
            try settleQueuedKey(approval, decision: decision, session: session, now: now)
            return decision
        }
        // What would run, and where: an expiry runs nothing, so it does not wait on these (helper-83).
        guard let tool = policy.tool(named: approval.tool), policy.model(named: tool.model) != nil else {
            return try approvalEvent(.approvalRefused, "\(approval.tool) is no longer a tool of the policy", approval, by: approver, reason: reason, session: session, now: now)
        }
        // The name the call goes out under is a column of the table too: it must still be the one the policy
        // gives the chained tool, or the approval would run another tool of the upstream.
        guard case .entry(let resolved) = ToolResolver.resolve(approval.call, in: policy), resolved.name == tool.name else {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) would call '\(approval.call.tool)' on the upstream, which is not \(tool.name)'s name there ('\(tool.toolName)') (the queued request was changed after it was asked for); it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        if let mismatch = placementMismatch(pending.details["placement"]) {
            return try approvalEvent(.approvalRefused,
                "not run: a write runs only where it was asked to, and approval \(approval.id) was queued (pending event \(approval.pendingSeq)) where this guard's upstream may not write: \(mismatch); approval \(approval.id) stays pending",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        // Its expiry is the pending event's time plus the policy's wait (`approval.expires`): a later one
        // was written into the table, not given when the write was asked for.
        let longest = pending.ts.addingTimeInterval(Guard.approvalWait(tool).timeInterval + 0.002)
        if approval.expiresAt > longest {
            return try approvalEvent(.approvalRefused,
                "approval \(approval.id) says it expires at \(Timestamp.formatSeconds(approval.expiresAt)), after the \(Guard.approvalWait(tool)) its tool allows from its pending event \(approval.pendingSeq) (the queued request was changed after it was asked for); it will not run",
                approval, by: approver, reason: reason, session: session, now: now)
        }
        return nil
    }

    /// Whether `pending` is the pending event that queued `approval` as the table holds it: same caller (and the
    /// user it acted for), tenant, tool, arguments and backend. The approvals table is not chained; the event is.
    func queues(_ pending: AuditEvent, _ approval: PendingApproval) -> Bool {
        // The queued arguments as the pending event's digest holds them: keyed, or (an event written before
        // 2026-12-02) plain.
        let recorded = pending.details["args_digest"]?.stringValue
        let sameArguments = recorded == argumentsMark(approval.call) || recorded == approval.call.argumentsDigest
        // By bytes: a tenant, actor or subject spelled another way (`é` as `e` and an accent) in the
        // unchained table is another name to the upstream and the stages, though Swift's `==` calls it equal.
        return !pending.isImported && pending.decision == DecisionCode.pendingApproval.rawValue && pending.tenant.hasSameBytes(as: approval.tenant)
            && pending.actor.hasSameBytes(as: approval.actor) && pending.tool.hasSameBytes(as: approval.tool) && sameArguments
            && Self.sameName(pending.details["subject"]?.stringValue, approval.subject) && Self.sameName(pending.backend, approval.backend)
    }

    /// The refusal of an approved write that the chain shows settled since it was checked, or whose log no longer
    /// holds; nil while it is still open. The approvals table is not chained: a copy of its row (another id, the
    /// same pending event) approved at the same moment in another process passed the same checks, and both runs
    /// wrote (helper-81). The transaction that writes, or hands the write to its upstream, reads the chain again,
    /// resuming the check made before it.
    func settledSince(_ run: ApprovalRun, session: any GuardSession, now: Date) throws -> Decision? {
        let approval = run.approval
        func refused(_ message: String) throws -> Decision {
            try approvalEvent(.approvalRefused, message, approval, by: run.approver, reason: run.reason, session: session, now: now)
        }
        let later = try session.ledger.checkedEvents(after: approval.pendingSeq, .namingAnApprover(tenant: approval.tenant), resuming: run.known)
        if let problem = later.problem {
            return try refused("the audit log after pending event \(approval.pendingSeq) does not hold (\(problem); run rollout audit verify), so whether approval \(approval.id) was already decided cannot be told; it will not run")
        }
        guard let pending = try? session.ledger.event(seq: approval.pendingSeq) else {
            return try refused("approval \(approval.id)'s pending event \(approval.pendingSeq) cannot be read: the audit log was edited (run rollout audit verify); it will not run")
        }
        if let settled = settlement(of: approval, pending: pending, among: later.events) {
            return try refused("approval \(approval.id) was already decided: event \(settled.seq) (\(settled.decision)) in the audit log settled its pending event \(approval.pendingSeq) while this approval waited (the approvals table holds it twice); it will not run again")
        }
        return nil
    }

    /// The event that settled `approval` (decided it, or started its write) and was not undone since,
    /// when the log holds one. Only events a guard wrote count, naming the approval's pending event
    /// (`pending_seq`; older events name their `approval_id` and the request's `args_digest`): the latest
    /// of them says where it stands, a refusal that left it pending says nothing, and an approved write
    /// that never reached its upstream made it pending again. `events` are the tenant's events after the
    /// pending one that name an approver, oldest first.
    func settlement(of approval: PendingApproval, pending: AuditEvent, among events: [AuditEvent]) -> AuditEvent? {
        var settled: AuditEvent?
        for event in events where !event.isImported {
            let names = event.details["pending_seq"].map { $0.doubleValue == Double(approval.pendingSeq) }
                ?? (event.details["approval_id"]?.doubleValue == Double(approval.id)
                    || (event.tool == pending.tool && event.details["args_digest"] != nil && event.details["args_digest"] == pending.details["args_digest"]))
            guard names else { continue }
            let status = event.details["approval_status"]?.stringValue
            if status == PendingApproval.Status.pending.rawValue {
                settled = nil
            } else if event.decision != DecisionCode.approvalRefused.rawValue || status != nil {
                settled = event
            }
        }
        return settled
    }

    /// Records what an approved request's pipeline concluded, when it ends in this transaction: a
    /// refusal, or (built-in rows) the write itself.
    func settleApproved(_ verdict: Verdict, _ context: DecisionContext, _ run: ApprovalRun, session: any GuardSession) throws -> Decision {
        var approval = try session.ledger.approval(id: run.approval.id) ?? run.approval
        let now = context.now
        guard approval.status == .pending else {
            return try approvalEvent(.approvalRefused, "approval \(approval.id) is already \(approval.status.rawValue); an approval runs its write once",
                                     approval, by: run.approver, reason: run.reason, session: session, now: now)
        }
        let decision: Decision
        switch verdict {
        case .execute(let plan):
            let changes = try executeRows(plan, principal: context.principal, session: session)
            var event = planEvent(plan, context)
            event.changes = changes.map(redactor.redact)
            event.targets = changes.map(\.key)
            event.rowCount = changes.count
            event.decision = DecisionCode.executed.rawValue
            event.approver = run.approver
            event.details["approval_id"] = .number(Double(approval.id))
            event.details["pending_seq"] = .number(Double(approval.pendingSeq))
            if let reason = run.reason { event.details["approval_reason"] = .string(reason) }
            event.message = "\(context.tool.name) changed \(changes.count) row\(changes.count == 1 ? "" : "s"), approved by \(run.approver)"
            let stored = try session.ledger.append(event)
            if let secrets = secretValues(changes) { try session.ledger.stashSecrets(seq: stored.seq, values: secrets) }
            let result: JSONValue = ["ok": true, "decision": "executed", "audit_id": .number(Double(stored.seq)), "rows": .array(event.changes.map(\.resultJSON))]
            decision = Decision(code: .executed, message: event.message!, auditSeq: stored.seq, approvalId: approval.id, changes: event.changes, result: result)
            approval.status = .executed
        case .refuse(_, let message) where context.rowsUnreadable:
            // The write was not judged: this run cannot read its rows. The approval stays pending for a
            // run that can (the approver's setup is at fault, not the write).
            return try approvalEvent(.approvalRefused,
                "not run: \(message); approval \(approval.id) stays pending: approve it again from a setup that reads the rows",
                approval, by: run.approver, reason: run.reason, session: session, now: now)
        case .refuse(let code, let message):
            decision = try approvalEvent(code, "approved, but \(message)", approval, by: run.approver, reason: run.reason, session: session, now: now, settles: .refused)
            approval.status = .refused
        default:
            decision = try approvalEvent(.approvalRefused, "the approved request is a \(verdict.code.rawValue), which does not execute",
                                         approval, by: run.approver, reason: run.reason, session: session, now: now, settles: .refused)
            approval.status = .refused
        }
        approval.decidedBy = run.approver
        approval.decidedAt = now
        approval.decisionReason = run.reason
        approval.resultSeq = decision.auditSeq
        try session.ledger.updateApproval(approval)
        try settleQueuedKey(approval, decision: decision, session: session, now: now)
        return decision
    }

    /// A person refuses a queued write; it will never run. Any backend may record a denial.
    ///
    /// The approvals table's status is not chained: a denial is refused, audited, unless the chain shows the
    /// approval still open (its pending event one a guard queued, the log intact after it, and no event since
    /// that settled it). A write that ran, with its row set back to pending by hand, was otherwise "denied" and
    /// its idempotency key made to answer that it was not done (helper-80), which invites a retry under a new key.
    public func deny(_ id: Int64, by approver: String, reason: String) async throws -> Decision {
        let now = clock.now()
        guard let queued = try environment.transaction({ try $0.ledger.approval(id: id) }) else { throw GuardError.noSuchApproval(id) }
        // As for an approval: the long walk before the deciding transaction, which resumes it.
        let known = try? environment.checkedEvents(after: queued.pendingSeq) { _ in .namingAnApprover(tenant: queued.tenant) }
        return try environment.transaction { session in
            guard var approval = try session.ledger.approval(id: id) else { throw GuardError.noSuchApproval(id) }
            guard approval.status == .pending else {
                return try approvalEvent(.approvalRefused, "approval \(id) is already \(approval.status.rawValue)", approval, by: approver, reason: reason, session: session, now: now)
            }
            if let refusal = try denialRefusal(approval, by: approver, reason: reason, session: session, now: now, known: known) {
                return refusal
            }
            let decision = try approvalEvent(.approvalDenied, "\(approver) denied the write: \(reason)", approval, by: approver, reason: reason, session: session, now: now, settles: .denied)
            approval.status = .denied
            approval.decidedBy = approver
            approval.decidedAt = now
            approval.decisionReason = reason
            approval.resultSeq = decision.auditSeq
            try session.ledger.updateApproval(approval)
            try settleQueuedKey(approval, decision: decision, session: session, now: now)
            return decision
        }
    }

    /// Why a pending approval cannot be denied, recorded as its own event; nil when it can: the chain must show
    /// it open, as `approvalRefusal` reads it (a denial runs nothing, so the checks of what would run are not made).
    func denialRefusal(_ approval: PendingApproval, by approver: String, reason: String, session: any GuardSession, now: Date,
                       known: CheckedEvents?) throws -> Decision? {
        func refused(_ message: String) throws -> Decision {
            try approvalEvent(.approvalRefused, message, approval, by: approver, reason: reason, session: session, now: now)
        }
        let pending: AuditEvent?
        do {
            pending = try session.ledger.event(seq: approval.pendingSeq)
        } catch {
            return try refused("approval \(approval.id)'s pending event \(approval.pendingSeq) cannot be read (\(error)): the audit log was edited (run rollout audit verify), so whether it is still open cannot be told; it is not denied")
        }
        // The whole request, as an approval matches it: a row pointed at another write's pending event would
        // otherwise record this denial against that write (helper-81).
        guard let pending, queues(pending, approval) else {
            return try refused("approval \(approval.id) does not match its pending event \(approval.pendingSeq) in the audit log (the approvals table was changed after the write was asked for); it is not denied")
        }
        let later = try session.ledger.checkedEvents(after: approval.pendingSeq, .namingAnApprover(tenant: approval.tenant), resuming: known)
        if let problem = later.problem {
            return try refused("the audit log after pending event \(approval.pendingSeq) does not hold (\(problem); run rollout audit verify), so whether approval \(approval.id) was already decided cannot be told; it is not denied")
        }
        if let settled = settlement(of: approval, pending: pending, among: later.events) {
            return try refused("approval \(approval.id) was already decided: event \(settled.seq) (\(settled.decision)) in the audit log settled its pending event \(approval.pendingSeq) (the approvals table was changed after the decision); it is not denied")
        }
        return nil
    }

    /// An event about `approval`, naming it and its pending event; `settles` says the status it leaves
    /// the approval in when this event decides it (nil: it stays as it was).
    func approvalEvent(
        _ code: DecisionCode, _ message: String, _ approval: PendingApproval, by approver: String, reason: String?,
        session: any GuardSession, now: Date, settles: PendingApproval.Status? = nil
    ) throws -> Decision {
        let tool = policy.tool(named: approval.tool)
        var event = baseEvent(approval.call, principal: approval.principal, now: now, tool: tool)
        event.backend = approval.backend
        event.decision = code.rawValue
        event.approver = approver
        event.message = message
        event.reason = reason
        event.details["approval_id"] = .number(Double(approval.id))
        event.details["pending_seq"] = .number(Double(approval.pendingSeq))
        if let settles { event.details["approval_status"] = .string(settles.rawValue) }
        if let reason { event.details["approval_reason"] = .string(reason) }
        if let tool, case .success(let request) = RequestBinder.bind(approval.call, to: tool) {
            event.targets = request.targets
            event.rowCount = request.rowCount
            event.idempotencyKey = request.idempotencyKey
        }
        let stored = try session.ledger.append(event)
        return Decision(code: code, message: message, auditSeq: stored.seq, approvalId: approval.id, result: refusalResult(code, message))
    }

    /// A retry with the queued request's idempotency key now gets the final answer.
    func settleQueuedKey(_ approval: PendingApproval, decision: Decision, session: any GuardSession, now: Date) throws {
        guard let tool = policy.tool(named: approval.tool), case .success(let request) = RequestBinder.bind(approval.call, to: tool),
            let key = request.idempotencyKey
        else { return }
        try session.ledger.saveIdempotency(IdempotencyEntry(
            tenant: approval.tenant, key: key, tool: tool.name, binding: IdempotencyBinding.of(request, tool: tool, actor: approval.actor, subject: approval.subject, scope: decisionScope),
            auditSeq: decision.auditSeq,
            decision: decision.code, result: decision.result, createdAt: now, backend: approval.backend))
    }
}
