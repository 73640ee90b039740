import RolloutCore

/// The tool's dry-run flag on a valid call: it must change nothing. A server that ignores the flag (or
/// does not know it) writes for real while the agent believes it only looked.
enum DryRunAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        guard tool.binding.dryRun != nil else { return .skipped("the policy binds no dry-run flag for this tool") }
        guard let base = factory.baseline(index: 2) else { return .skipped(AttackCatalogue.noRows) }
        let args = factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey(), dryRun: true)
        return .attacks([Attack(tool: tool.name, attackClass: .dryRun, variant: "a valid call with its dry-run flag",
                                step: AttackStep(ToolCall(tool: tool.toolName, arguments: args)), expectation: .notExecuted)])
    }
}
