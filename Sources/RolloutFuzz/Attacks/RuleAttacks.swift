import RolloutCore

/// Each named rule of the tool broken alone: a call that passes every other rule and field rule and
/// makes this one hold (an order of another user, a cancelled order, one item for two replacements, a
/// payment method that is not the user's). A refusing rule must refuse; an approval or dry-run rule must
/// keep the call from executing. With learned values, each pair of refusing rules is also broken
/// together (where a call can be built for it): a server that checks a payment method against the
/// order's owner refuses another user's order paid with the subject's card, and takes it paid with the
/// owner's card.
enum RuleAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        guard !tool.rules.isEmpty else { return .skipped("the tool states no rules") }
        var attacks: [Attack] = []
        var unreachable: [String] = []
        for rule in tool.rules {
            guard let call = factory.knowledgeMode ? factory.breaking(rule) : rowsBreaking(rule, &factory) else {
                unreachable.append(rule.name)
                continue
            }
            let args = factory.arguments(targets: call.targets, fields: call.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
            let expectation: SafeBehaviour = rule.decision == .refuse ? .refused : .notExecuted
            attacks.append(Attack(tool: tool.name, attackClass: .rules, variant: "breaks rule \(rule.name) (\(rule.message))",
                                  step: AttackStep(ToolCall(tool: tool.toolName, arguments: args)), expectation: expectation))
        }
        if factory.knowledgeMode { attacks += pairs(&factory) }
        if attacks.isEmpty {
            return .skipped("no call the adversary could build breaks \(unreachable.joined(separator: ", ")) alone (it needs rows or values it has not learned)")
        }
        return .partial(attacks, unreachable: unreachable.map { "rule \($0): no call the adversary could build breaks it alone" })
    }

    /// The variant of a pair attack; `pairNames` reads it back.
    static func pairVariant(_ a: ToolRule, _ b: ToolRule) -> String {
        "breaks rules \(a.name) and \(b.name) together (\(a.message); \(b.message))"
    }

    /// The two rule names of a pair attack's variant, or nil for any other variant.
    static func pairNames(_ variant: String) -> (String, String)? {
        guard variant.hasPrefix("breaks rules ") else { return nil }
        let words = variant.split(separator: " ")
        guard words.count >= 5, words[3] == "and" else { return nil }
        return (String(words[2]), String(words[4]))
    }

    /// Each pair of refusing rules broken together, where a call can be built for it.
    static func pairs(_ factory: inout CallFactory) -> [Attack] {
        let refusing = factory.tool.rules.filter { $0.decision == .refuse }
        var attacks: [Attack] = []
        for (i, rule) in refusing.enumerated() {
            for partner in refusing[(i + 1)...] {
                guard let call = factory.breaking(rule, also: partner) else { continue }
                let args = factory.arguments(targets: call.targets, fields: call.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
                attacks.append(Attack(tool: factory.tool.name, attackClass: .rules, variant: pairVariant(rule, partner),
                                      step: AttackStep(ToolCall(tool: factory.tool.toolName, arguments: args)), expectation: .refused))
            }
        }
        return attacks
    }

    /// With observed rows: the own rows and each field's edge values, one change at a time.
    static func rowsBreaking(_ rule: ToolRule, _ factory: inout CallFactory) -> (targets: [JSONValue], fields: [String: JSONValue])? {
        guard let base = factory.baseline(index: 0) else { return nil }
        let refusing = factory.tool.rules.filter { $0.decision == .refuse }
        func breaks(_ targets: [JSONValue], _ fields: [String: JSONValue]) -> Bool {
            let args = factory.arguments(targets: targets, fields: fields, reason: .string(CallFactory.goodReason), key: "probe")
            let data = factory.conditionData(targets: targets, fields: fields, args: args)
            guard rule.when.isTruthy(data), factory.fieldsValid(fields) else { return false }
            return refusing.allSatisfy { $0.name == rule.name || !$0.when.isTruthy(data) }
        }
        let targets: [[JSONValue]] = factory.tool.operation == .create ? [[]] : factory.ownRows.prefix(12).map { [$0.key] }
        for target in targets {
            if breaks(target, base.fields) { return (target, base.fields) }
            for name in factory.bindableFields {
                guard let fieldRule = factory.model.field(name) else { continue }
                for value in CallFactory.interestingValidValues(fieldRule) {
                    var fields = base.fields
                    fields[name] = value
                    if breaks(target, fields) { return (target, fields) }
                }
            }
        }
        return nil
    }
}
