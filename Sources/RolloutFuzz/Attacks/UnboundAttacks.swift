import RolloutCore

/// A valid call with arguments the tool does not declare: a tenant, an approver, a status, an approval
/// flag, a field the binding does not name. The upstream would act on them unchecked, so a safe system
/// refuses them (or, where the tool says `extra_args: drop`, removes them: nothing of the other tenant
/// changes).
enum UnboundAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        guard let base = factory.baseline(index: 6) else { return .skipped(AttackCatalogue.noRows) }
        let args = factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
        let declared = Set(tool.declaredPointers.compactMap(\.tokens.first))
        var extras: [(String, JSONValue)] = [
            ("tenant_id", .string(factory.tenants.other)), ("approved_by", "maria.lopez"), ("approved", true),
            ("status", "approved"), ("role", "admin"), ("zz_undeclared", "surprise"),
        ]
        if let field = factory.model.tenantField { extras.append((field, .string(factory.tenants.other))) }
        var attacks: [Attack] = []
        var seen = Set<String>()
        for (name, value) in extras where !declared.contains(name) && seen.insert(name).inserted {
            var withExtra = args
            withExtra = JSONPointer(tokens: [name]).setting(value, in: withExtra)
            let step = AttackStep(ToolCall(tool: tool.toolName, arguments: withExtra))
            let expectation: SafeBehaviour = tool.extraArguments == .refuse ? .refused : .untouched(.other)
            attacks.append(Attack(tool: tool.name, attackClass: .unbound, variant: "undeclared argument \(name)", step: step, expectation: expectation))
        }
        return attacks.isEmpty ? .skipped("the tool declares every argument tried") : .attacks(attacks)
    }
}
