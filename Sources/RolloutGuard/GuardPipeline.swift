import RolloutCore

/// One check of the decision pipeline, as a value: the standard pipeline is a list of them, and a test
/// that proves the fuzzer notices a missing check builds a pipeline with one replaced. Production code
/// has no fault switches.
public struct GuardStep: Sendable {
    /// The checks of DESIGN.md's pipeline, in order.
    public enum Name: String, Sendable, Hashable, CaseIterable {
        case stage, binding, arguments, reason, idempotency, tenant, writable, values, rules, caps, rows, dryRun = "dry_run", approval
    }

    /// When a step runs: the cheap, stateless checks before the guard reads state through lookups, the
    /// rest inside the decision's transaction.
    public enum Phase: Sendable {
        case beforeLookups, inTransaction
    }

    public let name: Name
    public let phase: Phase
    let check: @Sendable (inout DecisionContext) throws -> Verdict?

    /// A step that runs `check`: nil lets the call go on, a verdict ends the pipeline.
    public init(_ name: Name, phase: Phase, check: @escaping @Sendable (inout DecisionContext) throws -> Verdict?) {
        self.name = name
        self.phase = phase
        self.check = check
    }

    /// A step that checks nothing: what a test puts in place of a step to prove that its absence is noticed.
    public static func passThrough(_ name: Name, phase: Phase) -> GuardStep {
        GuardStep(name, phase: phase) { _ in nil }
    }
}

/// The ordered checks every write request meets; the first verdict wins.
public struct GuardPipeline: Sendable {
    public var steps: [GuardStep]

    public init(steps: [GuardStep]) {
        self.steps = steps
    }

    /// DESIGN.md's pipeline, as the policy states it.
    public static let standard = GuardPipeline(steps: StandardSteps.all)

    /// This pipeline with the step `name` replaced by `step`.
    public func replacing(_ name: GuardStep.Name, with step: GuardStep) -> GuardPipeline {
        GuardPipeline(steps: steps.map { $0.name == name ? step : $0 })
    }

    /// This pipeline with the step `name` checking nothing.
    public func skipping(_ name: GuardStep.Name) -> GuardPipeline {
        GuardPipeline(steps: steps.map { $0.name == name ? .passThrough(name, phase: $0.phase) : $0 })
    }

    /// Runs the steps of `phase` in order; the first verdict, or nil when every one let the call go on.
    func run(_ phase: GuardStep.Phase, _ context: inout DecisionContext) throws -> Verdict? {
        for step in steps where step.phase == phase {
            if let verdict = try step.check(&context) { return verdict }
        }
        return nil
    }
}
