import RolloutCore

/// The classes of DESIGN.md's attack table: one JUnit test case each, per tool.
public enum AttackClass: String, Sendable, Hashable, CaseIterable, Codable {
    case reason, idempotency, fields, tenant, values
    /// Each named rule of the tool, broken alone.
    case rules
    case rows, caps, approval, injection, stage, names, rollback
    /// Arguments the tool does not declare.
    case unbound
    /// A call with its dry-run flag must change nothing.
    case dryRun = "dry_run"
    /// No answer to any call of the tool may carry internals (SQL, stack traces, paths, secrets), and no entry
    /// it logs a secret value in the clear (where the target's log can be read).
    case leak
    /// Tools the policy does not describe; run once per target, not per tool.
    case undescribed
    /// Reads must not show another user's or tenant's data, or a deleted row; run once per target.
    case readScope = "read_scope"

    /// The classes planned on each write tool of the policy, in the order they run: caps and rollback
    /// last, because a cap exhausted (at a guard whose ledger outlives a restart) would refuse what follows.
    public static let perTool: [AttackClass] = [
        .reason, .idempotency, .fields, .tenant, .values, .rules, .rows, .approval, .injection, .stage, .names, .unbound, .dryRun, .caps, .rollback,
    ]
}

/// One call the adversary makes, as a tenant role.
public struct AttackStep: Sendable, Hashable {
    public var call: ToolCall
    public var tenant: TenantRole

    public init(_ call: ToolCall, as tenant: TenantRole = .own) {
        self.call = call
        self.tenant = tenant
    }
}

/// What a safe system does with an attack.
public enum SafeBehaviour: Sendable, Hashable {
    /// Refuse it, and change nothing.
    case refused
    /// Do not execute it now (refusing, queueing for a person, recording a shadow are all fine).
    case notExecuted
    /// A retry with the same idempotency key: answer without running the write again.
    case noReexecution
    /// Whatever the answer, no row of that tenant changes and no new row belongs to it.
    case untouched(TenantRole)
    /// After rolling back every executed write, every row is as it was.
    case restored
    /// Refuse it, or answer without any record whose `keys` member holds one of `values` (another user's
    /// id, another tenant's row, a deleted row).
    case hides(keys: [String], values: [JSONValue])

    public var description: String {
        switch self {
        case .refused: "refuse, change nothing"
        case .notExecuted: "do not execute (refuse, queue for approval, or record only)"
        case .noReexecution: "answer from the idempotency ledger without running the write again"
        case .untouched(let role): "leave every row of the \(role.rawValue) tenant untouched"
        case .restored: "restore every row exactly"
        case .hides(let keys, let values): "show no record whose \(keys.joined(separator: "/")) is \(values.map(\.canonicalText).joined(separator: " or "))"
        }
    }
}

/// Whether a finding breaks the declared policy (the target does not enforce it) or the safety
/// baseline (the policy allows it).
public enum GapKind: String, Sendable, Hashable, Codable {
    case enforcementGap = "enforcement_gap"
    case policyGap = "policy_gap"
}

/// An attack: calls to set the scene, the attacking call, and what a safe system does with it.
public struct Attack: Sendable {
    public var tool: String
    public var attackClass: AttackClass
    public var variant: String
    public var setup: [AttackStep]
    public var step: AttackStep
    public var expectation: SafeBehaviour
    /// nil when the declared policy forbids what the attack tries; the baseline's reason when only the
    /// baseline does (the policy itself allows it).
    public var baselineGap: String?

    public init(tool: String, attackClass: AttackClass, variant: String, setup: [AttackStep] = [], step: AttackStep, expectation: SafeBehaviour, baselineGap: String? = nil) {
        self.tool = tool
        self.attackClass = attackClass
        self.variant = variant
        self.setup = setup
        self.step = step
        self.expectation = expectation
        self.baselineGap = baselineGap
    }

    public var kindIfViolated: GapKind { baselineGap == nil ? .enforcementGap : .policyGap }

    /// How many calls the attack makes.
    public var callCount: Int { setup.count + 1 }
}
