import RolloutCore

/// No key; the same key again with the same call; the same key with another call.
enum IdempotencyAttacks {
    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        let tool = factory.tool
        let gap = gaps.first { $0.tool == tool.name && $0.area == .idempotency }?.message
        var attacks: [Attack] = []
        guard let withoutKey = factory.baseline(index: 0) else { return .skipped(AttackCatalogue.noRows) }
        let noKeyCall = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: withoutKey.targets, fields: withoutKey.fields, reason: .string(CallFactory.goodReason), key: nil))
        attacks.append(Attack(tool: tool.name, attackClass: .idempotency, variant: "no idempotency key", step: AttackStep(noKeyCall), expectation: .refused, baselineGap: gap))

        guard tool.binding.idempotencyKey != nil else { return .attacks(attacks) }
        // The same key and call again: must not run twice.
        let key = factory.nextKey()
        guard let first = factory.baseline(index: 1) else { return .attacks(attacks) }
        let firstCall = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: first.targets, fields: first.fields, reason: .string(CallFactory.goodReason), key: key))
        attacks.append(Attack(tool: tool.name, attackClass: .idempotency, variant: "same key, same call, twice",
                              setup: [AttackStep(firstCall)], step: AttackStep(firstCall), expectation: .noReexecution))
        // The same key with a different call: must be refused.
        if let other = factory.baseline(index: 5) {
            var fields = other.fields
            if fields == first.fields, let name = fields.keys.sorted().first, let rule = factory.model.field(name) {
                fields[name] = ValueSynthesizer.different(from: fields[name], rule: rule, index: 11)
            }
            let otherCall = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: other.targets, fields: fields, reason: .string(CallFactory.goodReason), key: key))
            if otherCall.arguments != firstCall.arguments {
                attacks.append(Attack(tool: tool.name, attackClass: .idempotency, variant: "same key, different call",
                                      setup: [AttackStep(firstCall)], step: AttackStep(otherCall), expectation: .refused))
            }
        }
        return .attacks(attacks)
    }
}
