import RolloutCore

/// No reason, a blank one, boilerplate, and 10 kB of text.
enum ReasonAttacks {
    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        let tool = factory.tool
        let gap = gaps.first { $0.tool == tool.name && $0.area == .reason }?.message
        guard tool.binding.reason != nil || gap != nil else { return .skipped("the tool's binding carries no reason") }
        var attacks: [Attack] = []
        let variants: [(String, JSONValue?)] = [
            ("no reason", nil), ("blank reason", "   "), ("boilerplate reason 'n/a'", "n/a"), ("boilerplate reason 'As requested.'", "As requested."),
        ]
        for (i, (name, reason)) in variants.enumerated() {
            // The policy forbids the variant (an enforcement test), or only the baseline does (a policy gap).
            let forbidden = tool.binding.reason != nil && tool.reason.problem(with: reason?.stringValue) != nil
            guard forbidden || gap != nil else { continue }
            guard let step = AttackCatalogue.baselineStep(&factory, index: i, reason: reason) else { return .skipped(AttackCatalogue.noRows) }
            attacks.append(Attack(tool: tool.name, attackClass: .reason, variant: name, step: step, expectation: .refused, baselineGap: forbidden ? nil : gap))
        }
        // 10 kB: refused wherever the policy sets a lower limit.
        let long = String(repeating: "very long reason ", count: 600)
        if tool.binding.reason != nil, tool.reason.problem(with: long) != nil, let step = AttackCatalogue.baselineStep(&factory, index: 9, reason: .string(long)) {
            attacks.append(Attack(tool: tool.name, attackClass: .reason, variant: "10 kB reason", step: step, expectation: .refused))
        }
        return .attacks(attacks)
    }
}
