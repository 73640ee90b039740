import Foundation
import RolloutCore

/// The write runtime: every write request goes through one decision pipeline (DESIGN.md, "The guard"),
/// the first refusal wins and names its code, and every decision, refusals included, is one audit event.
///
/// ```swift
/// let store = try AuditStore(path: ".rollout/audit.sqlite")
/// let environment = try SQLiteEnvironment(store: store, policy: policy)
/// let guard_ = Guard(policy: policy, stages: tenants, environment: environment)
/// let decision = try guard_.decide(ToolCall(tool: "orders.update", arguments: args),
///                                  principal: Principal(tenant: "acme", actor: "agent-7"))
/// ```
///
/// The principal comes from the host, never from the arguments. `decide` throws only when the
/// environment fails (a busy store, a broken backend); a refusal is a `Decision`, not an error.
public final class Guard: Sendable {
    public let policy: Policy
    public let stages: any StageSource
    public let environment: any GuardEnvironment
    public let clock: any TimeSource
    public let options: GuardOptions
    let redactor: Redactor
    let faults: GuardFaults
    /// Recorded on every event; computed once, the policy does not change under a guard.
    let policyDigest: String

    public init(
        policy: Policy, stages: any StageSource, environment: any GuardEnvironment, clock: any TimeSource = SystemTime(),
        options: GuardOptions = GuardOptions()
    ) {
        self.policy = policy
        self.stages = stages
        self.environment = environment
        self.clock = clock
        self.options = options
        self.redactor = Redactor(policy: policy)
        self.faults = []
        self.policyDigest = options.policyDigest ?? policy.digest
    }

    /// A guard with deliberately broken steps, for proving that the fuzzer's oracle catches real
    /// enforcement bugs. Never use outside tests.
    @_spi(FaultInjection)
    public init(
        policy: Policy, stages: any StageSource, environment: any GuardEnvironment, clock: any TimeSource = SystemTime(),
        options: GuardOptions = GuardOptions(), faults: GuardFaults
    ) {
        self.policy = policy
        self.stages = stages
        self.environment = environment
        self.clock = clock
        self.options = options
        self.redactor = Redactor(policy: policy)
        self.faults = faults
        self.policyDigest = options.policyDigest ?? policy.digest
    }

    /// Decides one call: refuses it, answers it (replay, dry run, shadow), queues it for approval, or
    /// executes it, and records the decision in the same transaction.
    public func decide(_ call: ToolCall, principal: Principal) throws -> Decision {
        let now = clock.now()
        do {
            return try environment.transaction { session in
                try decide(call, principal: principal, session: session, now: now)
            }
        } catch let error as BackendError {
            // The transaction rolled back; record the failure on its own.
            return try environment.transaction { session in
                let entry = ToolResolver.resolve(call, in: policy)
                var event = baseEvent(call, principal: principal, now: now)
                if case .entry(let tool) = entry {
                    event.tool = tool.name
                    event.model = tool.model
                    event.operation = tool.operation.rawValue
                }
                event.decision = DecisionCode.backendError.rawValue
                event.message = "the write failed in the backend: \(error.message)"
                let stored = try session.ledger.append(event)
                return Decision(code: .backendError, message: event.message!, auditSeq: stored.seq, result: refusalResult(.backendError, event.message!))
            }
        }
    }

    private func decide(_ call: ToolCall, principal: Principal, session: any GuardSession, now: Date) throws -> Decision {
        // 1. The tool must be named exactly by the policy and switched on for this tenant.
        let tool: ToolPolicy
        switch ToolResolver.resolve(call, in: policy) {
        case .unknown(let message):
            return try refuse(.toolUnknown, message, call: call, tool: nil, principal: principal, session: session, now: now)
        case .entry(let entry):
            tool = entry
        }
        if let scopes = principal.scopes, !scopes.contains(tool.name) {
            return try refuse(.toolDisabled, "\(tool.name) is not granted to \(principal.actor)", call: call, tool: tool, principal: principal, session: session, now: now)
        }
        let stage = faults.contains(.ignoreStages) ? .broad : stages.stage(tenant: principal.tenant, tool: tool.name)
        if stage == .off {
            return try refuse(.toolDisabled,
                "\(tool.name) is off for tenant \(principal.tenant); it runs only once the tenant is promoted to shadow, soft or broad",
                call: call, tool: tool, principal: principal, session: session, now: now)
        }

        // 2. Shadow: validate everything, execute nothing.
        if stage == .shadow {
            let verdict = try evaluate(call, tool: tool, principal: principal, session: session, now: now, mode: .shadow)
            return try recordShadow(verdict, call: call, tool: tool, principal: principal, session: session, now: now)
        }

        // 3-11, then 12.
        let verdict = try evaluate(call, tool: tool, principal: principal, session: session, now: now, mode: .live)
        return try act(on: verdict, call: call, tool: tool, principal: principal, session: session, now: now, approvalId: nil, approver: nil)
    }

    /// Records a verdict and carries it out.
    func act(
        on verdict: Verdict, call: ToolCall, tool: ToolPolicy, principal: Principal, session: any GuardSession, now: Date,
        approvalId: Int64?, approver: String?, approverReason: String? = nil
    ) throws -> Decision {
        switch verdict {
        case .refuse(let code, let message):
            return try refuse(code, message, call: call, tool: tool, principal: principal, session: session, now: now)

        case .replay(let entry):
            var event = baseEvent(call, principal: principal, now: now, tool: tool)
            event.decision = DecisionCode.replayed.rawValue
            event.idempotencyKey = entry.key
            event.message = "replayed the answer of audit event \(entry.auditSeq); nothing ran again"
            event.details["replay_of"] = .number(Double(entry.auditSeq))
            if case .bound(let request) = bind(call, tool) { event.reason = request.reason; event.targets = request.targets }
            let stored = try session.ledger.append(event)
            return Decision(code: .replayed, message: event.message!, auditSeq: stored.seq, result: entry.result)

        case .dryRun(let plan):
            var event = planEvent(plan, call: call, tool: tool, principal: principal, now: now)
            event.decision = DecisionCode.dryRun.rawValue
            event.message = "dry run: \(plan.request.rowCount) row\(plan.request.rowCount == 1 ? "" : "s") would change; nothing was written"
            let stored = try session.ledger.append(event)
            try session.ledger.recordDryRun(tenant: principal.tenant, tool: tool.name, effectDigest: plan.request.effectDigest, at: now, auditSeq: stored.seq)
            let result: JSONValue = [
                "ok": true, "decision": "dry_run", "audit_id": .number(Double(stored.seq)),
                "rows": .number(Double(plan.request.rowCount)), "changes": .array(event.changes.map(\.resultJSON)),
            ]
            return Decision(code: .dryRun, message: event.message!, auditSeq: stored.seq, changes: event.changes, result: result)

        case .pending(let plan):
            let expires = now.addingTimeInterval((tool.approval?.expiresAfter ?? .hours(24)).timeInterval)
            var event = planEvent(plan, call: call, tool: tool, principal: principal, now: now)
            event.decision = DecisionCode.pendingApproval.rawValue
            var stored = try session.ledger.append(event)
            let id = try session.ledger.enqueue(PendingApproval(
                createdAt: now, expiresAt: expires, tenant: principal.tenant, actor: principal.actor, session: principal.session,
                tool: tool.name, call: call, pendingSeq: stored.seq))
            let message = "\(tool.name) needs a person's approval (approval \(id), expires \(Timestamp.formatSeconds(expires))); it runs once approved"
            stored.message = message
            try session.ledger.recordCall(tenant: principal.tenant, tool: tool.name, actor: principal.actor, at: now, auditSeq: stored.seq)
            let result: JSONValue = ["ok": true, "decision": "pending_approval", "approval_id": .number(Double(id)), "audit_id": .number(Double(stored.seq)), "message": .string(message)]
            try remember(plan.request, tool: tool, principal: principal, seq: stored.seq, decision: .pendingApproval, result: result, session: session, now: now)
            return Decision(code: .pendingApproval, message: message, auditSeq: stored.seq, approvalId: id, changes: event.changes, result: result)

        case .execute(let plan):
            let (changes, upstream) = try execute(plan, call: call, principal: principal, session: session)
            var event = planEvent(plan, call: call, tool: tool, principal: principal, now: now)
            event.changes = changes.map(redactor.redact)
            event.targets = changes.map(\.key)
            event.rowCount = changes.count
            event.decision = DecisionCode.executed.rawValue
            event.approver = approver
            if let approvalId { event.details["approval_id"] = .number(Double(approvalId)) }
            if let approverReason { event.details["approval_reason"] = .string(approverReason) }
            event.message = "\(tool.name) changed \(changes.count) row\(changes.count == 1 ? "" : "s")"
            if !plan.observed { event.details["before"] = "unknown: the upstream's rows are not observable (run the guard with --observe)" }
            let stored = try session.ledger.append(event)
            if let secrets = secretValues(changes) { try session.ledger.stashSecrets(seq: stored.seq, values: secrets) }
            var result: JSONValue = [
                "ok": true, "decision": "executed", "audit_id": .number(Double(stored.seq)),
                "rows": .array(event.changes.map(\.resultJSON)),
            ]
            if let upstream, case .object(var object) = result {
                object["upstream"] = upstream
                result = .object(object)
            }
            if approvalId == nil {
                try session.ledger.recordCall(tenant: principal.tenant, tool: tool.name, actor: principal.actor, at: now, auditSeq: stored.seq)
            }
            try remember(plan.request, tool: tool, principal: principal, seq: stored.seq, decision: .executed, result: result, session: session, now: now)
            return Decision(code: .executed, message: event.message!, auditSeq: stored.seq, changes: event.changes, result: result)
        }
    }

    /// Step 12: the writes themselves, in the caller's transaction: row by row, or by forwarding the
    /// call to an upstream (then the after values are read back when the rows can be observed).
    func execute(_ plan: WritePlan, call: ToolCall, principal: Principal, session: any GuardSession) throws -> ([RowChange], JSONValue?) {
        let request = plan.request
        let model = plan.model
        if let forwarded = try session.backend.forward(call, model: model, operation: request.operation) {
            guard plan.observed else { return (plan.changes, forwarded.result) }
            switch request.operation {
            case .create:
                guard let key = forwarded.createdKey, let row = try session.backend.rows(model: model, keys: [key]).first ?? nil else {
                    return (plan.changes, forwarded.result)
                }
                return ([RowChange(key: key, fields: request.fields.keys.reduce(into: [:]) { $0[$1] = FieldChange(before: .null, after: row[$1] ?? .null) })],
                        forwarded.result)
            case .delete:
                return (plan.changes, forwarded.result)
            case .update, .bulkUpdate:
                let after = try session.backend.rows(model: model, keys: request.targets)
                let changes = zip(plan.changes, after).map { change, row in
                    RowChange(key: change.key, fields: change.fields.reduce(into: [:]) { out, field in
                        out[field.key] = FieldChange(before: field.value.before, after: row?[field.key] ?? .null)
                    })
                }
                return (changes, forwarded.result)
            }
        }
        return (try executeRows(plan, principal: principal, session: session), nil)
    }

    func executeRows(_ plan: WritePlan, principal: Principal, session: any GuardSession) throws -> [RowChange] {
        let request = plan.request
        let model = plan.model
        switch request.operation {
        case .create:
            var values = request.fields
            values[model.tenantField] = .string(principal.tenant)
            let key = try session.backend.insert(model: model, values: values)
            return [RowChange(key: key, fields: request.fields.mapValues { FieldChange(before: .null, after: $0) })]
        case .update, .bulkUpdate:
            for key in request.targets {
                try session.backend.update(model: model, key: key, values: request.fields)
            }
            return plan.changes
        case .delete:
            for key in request.targets {
                try session.backend.delete(model: model, key: key)
            }
            return plan.changes
        }
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

    func refuse(
        _ code: DecisionCode, _ message: String, call: ToolCall, tool: ToolPolicy?, principal: Principal,
        session: any GuardSession, now: Date
    ) throws -> Decision {
        var event = baseEvent(call, principal: principal, now: now, tool: tool)
        event.decision = code.rawValue
        event.message = message
        if let tool, case .bound(let request) = bind(call, tool) {
            event.reason = request.reason
            event.idempotencyKey = request.idempotencyKey
            event.targets = request.targets
            event.rowCount = request.rowCount
            event.details["fields"] = .array(request.fields.keys.sorted().map(JSONValue.string))
        }
        let stored = try session.ledger.append(event)
        return Decision(code: code, message: message, auditSeq: stored.seq, result: refusalResult(code, message))
    }

    func recordShadow(_ verdict: Verdict, call: ToolCall, tool: ToolPolicy, principal: Principal, session: any GuardSession, now: Date) throws -> Decision {
        var event = baseEvent(call, principal: principal, now: now, tool: tool)
        let wouldBe = verdict.code
        switch verdict {
        case .dryRun(let plan), .pending(let plan), .execute(let plan):
            event = planEvent(plan, call: call, tool: tool, principal: principal, now: now)
        case .refuse(_, let message):
            event.message = message
            if case .bound(let request) = bind(call, tool) {
                event.reason = request.reason
                event.idempotencyKey = request.idempotencyKey
                event.targets = request.targets
                event.rowCount = request.rowCount
            }
        case .replay:
            break
        }
        event.decision = DecisionCode.shadowed.rawValue
        event.details["would_be"] = .string(wouldBe.rawValue)
        let why = if case .refuse(_, let m) = verdict { ": \(m)" } else { "" }
        let message = "\(tool.name) is in shadow for tenant \(principal.tenant): validated and recorded, not executed (live, it would be \(wouldBe.rawValue)\(why))"
        event.message = message
        let stored = try session.ledger.append(event)
        let result: JSONValue = ["ok": true, "decision": "shadowed", "would_be": .string(wouldBe.rawValue), "audit_id": .number(Double(stored.seq)), "message": .string(message)]
        return Decision(code: .shadowed, message: message, auditSeq: stored.seq, changes: event.changes, wouldBe: wouldBe, result: result)
    }

    func remember(_ request: WriteRequest, tool: ToolPolicy, principal: Principal, seq: Int64, decision: DecisionCode, result: JSONValue, session: any GuardSession, now: Date) throws {
        guard let key = request.idempotencyKey else { return }
        try session.ledger.saveIdempotency(IdempotencyEntry(
            tenant: principal.tenant, key: key, tool: tool.name, effectDigest: request.effectDigest, auditSeq: seq,
            decision: decision, result: result, createdAt: now))
    }

    func refusalResult(_ code: DecisionCode, _ message: String) -> JSONValue {
        ["ok": false, "decision": .string(code.rawValue), "message": .string(message)]
    }

    enum Bound {
        case bound(WriteRequest)
        case unbound
    }

    func bind(_ call: ToolCall, _ tool: ToolPolicy) -> Bound {
        if case .success(let request) = RequestBinder.bind(call, to: tool) { return .bound(request) }
        return .unbound
    }

    func baseEvent(_ call: ToolCall, principal: Principal, now: Date, tool: ToolPolicy? = nil) -> AuditEvent {
        AuditEvent(
            ts: now, tenant: principal.tenant, actor: principal.actor, session: principal.session,
            tool: tool?.name ?? call.tool, model: tool?.model, operation: tool?.operation.rawValue, decision: "",
            policyDigest: policyDigest, details: ["args_digest": .string(call.argumentsDigest)])
    }

    func planEvent(_ plan: WritePlan, call: ToolCall, tool: ToolPolicy, principal: Principal, now: Date) -> AuditEvent {
        var event = baseEvent(call, principal: principal, now: now, tool: tool)
        event.targets = plan.request.targets
        event.rowCount = plan.request.rowCount
        event.changes = plan.changes.map(redactor.redact)
        event.reason = plan.request.reason
        event.idempotencyKey = plan.request.idempotencyKey
        return event
    }

}

/// Settings of a guard that are not policy.
public struct GuardOptions: Sendable {
    /// How long a dry run stays valid for the real call that repeats it.
    public var dryRunValidity: TimeSpan
    /// The digest recorded on every event; computed from the policy when nil.
    public var policyDigest: String?

    public init(dryRunValidity: TimeSpan = .hours(1), policyDigest: String? = nil) {
        self.dryRunValidity = dryRunValidity
        self.policyDigest = policyDigest
    }
}

/// Steps a test can switch off to prove that the fuzzer notices. Only reachable through
/// `@_spi(FaultInjection)`.
public struct GuardFaults: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let skipReasonCheck = GuardFaults(rawValue: 1 << 0)
    public static let skipIdempotencyRequirement = GuardFaults(rawValue: 1 << 1)
    public static let skipIdempotencyLedger = GuardFaults(rawValue: 1 << 2)
    public static let skipTenantCheck = GuardFaults(rawValue: 1 << 3)
    public static let skipWritableCheck = GuardFaults(rawValue: 1 << 4)
    public static let skipValueCheck = GuardFaults(rawValue: 1 << 5)
    public static let skipCaps = GuardFaults(rawValue: 1 << 6)
    public static let skipRowLimits = GuardFaults(rawValue: 1 << 7)
    public static let skipApproval = GuardFaults(rawValue: 1 << 8)
    public static let ignoreStages = GuardFaults(rawValue: 1 << 9)
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
