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
            guard let step = AttackCatalogue.baselineStep(&factory, index: i, reason: reason) else { return .skipped(AttackCatalogue.noRows) }
            attacks.append(Attack(tool: tool.name, attackClass: .reason, variant: name, step: step, expectation: .refused, baselineGap: gap))
        }
        // 10 kB is over any sane reason limit whether or not reasons are required.
        if tool.binding.reason != nil, let step = AttackCatalogue.baselineStep(&factory, index: 9, reason: .string(String(repeating: "very long reason ", count: 600))) {
            let overLimit = 10_200 > tool.reason.maxLength
            attacks.append(Attack(tool: tool.name, attackClass: .reason, variant: "10 kB reason", step: step, expectation: overLimit ? .refused : .notExecuted,
                                  baselineGap: overLimit ? nil : "reasons have no length limit"))
        }
        return .attacks(attacks)
    }
}
