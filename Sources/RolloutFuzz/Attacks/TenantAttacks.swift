import RolloutCore

/// Another tenant's row; a tenant named in the arguments; another user in the tool's principal field;
/// a field that names another model's row (`order_id`) naming another tenant's.
enum TenantAttacks {
    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap] = []) -> AttackPlan {
        let tool = factory.tool
        var attacks: [Attack] = []
        // A reference to another tenant's row: refused where the policy says `references:`; where it does
        // not, a write that names one is the safety baseline's gap.
        for name in factory.referencedRows.keys.sorted() where tool.operation != .delete {
            guard let key = factory.referencedKeys(name, tenant: factory.tenants.other).first, let base = factory.baseline(index: 6) else { continue }
            var fields = base.fields
            fields[name] = key
            let gap = factory.model.field(name)?.references == nil ? gaps.first { $0.tool == tool.name && $0.area == .tenant && $0.field == name }?.message : nil
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            attacks.append(Attack(tool: tool.name, attackClass: .tenant, variant: "\(name) naming another tenant's row (\(key.canonicalText))",
                                  step: AttackStep(call), expectation: .refused, baselineGap: gap))
        }
        // The user id the tool carries names another user: a guard holds it to the subject the host gave.
        if let field = tool.principalField, let other = factory.knowledge?.otherSubject, let base = factory.probed.first ?? factory.baseline(index: 0) {
            var args = factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
            args = field.setting(.string(other), in: args)
            attacks.append(Attack(tool: tool.name, attackClass: .tenant, variant: "another user in the principal field \(field.description)",
                                  step: AttackStep(ToolCall(tool: tool.toolName, arguments: args)), expectation: .refused))
        }
        if factory.model.tenantField == nil { return attacks.isEmpty ? .skipped("the model has no tenant field and the tool no principal field") : .attacks(attacks) }
        if tool.operation != .create {
            guard !factory.otherRows.isEmpty else {
                return attacks.isEmpty ? .skipped("the target has no rows of another tenant for this model") : .attacks(attacks)
            }
            let count = factory.baselineRowCount
            for (i, variant) in ["another tenant's row", "own rows mixed with another tenant's"].enumerated() where i == 0 || tool.operation == .bulkUpdate {
                guard let base = factory.baseline(index: i) else { return .skipped(AttackCatalogue.noRows) }
                var targets = Array(factory.otherRows.prefix(count).map(\.key))
                if i == 1 { targets = Array(base.targets.prefix(max(1, count - 1))) + [factory.otherRows[0].key] }
                let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
                // A bulk write over mixed rows may skip the other tenant's (what OrmAI does): judged by its effect.
                attacks.append(Attack(tool: tool.name, attackClass: .tenant, variant: variant, step: AttackStep(call), expectation: i == 0 ? .refused : .untouched(.other)))
            }
        }
        // A tenant in the arguments must be ignored: whatever happens, the other tenant is untouched.
        guard let base = factory.baseline(index: 4) else { return .skipped(AttackCatalogue.noRows) }
        var args = factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
        for name in Set(["tenant", "tenant_id", "org", "account"] + (factory.model.tenantField.map { [$0] } ?? [])).sorted() {
            args = JSONPointer(tokens: [name]).setting(.string(factory.tenants.other), in: args)
        }
        attacks.append(Attack(tool: tool.name, attackClass: .tenant, variant: "tenant named in the arguments",
                              step: AttackStep(ToolCall(tool: tool.toolName, arguments: args)), expectation: .untouched(.other)))
        return .attacks(attacks)
    }
}
