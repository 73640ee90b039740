import RolloutCore

/// The tool called for a tenant where it is off, and where it is in shadow: nothing may execute.
enum StageAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        guard let base = factory.baseline(index: 0) else { return .skipped(AttackCatalogue.noRows) }
        // Whatever rows the call names, nothing may execute for a tenant where the tool is off or in shadow.
        var attacks: [Attack] = []
        for (role, variant, expectation) in [(TenantRole.off, "tool off for the tenant", SafeBehaviour.refused), (.shadow, "tenant in shadow", .notExecuted)] {
            // A row another field names is that tenant's, as a valid call of its own would name.
            let fields = factory.tenants.name(role).map { factory.fields(base.fields, namingRowsOf: $0) } ?? base.fields
            let args = factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
            attacks.append(Attack(tool: tool.name, attackClass: .stage, variant: variant, step: AttackStep(ToolCall(tool: tool.toolName, arguments: args), as: role), expectation: expectation))
        }
        return .attacks(attacks)
    }
}
