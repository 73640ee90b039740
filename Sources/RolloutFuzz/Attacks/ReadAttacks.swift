import RolloutCore

/// Reads fuzzed for scope: another user's id in a read scoped to the subject, a row whose answer a read
/// rule withholds (another user's order), another tenant's row, and a row the server marks deleted. A
/// safe system refuses, or answers without that record.
enum ReadAttacks {
    /// The suite the class reports under.
    static let suite = "reads"

    static func plan(
        policy: Policy, listed: Set<String>, schemas: [String: JSONValue], knowledge: Knowledge?,
        rows: [String: [JSONValue: [String: JSONValue]]?], tenants: FuzzTenants, subjects: (own: String?, other: String?)
    ) -> [Attack] {
        var attacks: [Attack] = []
        func add(_ tool: String, _ variant: String, _ arguments: JSONValue, _ expectation: SafeBehaviour, setup: [AttackStep] = []) {
            attacks.append(Attack(tool: suite, attackClass: .readScope, variant: "\(tool): \(variant)", setup: setup,
                                  step: AttackStep(ToolCall(tool: tool, arguments: arguments)), expectation: expectation))
        }
        for read in policy.reads where !read.isGlob && listed.contains(read.pattern) {
            let tool = read.pattern
            // A read scoped to the subject, asked about another user.
            if let field = read.principalField, let other = subjects.other, let name = field.tokens.last {
                add(tool, "another user's \(name)", field.setting(.string(other), in: .object([:])), .hides(keys: [name], values: [.string(other)]))
            }
            // A read whose rules withhold some answers: an answer the adversary learned that a rule withholds.
            if !read.rules.isEmpty, let knowledge {
                for learned in knowledge.reads where learned.tool == tool && learned.accepted {
                    let data: JSONValue = [
                        "tool": .string(tool), "tenant": .string(tenants.own), "actor": "fuzz-agent",
                        "subject": subjects.own.map(JSONValue.string) ?? .null, "args": learned.arguments, "before": .null,
                        "after": learned.answer, "rows": 0, "lookup": [:], "now": 0,
                    ]
                    guard let rule = read.rules.first(where: { $0.when.isTruthy(data) }) else { continue }
                    let values = (learned.arguments.objectValue ?? [:]).values.map { $0 }
                    add(tool, "an answer rule \(rule.name) withholds (\(learned.arguments.canonicalText))", learned.arguments,
                        .hides(keys: Array((learned.arguments.objectValue ?? [:]).keys), values: values))
                    break
                }
            }
        }
        // Rows of another tenant, and rows the server marks deleted, through reads that take a model's key.
        for model in policy.models {
            guard let table = rows[model.name] ?? nil else { continue }
            let readsByKey = policy.reads.filter { !$0.isGlob && listed.contains($0.pattern) }.compactMap { read -> (String, JSONValue)? in
                let properties = schemas[read.pattern]?["properties"]?.objectValue ?? [:]
                guard properties[model.key] != nil else { return nil }
                var args: JSONValue = .object([:])
                if properties["model"] != nil { args = JSONPointer(tokens: ["model"]).setting(.string(model.name), in: args) }
                return (read.pattern, args)
            }
            let sorted = table.sorted { $0.key.canonicalText < $1.key.canonicalText }
            if let field = model.tenantField, let other = sorted.first(where: { $0.value[field] == .string(tenants.other) }) {
                for (tool, base) in readsByKey {
                    add(tool, "\(model.name) \(other.key.canonicalText) of tenant \(tenants.other)", JSONPointer(tokens: [model.key]).setting(other.key, in: base),
                        .hides(keys: [model.key], values: [other.key]))
                }
            }
            // A deleted row: delete one of the tenant's own (a policy delete tool, with a real reason), then read it.
            if model.softDelete != nil, let delete = policy.tools.first(where: { $0.model == model.name && $0.operation == .delete }),
               let own = sorted.first(where: { model.tenantField == nil || $0.value[model.tenantField!] == .string(tenants.own) })
            {
                var factory = CallFactory(policy: policy, tool: delete, rows: table, tenants: tenants, keyPrefix: "fuzz-reads")
                let deleteArgs = factory.arguments(targets: [own.key], fields: [:], reason: .string(CallFactory.goodReason), key: factory.nextKey())
                let setup = [AttackStep(ToolCall(tool: delete.toolName, arguments: deleteArgs))]
                for (tool, base) in readsByKey {
                    add(tool, "\(model.name) \(own.key.canonicalText) after it was deleted", JSONPointer(tokens: [model.key]).setting(own.key, in: base),
                        .hides(keys: [model.key], values: [own.key]), setup: setup)
                }
            }
        }
        return attacks
    }
}
