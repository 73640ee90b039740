import RolloutCore

/// The attacks of one class against one tool, or why the class does not apply.
enum AttackPlan {
    case attacks([Attack])
    case skipped(String)
    /// Attacks, and variants the class could not build (rule names, with why).
    case partial([Attack], unreachable: [String])
}

/// DESIGN.md's attack table, class by class. Each function builds the variants from a valid baseline
/// call, and says for each what a safe system does and whether the declared policy or only the safety
/// baseline forbids it.
enum AttackCatalogue {
    static func plan(_ attackClass: AttackClass, factory: inout CallFactory, capabilities: TargetCapabilities, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        switch attackClass {
        case .reason: ReasonAttacks.plan(&factory, gaps: gaps)
        case .idempotency: IdempotencyAttacks.plan(&factory, gaps: gaps)
        case .fields: FieldAttacks.plan(&factory)
        case .tenant: TenantAttacks.plan(&factory, gaps: gaps)
        case .values: ValueAttacks.plan(&factory, gaps: gaps)
        case .rows: RowAttacks.plan(&factory, gaps: gaps)
        case .caps: CapAttacks.plan(&factory, gaps: gaps)
        case .approval: ApprovalAttacks.plan(&factory, gaps: gaps)
        case .injection: InjectionAttacks.plan(&factory)
        case .stage: capabilities.stages ? StageAttacks.plan(&factory) : .skipped("the target has no per-tenant stages (put `rollout guard` in front of it)")
        case .names: NameAttacks.plan(&factory)
        case .rollback: capabilities.rollback ? RollbackAttacks.plan(&factory) : .skipped("the target offers no rollback")
        case .unbound: UnboundAttacks.plan(&factory)
        case .rules: RuleAttacks.plan(&factory)
        case .dryRun: DryRunAttacks.plan(&factory)
        case .leak: .skipped("judged on every call of the tool, not planned")
        case .undescribed, .readScope: .skipped("tried once per target, not per tool")
        }
    }

    /// A baseline call's step, with optional overrides of reason and key.
    static func baselineStep(_ factory: inout CallFactory, index: Int, reason: JSONValue? = .string(CallFactory.goodReason), key: String? = nil) -> AttackStep? {
        guard let base = factory.baseline(index: index) else { return nil }
        let args = factory.arguments(targets: base.targets, fields: base.fields, reason: reason, key: key ?? factory.nextKey())
        return AttackStep(ToolCall(tool: factory.tool.toolName, arguments: args))
    }

    static let noRows = "the target has no rows of the caller's tenant for this model"
}
