import RolloutCore

/// Boundaries, negatives, huge numbers, wrong types, unicode and NaN-like strings, field by field; and
/// each of the tool's own arguments (`args:`) outside its rule (`hard: true` where only false is allowed).
enum ValueAttacks {
    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        let tool = factory.tool
        var attacks: [Attack] = []
        var index = 0
        for rule in tool.arguments {
            for (variant, value) in values(for: rule) where rule.violation(value) != nil {
                index += 1
                guard let base = factory.baseline(index: index) else { return .skipped(AttackCatalogue.noRows) }
                var args = factory.arguments(targets: base.targets, fields: base.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
                args = JSONPointer(tokens: [rule.name]).setting(value, in: args)
                attacks.append(Attack(tool: tool.name, attackClass: .values, variant: "argument \(rule.name) = \(variant)",
                                      step: AttackStep(ToolCall(tool: tool.toolName, arguments: args)), expectation: .refused))
            }
        }
        for name in factory.bindableFields where tool.operation != .delete {
            guard let rule = factory.model.field(name) else { continue }
            let gap = gaps.first { $0.tool == tool.name && $0.area == .values && $0.field == name }?.message
            for (variant, value) in values(for: rule) {
                let forbidden = rule.violation(value) != nil
                guard forbidden || gap != nil else { continue }
                index += 1
                guard let base = factory.baseline(index: index) else { return .skipped(AttackCatalogue.noRows) }
                var fields = base.fields
                fields[name] = value
                let call = ToolCall(tool: tool.toolName, arguments: factory.arguments(targets: base.targets, fields: fields, reason: .string(CallFactory.goodReason), key: factory.nextKey()))
                attacks.append(Attack(tool: tool.name, attackClass: .values, variant: "\(name) = \(variant)", step: AttackStep(call),
                                      expectation: .refused, baselineGap: forbidden ? nil : gap))
            }
        }
        return attacks.isEmpty ? .skipped(tool.operation == .delete ? "a delete writes no values, and the tool states no argument rules" : "no writable field has a rule to break") : .attacks(attacks)
    }

    /// Values to try for a field, named for the report.
    static func values(for rule: FieldRule) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        switch rule.type {
        case .integer, .number:
            if let min = rule.min { out.append(("min - 1 (\(JSONValue.formatNumber(min - 1)))", .number(min - 1))) }
            if let max = rule.max { out.append(("max + 1 (\(JSONValue.formatNumber(max + 1)))", .number(max + 1))) }
            out.append(("negative (-1)", -1))
            out.append(("huge (1e15)", 1e15))
            out.append(("2^63", .number(9.223372036854775808e18)))
            out.append(("1e308", .number(1e308)))
            if rule.type == .integer { out.append(("fraction (1.5)", 1.5)) }
            out.append(("numeric string \"5\"", "5"))
            out.append(("NaN-like string \"NaN\"", "NaN"))
            out.append(("NaN-like string \"Infinity\"", "Infinity"))
            out.append(("string \"1e999\"", "1e999"))
            out.append(("boolean true", true))
        case .string:
            if let allowed = rule.allowed, case .string(let first)? = allowed.first {
                out.append(("not in the list", "definitely-not-allowed"))
                out.append(("upper case \"\(first.uppercased())\"", .string(first.uppercased())))
                out.append(("with a zero-width space", .string(first + "\u{200B}")))
                out.append(("with a look-alike letter", .string(lookAlike(first))))
                out.append(("with surrounding spaces", .string(" \(first) ")))
            } else if SafetyBaseline.enumLikeNames.contains(where: { rule.name.lowercased().contains($0) }) {
                out.append(("an arbitrary word", .string("definitely-not-a-\(rule.name)")))
            }
            if let maxLength = rule.maxLength {
                out.append(("\(maxLength + 1) characters", .string(String(repeating: "a", count: maxLength + 1))))
                out.append(("\(maxLength + 1) characters that read as one (a letter and combining accents)",
                            .string("a" + String(repeating: "\u{301}", count: maxLength))))
            }
            if let minLength = rule.minLength, minLength > 0 { out.append(("\(minLength - 1) characters", .string(String(repeating: "a", count: minLength - 1)))) }
            if rule.pattern != nil { out.append(("breaking the pattern", "@@ not valid @@")) }
            out.append(("number 42", 42))
            out.append(("boolean false", false))
            out.append(("object", ["nested": "value"]))
            out.append(("list", ["a", "b"]))
            out.append(("100 kB", .string(String(repeating: "x", count: 100_000))))
        case .boolean:
            for value in [true, false] where rule.allowed.map({ !$0.contains(.bool(value)) }) ?? false {
                out.append(("\(value), which the rule does not allow", .bool(value)))
            }
            out.append(("string \"true\"", "true"))
            out.append(("number 1", 1))
        case .list:
            let valid = ValueSynthesizer.value(for: rule, index: 1)?.arrayValue ?? []
            out.append(("not a list", "a"))
            if let min = rule.minItems, min > 0 { out.append(("\(min - 1) items", .array(Array(valid.prefix(min - 1))))) }
            if let max = rule.maxItems { out.append(("\(max + 1) items", .array(Array(repeating: valid.first ?? "x", count: max + 1)))) }
            if rule.unique, let first = valid.first { out.append(("a repeated item", .array(valid + [first]))) }
            if let items = rule.items {
                for (name, bad) in values(for: items).prefix(6) { out.append(("an item that is \(name)", .array([bad] + valid.dropFirst()))) }
            }
        case .object:
            let valid = ValueSynthesizer.value(for: rule, index: 1)?.objectValue ?? [:]
            out.append(("not an object", "a"))
            var extra = valid
            extra["zz_unknown_member"] = "surprise"
            out.append(("an undescribed member", .object(extra)))
            for member in rule.fields {
                for (name, bad) in values(for: member).prefix(3) {
                    var broken = valid
                    broken[member.name] = bad
                    out.append(("\(member.name) \(name)", .object(broken)))
                }
            }
        }
        if !rule.nullable { out.append(("null", .null)) }
        return out
    }

    /// The same word with its first Latin letter that has a Cyrillic twin swapped for it.
    static func lookAlike(_ word: String) -> String {
        let twins: [Character: Character] = ["a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"]
        var out = ""
        var swapped = false
        for c in word {
            if !swapped, let twin = twins[c] {
                out.append(twin)
                swapped = true
            } else {
                out.append(c)
            }
        }
        return swapped ? out : word + "\u{0301}"
    }
}
