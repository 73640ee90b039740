import RolloutCore

/// A bulk write above the dry-run threshold without a dry run; above max_rows even with one.
enum RowAttacks {
    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        let tool = factory.tool
        guard tool.operation.isMultiRow else { return .skipped("\(tool.operation.rawValue) touches one row") }
        let gap = gaps.first { $0.tool == tool.name && $0.area == .rows }?.message
        guard let base = factory.baseline(index: 0) else { return .skipped(AttackCatalogue.noRows) }
        var attacks: [Attack] = []
        let available = factory.ownRows.count
        let threshold = tool.dryRunAboveRows ?? 5
        if threshold + 1 <= min(available, tool.maxRows ?? available) {
            let targets = Array(factory.ownRows.prefix(threshold + 1).map(\.key))
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            attacks.append(Attack(tool: tool.name, attackClass: .rows, variant: "\(threshold + 1) rows without a dry run first",
                                  step: AttackStep(call), expectation: .notExecuted, baselineGap: tool.dryRunAboveRows == nil ? gap : nil))
        }
        if let maxRows = tool.maxRows, maxRows + 1 <= available {
            let targets = Array(factory.ownRows.prefix(maxRows + 1).map(\.key))
            // Even after a matching dry run, too many rows are refused.
            let dry = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey(), dryRun: true))
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            attacks.append(Attack(tool: tool.name, attackClass: .rows, variant: "\(maxRows + 1) rows, above max_rows, after a dry run",
                                  setup: tool.binding.dryRun == nil ? [] : [AttackStep(dry)], step: AttackStep(call), expectation: .refused))
        }
        return attacks.isEmpty ? .skipped("the target has too few rows of the caller's tenant to exceed the limits") : .attacks(attacks)
    }
}
