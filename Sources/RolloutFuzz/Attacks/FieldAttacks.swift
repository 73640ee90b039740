import RolloutCore

/// Every field the tool may not write: the others of the model, the key, the tenant field, an unknown one.
/// The tenant field is judged by its effect: a server that forces it back to the caller's tenant did the
/// right thing; one that moves or creates a row in the other tenant did not.
enum FieldAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        let model = factory.model
        guard case .object = tool.binding.fields else {
            return .skipped("the tool's arguments name each field it writes, so no other field can be sent")
        }
        guard tool.operation != .delete else { return .skipped("a delete writes no fields") }
        var forbidden: [(String, JSONValue)] = []
        for field in model.fields where !tool.writable.contains(field.name) && field.name != model.key && field.name != model.tenantField {
            let value = (field.secret ? ValueSynthesizer.secret("fuzz-secret", rule: field, index: 3, tenant: factory.tenants.own)
                : ValueSynthesizer.value(for: field, index: 3, tenant: factory.tenants.own)) ?? .string("x")
            forbidden.append((field.name, value))
        }
        forbidden.append((model.key, 999_999))
        if let tenantField = model.tenantField { forbidden.append((tenantField, .string(factory.tenants.other))) }
        forbidden.append(("zz_unknown_field", "surprise"))
        var attacks: [Attack] = []
        for (i, (name, value)) in forbidden.enumerated() {
            guard let base = factory.baseline(index: i) else { return .skipped(AttackCatalogue.noRows) }
            var fields = base.fields
            fields[name] = value
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            let expectation: SafeBehaviour = name == model.tenantField && factory.observesRows ? .untouched(.other) : .refused
            attacks.append(Attack(tool: tool.name, attackClass: .fields, variant: "writes \(name)", step: AttackStep(call), expectation: expectation))
        }
        return .attacks(attacks)
    }
}
