import Foundation
import RolloutCore
import RolloutGuard

/// The built-in guard over an in-memory demo domain: the adversary can read every row, so its oracle
/// checks state, not only answers. Each reset puts back the state the policy seeded.
public final class BuiltinTarget: FuzzTarget {
    public let policy: Policy
    public let tenants = FuzzTenants(own: "tenant-a", other: "tenant-b", off: "tenant-off", shadow: "tenant-shadow")
    public var description: String { "built-in guard" }
    public let capabilities = TargetCapabilities(stages: true, rollback: true, decisionCodes: true, cheapReset: true)

    private let makeGuard: (InMemoryEnvironment, any StageSource, any TimeSource) -> Guard
    private let environment: InMemoryEnvironment
    private let stages: FixedTenantStages
    /// The seeded state every reset starts from.
    private var pristine: InMemoryEnvironment?
    private var guard_: Guard
    /// Counts resets: each starts another audit log.
    private var generation = 0
    /// The entries a reset's log starts with (the seeded environment's).
    private var logStart = 0
    private let clock: ManualTime
    /// Enough rows per tenant for the largest bulk attack.
    let rowsPerTenant: Int

    /// `makeGuard` builds the guard under test; tests pass one whose pipeline has a step replaced.
    public init(policy: Policy, makeGuard: ((InMemoryEnvironment, any StageSource, any TimeSource) -> Guard)? = nil) throws {
        self.policy = policy
        let digest = policy.digest
        let build = makeGuard ?? { environment, stages, clock in
            Guard(policy: policy, stages: stages, environment: environment, clock: clock, options: GuardOptions(policyDigest: digest))
        }
        self.makeGuard = build
        environment = InMemoryEnvironment(redactor: Redactor(policy: policy))
        clock = ManualTime(Timestamp.parse("2026-01-05T09:00:00Z")!)
        let largest = policy.tools.compactMap { tool in [tool.maxRows, tool.dryRunAboveRows].compactMap { $0 }.max() }.max() ?? 0
        rowsPerTenant = min(max(largest + 2, 12), 500)
        stages = Self.stages(tenants)
        guard_ = build(environment, stages, clock)
        try resetSync()
    }

    static func stages(_ tenants: FuzzTenants) -> FixedTenantStages {
        FixedTenantStages(stages: [tenants.own: .broad, tenants.other: .broad, tenants.off!: .off, tenants.shadow!: .shadow])
    }

    public func reset() async throws {
        try resetSync()
    }

    /// Puts the seeded state back. The guard holds no state of its own but its halt switch, so one that has
    /// not halted is kept and decides over the restored environment; a halted one is built again.
    private func resetSync() throws {
        if pristine == nil {
            let seeded = InMemoryEnvironment(redactor: Redactor(policy: policy))
            try seeded.seed(policy: policy, tenants: [tenants.own, tenants.other, tenants.off!, tenants.shadow!], rowsPerTenant: rowsPerTenant)
            pristine = seeded
        }
        environment.restore(from: pristine!)
        generation += 1
        logStart = environment.events.count
        if guard_.haltReason != nil { guard_ = makeGuard(environment, stages, clock) }
    }

    public func auditLog(since mark: AuditLogMark?) -> (entries: [AuditEvent], mark: AuditLogMark)? {
        let events = environment.events
        let from = mark?.generation == generation ? max(mark!.count, logStart) : logStart
        return (from < events.count ? Array(events[from...]) : [], AuditLogMark(generation: generation, count: events.count))
    }

    private var sent = 0

    public func callsSent() async -> Int { sent }

    public func call(_ call: ToolCall, tenant: String) async throws -> CallOutcome {
        sent += 1
        clock.advance(by: 0.001)
        let decision = try await guard_.decide(call, principal: Principal(tenant: tenant, actor: "fuzz-agent"))
        return Self.outcome(decision)
    }

    static func outcome(_ decision: Decision) -> CallOutcome {
        let verdict: CallOutcome.Verdict = switch decision.code {
        case .executed, .rolledBack, .upstreamMismatch: .accepted
        case .pendingApproval: .pending
        case .shadowed, .dryRun: .notExecuted
        case .replayed: .replayed
        default: .refused
        }
        return CallOutcome(verdict: verdict, code: decision.code.rawValue, message: decision.message, raw: decision.result, auditSeq: decision.auditSeq)
    }

    public func rows(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]]? {
        environment.table(model.name)
    }

    public func rollback(_ outcome: CallOutcome) async throws -> CallOutcome? {
        guard let seq = outcome.auditSeq else { return nil }
        sent += 1
        return Self.outcome(try await guard_.rollback(seq, by: "fuzz-operator", reason: "the adversary undoes its own write"))
    }
}

/// Stages by tenant, every tool alike.
struct FixedTenantStages: StageSource {
    var stages: [String: Stage]
    func stage(tenant: String, tool: String) -> Stage { stages[tenant] ?? .off }
}
