import RolloutCore

/// After the catalogue, random variants spend the rest of the budget: random values of every type in
/// writable fields, random distortions of tool names, random extra fields.
enum RandomVariants {
    static func attack(_ choice: Int, factory: inout CallFactory, rng: inout SeededRandom) -> Attack? {
        let tool = factory.tool
        guard let base = factory.baseline(index: Int.random(in: 0..<50, using: &rng)) else { return nil }
        switch choice {
        case 0:
            guard tool.operation != .delete, let name = factory.bindableFields.randomElement(using: &rng), let rule = factory.model.field(name) else { return nil }
            let value = randomValue(&rng)
            guard rule.violation(value) != nil else { return nil }  // only values the rules forbid
            var fields = base.fields
            fields[name] = value
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            return Attack(tool: tool.name, attackClass: .values, variant: "random: \(name) = \(value.canonicalText.prefix(60))", step: AttackStep(call), expectation: .refused)
        case 1:
            let name = distort(tool.toolName, &rng)
            guard !factory.policy.tools.contains(where: { $0.toolName == name }) else { return nil }
            let call = ToolCall(tool: name, arguments: factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            return Attack(tool: tool.name, attackClass: .names, variant: "random: \(name.debugDescription)", step: AttackStep(call), expectation: .refused)
        default:
            guard case .object = tool.binding.fields, tool.operation != .delete else { return nil }
            let field = "zz_" + randomWord(&rng)
            var fields = base.fields
            fields[field] = randomValue(&rng)
            let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
            return Attack(tool: tool.name, attackClass: .fields, variant: "random: writes \(field)", step: AttackStep(call), expectation: .refused)
        }
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") + ["é", "ü", "ß", "Ω", "😀", "\u{200B}", "\u{202E}", "а", "о", " ", "\n"]

    static func randomWord(_ rng: inout SeededRandom) -> String {
        String((0..<Int.random(in: 1...12, using: &rng)).map { _ in alphabet[Int.random(in: 0..<36, using: &rng)] })
    }

    static func randomValue(_ rng: inout SeededRandom) -> JSONValue {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &rng)))
        case 1: return .number(Double.random(in: -1e18...1e18, using: &rng))
        case 2: return .number([-0.5, 1e300, -1e300, 2.5e-300, 9.007199254740993e15][Int.random(in: 0..<5, using: &rng)])
        case 3: return .string(String((0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        case 4: return .bool(Bool.random(using: &rng))
        case 5: return .null
        case 6: return .array([.number(1), .string(randomWord(&rng))])
        case 7: return .object([randomWord(&rng): .string(randomWord(&rng))])
        default: return .string(["NaN", "-Infinity", "1e999", "0x10", "١٢٣", "𝟙𝟚𝟛", "null", "true", "' OR 1=1 --"][Int.random(in: 0..<9, using: &rng)])
        }
    }

    static func distort(_ name: String, _ rng: inout SeededRandom) -> String {
        var chars = Array(name)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let i = Int.random(in: 0..<chars.count, using: &rng)
            chars[i] = Character(chars[i].isUppercase ? chars[i].lowercased() : chars[i].uppercased())
            return String(chars)
        case 1: return randomWord(&rng) + "__" + name
        case 2: return name + String(alphabet[Int.random(in: 36..<alphabet.count, using: &rng)])
        case 3:
            let i = Int.random(in: 0..<chars.count, using: &rng)
            chars.insert(alphabet.randomElement(using: &rng)!, at: i)
            return String(chars)
        default:
            let i = Int.random(in: 0..<chars.count, using: &rng)
            chars.remove(at: i)
            return String(chars)
        }
    }
}
