import Foundation
import RolloutCore

/// The write runtime: every write request goes through one decision pipeline (DESIGN.md, "The guard"),
/// the first refusal wins and names its code, and every decision, refusals included, is an audit event.
///
/// ```swift
/// let store = try AuditStore(path: ".rollout/audit.sqlite")
/// let guard_ = Guard(policy: policy, stages: tenants, environment: try StoreEnvironment(store: store, policy: policy),
///                    upstream: upstream)
/// let decision = try await guard_.decide(ToolCall(tool: "orders.update", arguments: args),
///                                        principal: Principal(tenant: "acme", actor: "agent-7"))
/// ```
///
/// Writes land either in rows the environment holds (the built-in domain: the write commits in the
/// decision's transaction) or at an `Upstream`: then the write is recorded as an intent (key reserved,
/// cap consumed, chained event), forwarded with no transaction open, and its outcome recorded in a
/// second transaction. An outcome that is lost leaves its key `in_doubt`, never run again; an outcome
/// that cannot be recorded stops the guard taking writes.
///
/// The principal comes from the host, never from the arguments. `decide` throws only when the store
/// fails; a refusal is a `Decision`, not an error.
public final class Guard: Sendable {
    public let policy: Policy
    public let stages: any StageSource
    public let environment: any GuardEnvironment
    /// Where writes go when the environment holds no rows.
    public let upstream: (any Upstream)?
    public let clock: any TimeSource
    public let options: GuardOptions
    public let pipeline: GuardPipeline
    /// Recorded on every event, approval and ledger entry.
    public let backend: String
    let redactor: Redactor
    /// The upstream's placement (`Upstream.placement`) as keyed digests, recorded on every planned event.
    let placement: [String: JSONValue]
    /// Recorded on every event; computed once, the policy does not change under a guard.
    let policyDigest: String
    /// Where this guard writes, and how it marks secret values (`DecisionScope`).
    let decisionScope: DecisionScope
    let halt = HaltSwitch()
    /// Proxied writes take turns from their lookups to their recorded outcome (see `run`).
    let upstreamTurn = SerialGate()

    public init(
        policy: Policy, stages: any StageSource, environment: any GuardEnvironment, upstream: (any Upstream)? = nil,
        clock: any TimeSource = SystemTime(), options: GuardOptions = GuardOptions(), pipeline: GuardPipeline = .standard
    ) {
        self.policy = policy
        self.stages = stages
        self.environment = environment
        self.upstream = upstream
        self.clock = clock
        self.options = options
        self.pipeline = pipeline
        self.backend = upstream?.backend ?? GuardBackend.builtin
        self.redactor = environment.redactor.covering(policy)
        var placement = (upstream?.placement ?? [:]).mapValues { [redactor] in JSONValue.string(redactor.mark(.string($0))) }
        // A bare command's environment is bound by its one mark; a short mark per variable beside it only lets
        // a refusal name the variables that differ.
        if let text = upstream?.placement["environment"], let variables = (try? JSONValue.parse(text))?.objectValue {
            placement[Self.environmentMarks] = .object(variables.mapValues { [redactor] in .string(String(redactor.mark($0).dropFirst("hmac:".count).prefix(8))) })
        }
        self.placement = placement
        decisionScope = DecisionScope(backend: backend, redactor: redactor, placement: DecisionScope.writingPlace(placement))
        self.policyDigest = options.policyDigest ?? policy.digest
    }


    /// Why the guard stopped taking writes, when it has.
    public var haltReason: String? { halt.reason }

    // MARK: deciding

    /// Decides one call: refuses it, answers it (replay, dry run, shadow), queues it for approval, or
    /// executes it (in the environment's rows, or forwarded to the upstream), and records the decision.
    public func decide(_ call: ToolCall, principal: Principal) async throws -> Decision {
        if let reason = halt.reason { return try refuseWhileHalted(reason, call: call, principal: principal) }
        let now = clock.now()
        guard case .entry(let tool) = ToolResolver.resolve(call, in: policy) else {
            guard case .unknown(let message) = ToolResolver.resolve(call, in: policy) else { fatalError("unreachable") }
            return try await environment.groupedTransaction { session in
                try self.refuse(.toolUnknown, message, call: call, tool: nil, principal: principal, session: session, now: now)
            }
        }
        guard let model = policy.model(named: tool.model) else {
            return try await environment.groupedTransaction { session in
                try self.refuse(.invalidArguments, "\(tool.name) writes model \(tool.model), which the policy does not define",
                           call: call, tool: tool, principal: principal, session: session, now: now)
            }
        }
        var context = DecisionContext(policy: policy, call: call, tool: tool, model: model, principal: principal, now: now,
                                      mode: .live, stages: stages, options: options, decisionScope: decisionScope)
        return try await run(&context, approval: nil)
    }

    /// A call met after the guard halted (an outcome it could not record): refused, and recorded where the
    /// store still takes a record, as every refusal is; `GuardError.halted` when it does not.
    func refuseWhileHalted(_ reason: String, call: ToolCall, principal: Principal) throws -> Decision {
        let message = GuardError.halted(reason).description
        do {
            var tool: ToolPolicy?
            if case .entry(let entry) = ToolResolver.resolve(call, in: policy) { tool = entry }
            return try environment.transaction { session in
                try refuse(.backendError, "\(call.tool): \(message)", call: call, tool: tool, principal: principal, session: session, now: clock.now())
            }
        } catch {
            throw GuardError.halted(reason)
        }
    }

    /// Records a refusal of a call the pipeline never sees: a tool the upstream lists that the policy
    /// does not describe (`tool_undescribed`), or a read refused by its scoping or rules.
    public func refuseUnpoliced(_ call: ToolCall, principal: Principal, code: DecisionCode, message: String) throws -> Decision {
        let now = clock.now()
        return try environment.transaction { session in
            try refuse(code, message, call: call, tool: nil, principal: principal, session: session, now: now)
        }
    }

    /// What phase one of a decision left to do.
    enum FirstPhase {
        case done(Decision)
        /// The write is recorded as an intent and goes to the upstream now.
        case forward(DecisionContext, Intent)
    }

    /// The intent event of a proxied write, and what its outcome must settle.
    struct Intent {
        var seq: Int64
        var plan: WritePlan
        var approval: ApprovalRun?
    }

    /// The person and approval an approved write runs under.
    struct ApprovalRun {
        var approval: PendingApproval
        var approver: String
        var reason: String?
        /// The log after the pending event as checked before the run: the transaction that writes, or hands
        /// the write to its upstream, resumes it (`settledSince`).
        var known: CheckedEvents? = nil
    }

    /// The pipeline from its first step to the recorded outcome. Calls are decided concurrently through
    /// their first checks (stage, binding, reason); a write that goes to an upstream then waits its turn:
    /// one at a time through lookups, intent, forward and outcome, so a rule that read the upstream's
    /// state judged the state the write meets, no intent waits unsent behind a slow call, a second call
    /// with the same key finds the first one settled, and a guard that halted forwards nothing more. When
    /// its turn comes the first checks run again (a tenant paused meanwhile is paused for it too). Writes
    /// to the built-in rows need no turn: each is one transaction.
    func run(_ context: inout DecisionContext, approval: ApprovalRun?) async throws -> Decision {
        let asked = upstream == nil ? nil : context
        if let verdict = try pipeline.run(.beforeLookups, &context) {
            markCall(&context, forWrite: false)
            let ready = context
            return try await environment.groupedTransaction { session in try self.settle(verdict, ready, approval: approval, session: session) }
        }
        guard let asked else { return try await runChecked(&context, approval: approval) }
        await upstreamTurn.enter()
        do {
            if let reason = halt.reason {
                let refused = try refuseWhileHalted(reason, call: context.call, principal: context.principal)
                await upstreamTurn.leave()
                return refused
            }
            context = asked
            context.now = max(context.now, clock.now())
            let decision: Decision
            if let verdict = try pipeline.run(.beforeLookups, &context) {
                markCall(&context, forWrite: false)
                let ready = context
                decision = try await environment.groupedTransaction { session in try self.settle(verdict, ready, approval: approval, session: session) }
            } else {
                decision = try await runChecked(&context, approval: approval)
            }
            await upstreamTurn.leave()
            return decision
        } catch {
            await upstreamTurn.leave()
            throw error
        }
    }

    /// The pipeline after its first checks: lookups, the checks in the transaction, the write.
    private func runChecked(_ context: inout DecisionContext, approval: ApprovalRun?) async throws -> Decision {
        var lookupFailure: String?
        if !context.tool.lookups.isEmpty {
            lookupFailure = await readLookups(&context)
            if lookupFailure == nil { lookupFailure = context.lookupPathMissing() }
        }
        if let failure = lookupFailure {
            let ready = context
            return try await environment.groupedTransaction { session in
                try self.settle(.refuse(.lookupFailed, failure), ready, approval: approval, session: session)
            }
        }
        // Caps, expiries and the events count from the time the write is decided, after its lookups.
        if upstream != nil { context.now = max(context.now, clock.now()) }
        let now = context.now
        context.observer = upstream?.observer
        let beforeSnapshot: [JSONValue: [String: JSONValue]]?
        do {
            beforeSnapshot = try snapshotForMismatch(context)
        } catch {
            // What the write does could not be checked after it: refused and audited, nothing forwarded.
            var ready = context
            ready.rowsUnreadable = true
            let message = "\(context.tool.name): \(error); the write was not forwarded, since what it does could not be checked"
            return try await environment.groupedTransaction { session in
                try self.settle(.refuse(.lookupFailed, message), ready, approval: approval, session: session)
            }
        }

        markCall(&context, forWrite: true)
        let ready = context
        let first: FirstPhase
        do {
            first = try await environment.groupedTransaction { session in
                var context = ready
                context.session = session
                if let approval, let current = try session.ledger.approval(id: approval.approval.id), current.status != .pending || now > current.expiresAt {
                    // Pending when checked, but decided or expired since (an approval may wait for its turn).
                    if current.status == .pending, let expired = try self.approvalRefusal(current, by: approval.approver, reason: approval.reason,
                                                                                         session: session, now: now) {
                        return .done(expired)
                    }
                    return .done(try self.approvalEvent(.approvalRefused, "approval \(current.id) is already \(current.status.rawValue); an approval runs its write once",
                                                   current, by: approval.approver, reason: approval.reason, session: session, now: now))
                }
                if let approval, let settled = try self.settledSince(approval, session: session, now: now) { return .done(settled) }
                // The stage again, now: a demotion or pause made while the lookups or the observer waited on
                // the upstream stops this call too.
                if let stage = self.pipeline.steps.first(where: { $0.name == .stage }), let verdict = try stage.check(&context) {
                    return .done(try self.settle(verdict, context, approval: approval, session: session))
                }
                let verdict = try self.pipeline.run(.inTransaction, &context) ?? .execute(context.plan!)
                if case .execute(let plan) = verdict, self.upstream != nil, !context.shadow {
                    let intent = try self.recordIntent(plan, context, approval: approval, session: session)
                    return .forward(context, intent)
                }
                return .done(try self.settle(verdict, context, approval: approval, session: session))
            }
        } catch let error as BackendError {
            // The built-in domain refused the row write; its transaction rolled back. Record that on its own.
            return try await environment.groupedTransaction { session in
                try self.refuse(.backendError, "the write failed in the backend: \(error.message)", call: ready.call, tool: ready.tool,
                           principal: ready.principal, session: session, now: now)
            }
        }
        switch first {
        case .done(let decision):
            return decision
        case .forward(let context, let intent):
            return try await forward(context, intent: intent, beforeSnapshot: beforeSnapshot)
        }
    }

    /// Reads every lookup of the tool through the upstream, in order. Returns why one failed, or nil.
    func readLookups(_ context: inout DecisionContext) async -> String? {
        for lookup in context.tool.lookups {
            guard let upstream else {
                if lookup.optional {
                    context.lookups[lookup.name] = .null
                    continue
                }
                return "\(context.tool.name) reads \(lookup.tool) before deciding (lookup \(lookup.name)), and this guard has no upstream to read it from"
            }
            guard let arguments = lookup.arguments(for: context.call, principal: context.principal) else {
                if lookup.optional {
                    context.lookups[lookup.name] = .null
                    continue
                }
                return "\(context.tool.name): lookup \(lookup.name) needs an argument the call does not carry (or a subject the host did not give)"
            }
            let outcome = await upstream.call(ToolCall(tool: lookup.tool, arguments: arguments))
            switch outcome {
            case .accepted(let result):
                // Fail closed: an answer with no one state to read (not JSON, its parts disagreeing, nothing
                // where `select` points) is a failed lookup, whatever `optional` says; judged as null, the
                // rules over it never fired.
                switch lookup.state(of: result) {
                case .success(let value): context.lookups[lookup.name] = value
                case .failure(let unreadable):
                    return "\(context.tool.name): lookup \(lookup.name) (\(lookup.tool)) answered what the guard cannot decide from: \(unreadable.why)"
                }
            case .refused(_, let message, _):
                if lookup.optional {
                    context.lookups[lookup.name] = .null
                    continue
                }
                // The upstream's words may quote what it was sent: the lookup's arguments come from the call.
                return "\(context.tool.name): lookup \(lookup.name) (\(lookup.tool)) was refused by the upstream: \(redactor.scrubbing(message, secretsOf: context.call.arguments, arguments))"
            case .failed(let failure):
                return "\(context.tool.name): lookup \(lookup.name) (\(lookup.tool)) failed: \(redactor.scrubbing("\(failure)", secretsOf: context.call.arguments, arguments))"
            }
        }
        return nil
    }

    /// Records a verdict that ends the decision in this transaction: a refusal, an answer from the
    /// ledger, a shadow record, a queued approval, a dry run, or (built-in rows) the write itself.
    func settle(_ verdict: Verdict, _ context: DecisionContext, approval: ApprovalRun?, session: any GuardSession) throws -> Decision {
        if context.shadow { return try recordShadow(verdict, context, session: session) }
        if let approval {
            return try settleApproved(verdict, context, approval, session: session)
        }
        return try act(on: verdict, context, session: session)
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

/// Set once when the guard can no longer record what it does; every later write is refused.
final class HaltSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?

    var reason: String? { lock.withLock { value } }

    func set(_ reason: String) {
        lock.withLock { if value == nil { value = reason } }
    }
}

/// A request to the guard that cannot be carried out.
public enum GuardError: Error, Sendable, CustomStringConvertible {
    case noSuchApproval(Int64)
    case noSuchEvent(Int64)
    /// The guard stopped taking writes: an outcome could not be recorded.
    case halted(String)
    /// A write reached the upstream, but its outcome could not be recorded: the guard has stopped.
    case outcomeNotRecorded(tool: String, intentSeq: Int64, upstream: String, error: String)

    public var description: String {
        switch self {
        case .noSuchApproval(let id): "there is no approval \(id); `rollout approvals` lists the pending ones"
        case .noSuchEvent(let seq): "there is no audit event \(seq); `rollout audit tail` lists recent ones"
        case .halted(let reason): "the guard takes no more writes: \(reason); nothing was forwarded"
        case .outcomeNotRecorded(let tool, let seq, let upstream, let error):
            "\(tool) WAS forwarded to the upstream (\(upstream); intent recorded as audit event \(seq)), but its outcome could not be recorded: \(error). The guard takes no more writes until it is restarted with a working store; check the upstream's state before retrying"
        }
    }
}

/// The JSON inside an MCP tool result: its structured content, or its text when that is JSON.
public enum MCPResultText {
    public static func json(_ result: JSONValue) -> JSONValue? {
        if let structured = result["structuredContent"], !structured.isNull { return structured }
        return try? JSONValue.parse(text(result))
    }

    /// The text content of an MCP tool result, its parts joined by newlines.
    public static func text(_ result: JSONValue) -> String {
        (result["content"]?.arrayValue ?? []).compactMap { item -> String? in
            item["type"] == "text" || item["type"] == nil ? item["text"]?.stringValue : nil
        }.joined(separator: "\n")
    }
}
