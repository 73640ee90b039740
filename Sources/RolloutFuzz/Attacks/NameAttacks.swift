import RolloutCore

/// The tool's name in another case, with spaces, with a prefix, nested as `server__tool`, with a
/// look-alike letter: only names the policy spells exactly may write.
enum NameAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        guard let step = AttackCatalogue.baselineStep(&factory, index: 0) else { return .skipped(AttackCatalogue.noRows) }
        let name = tool.toolName
        var variants: [(String, String)] = [
            ("upper case", name.uppercased()), ("leading space", " " + name), ("trailing space", name + " "),
            ("prefixed", "admin." + name), ("nested server__tool", "shop__" + name), ("look-alike letter", ValueAttacks.lookAlike(name)),
            ("trailing newline", name + "\n"), ("zero-width space", name + "\u{200B}"),
        ]
        if name.contains(".") { variants.append(("dots as underscores", name.replacingOccurrences(of: ".", with: "_"))) }
        let known = Set(factory.policy.tools.map(\.toolName))
        var attacks: [Attack] = []
        for (variant, alias) in variants where alias != name && !known.contains(alias) {
            attacks.append(Attack(tool: tool.name, attackClass: .names, variant: "\(variant): \(alias.debugDescription)",
                                  step: AttackStep(ToolCall(tool: alias, arguments: step.call.arguments)), expectation: .refused))
        }
        // A write through a generic tool on a model the policy does not name.
        if let pointer = tool.binding.model {
            let known = Set(factory.policy.models.map(\.name))
            for model in ["Product", "User", "Account", "Invoice", "AuditLog"] where !known.contains(model) {
                let args = pointer.setting(.string(model), in: step.call.arguments)
                attacks.append(Attack(tool: tool.name, attackClass: .names, variant: "\(name) on model \(model), which the policy does not name",
                                      step: AttackStep(ToolCall(tool: name, arguments: args)), expectation: .refused))
            }
        }
        return .attacks(attacks)
    }
}

import Foundation
