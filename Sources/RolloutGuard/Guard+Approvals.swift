import Foundation
import RolloutCore

/// A request to the guard that names something that does not exist.
public enum GuardError: Error, Sendable, CustomStringConvertible {
    case noSuchApproval(Int64)
    case noSuchEvent(Int64)

    public var description: String {
        switch self {
        case .noSuchApproval(let id): "there is no approval \(id); `rollout approvals` lists the pending ones"
        case .noSuchEvent(let seq): "there is no audit event \(seq); `rollout audit tail` lists recent ones"
        }
    }
}

extension Guard {
    /// A person approves a queued write: it runs now, once, exactly as it was asked (the stored call,
    /// for the same tenant and actor), if the approval has not expired, the approver is not the one who
    /// asked, and the write still passes every other check against today's state.
    public func approve(_ id: Int64, by approver: String, reason: String? = nil) throws -> Decision {
        let now = clock.now()
        return try environment.transaction { session in
            guard var approval = try session.ledger.approval(id: id) else { throw GuardError.noSuchApproval(id) }
            let principal = Principal(tenant: approval.tenant, actor: approval.actor, session: approval.session)
            guard approval.status == .pending else {
                return try approvalEvent(.approvalRefused, "approval \(id) is already \(approval.status.rawValue); an approval runs its write once", approval, by: approver, reason: reason, session: session, now: now)
            }
            if approver == approval.actor {
                return try approvalEvent(.approvalRefused, "\(approver) asked for this write and cannot approve it; another person must", approval, by: approver, reason: reason, session: session, now: now)
            }
            if now > approval.expiresAt {
                approval.status = .expired
                approval.decidedAt = now
                let decision = try approvalEvent(.approvalExpired, "approval \(id) expired at \(Timestamp.formatSeconds(approval.expiresAt)); ask the agent to request it again", approval, by: approver, reason: reason, session: session, now: now)
                try session.ledger.updateApproval(approval)
                try settleIdempotency(approval, decision: decision, session: session, now: now)
                return decision
            }
            guard let tool = policy.tool(named: approval.tool) else {
                return try approvalEvent(.approvalRefused, "\(approval.tool) is no longer a tool of the policy", approval, by: approver, reason: reason, session: session, now: now)
            }
            let stage = faults.contains(.ignoreStages) ? .broad : stages.stage(tenant: approval.tenant, tool: tool.name)
            guard stage.executes else {
                return try approvalEvent(.approvalRefused, "\(tool.name) is at stage \(stage.rawValue) for tenant \(approval.tenant) now, so it cannot execute", approval, by: approver, reason: reason, session: session, now: now)
            }

            let verdict = try evaluate(approval.call, tool: tool, principal: principal, session: session, now: now, mode: .approved)
            let decision: Decision
            switch verdict {
            case .execute:
                decision = try act(on: verdict, call: approval.call, tool: tool, principal: principal, session: session, now: now, approvalId: id, approver: approver, approverReason: reason)
                approval.status = .executed
            case .refuse(let code, let message):
                decision = try approvalEvent(code, "approved, but \(message)", approval, by: approver, reason: reason, session: session, now: now)
                approval.status = .refused
            default:
                decision = try approvalEvent(.approvalRefused, "the approved request is a \(verdict.code.rawValue), which does not execute", approval, by: approver, reason: reason, session: session, now: now)
                approval.status = .refused
            }
            approval.decidedBy = approver
            approval.decidedAt = now
            approval.decisionReason = reason
            approval.resultSeq = decision.auditSeq
            try session.ledger.updateApproval(approval)
            try settleIdempotency(approval, decision: decision, session: session, now: now)
            return decision
        }
    }

    /// A person refuses a queued write; it will never run.
    public func deny(_ id: Int64, by approver: String, reason: String) throws -> Decision {
        let now = clock.now()
        return try environment.transaction { session in
            guard var approval = try session.ledger.approval(id: id) else { throw GuardError.noSuchApproval(id) }
            guard approval.status == .pending else {
                return try approvalEvent(.approvalRefused, "approval \(id) is already \(approval.status.rawValue)", approval, by: approver, reason: reason, session: session, now: now)
            }
            let decision = try approvalEvent(.approvalDenied, "\(approver) denied the write: \(reason)", approval, by: approver, reason: reason, session: session, now: now)
            approval.status = .denied
            approval.decidedBy = approver
            approval.decidedAt = now
            approval.decisionReason = reason
            approval.resultSeq = decision.auditSeq
            try session.ledger.updateApproval(approval)
            try settleIdempotency(approval, decision: decision, session: session, now: now)
            return decision
        }
    }

    private func approvalEvent(
        _ code: DecisionCode, _ message: String, _ approval: PendingApproval, by approver: String, reason: String?,
        session: any GuardSession, now: Date
    ) throws -> Decision {
        let principal = Principal(tenant: approval.tenant, actor: approval.actor, session: approval.session)
        let tool = policy.tool(named: approval.tool)
        var event = baseEvent(approval.call, principal: principal, now: now, tool: tool)
        event.decision = code.rawValue
        event.approver = approver
        event.message = message
        event.reason = reason
        event.details["approval_id"] = .number(Double(approval.id))
        if let reason { event.details["approval_reason"] = .string(reason) }
        if let tool, case .bound(let request) = bind(approval.call, tool) {
            event.targets = request.targets
            event.rowCount = request.rowCount
            event.idempotencyKey = request.idempotencyKey
        }
        let stored = try session.ledger.append(event)
        return Decision(code: code, message: message, auditSeq: stored.seq, approvalId: approval.id, result: refusalResult(code, message))
    }

    /// A retry with the pending request's idempotency key now gets the final answer.
    private func settleIdempotency(_ approval: PendingApproval, decision: Decision, session: any GuardSession, now: Date) throws {
        guard let tool = policy.tool(named: approval.tool), case .bound(let request) = bind(approval.call, tool),
            let key = request.idempotencyKey
        else { return }
        try session.ledger.saveIdempotency(IdempotencyEntry(
            tenant: approval.tenant, key: key, tool: tool.name, effectDigest: request.effectDigest, auditSeq: decision.auditSeq,
            decision: decision.code, result: decision.result, createdAt: now))
    }
}
