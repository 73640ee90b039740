/// Makes values that satisfy a field rule: the demo domain's seed rows and the adversary's valid
/// baseline calls start from them. Deterministic: the same rule and index give the same value.
public enum ValueSynthesizer {
    /// A valid value for `rule`, varied by `index`; nil only when no value can be made (a pattern
    /// no heuristic satisfies on a non-nullable field).
    public static func value(for rule: FieldRule, index: Int, tenant: String = "t") -> JSONValue? {
        let candidate = candidate(for: rule, index: index, tenant: tenant)
        if rule.violation(candidate) == nil { return candidate }
        if rule.nullable { return .null }
        return nil
    }

    /// A valid value different from `current`, for a write that really changes something.
    public static func different(from current: JSONValue?, rule: FieldRule, index: Int, tenant: String = "t") -> JSONValue? {
        for offset in 0..<16 {
            if let v = value(for: rule, index: index + offset, tenant: tenant), v != current { return v }
        }
        return value(for: rule, index: index, tenant: tenant)
    }

    /// A value for a secret field: `marker` (a text nobody would log by chance, so a log that holds it is
    /// found) where the rule takes it, else a valid value of the rule (a PIN between 1000 and 9999, a card
    /// number's pattern). A marker the rule refuses made every call of the tool invalid.
    public static func secret(_ marker: String, rule: FieldRule, index: Int, tenant: String = "t") -> JSONValue? {
        rule.violation(.string(marker)) == nil ? .string(marker) : value(for: rule, index: index, tenant: tenant)
    }

    static func candidate(for rule: FieldRule, index: Int, tenant: String) -> JSONValue {
        if let allowed = rule.allowed, !allowed.isEmpty { return allowed[abs(index) % allowed.count] }
        switch rule.type {
        case .boolean:
            return .bool(index % 2 == 0)
        case .integer, .number:
            let low = rule.min ?? 0
            let high = rule.max ?? max(low + 100_000, 100_000)
            let span = max(high - low, 0)
            // Spread values over the lower part of the range, away from the boundaries the fuzzer probes.
            let step = max((span / 100).rounded(.down), 1)
            var v = low + min(step * Double(abs(index) % 50 + 1), span)
            if rule.type == .integer { v = v.rounded(.down) }
            return .number(min(max(v, low), high))
        case .list:
            let count = max(rule.minItems ?? 1, 1)
            var elements: [JSONValue] = []
            guard let items = rule.items else { return .array([]) }
            var i = index
            while elements.count < min(count, rule.maxItems ?? count) && i < index + 64 {
                if let v = value(for: items, index: i, tenant: tenant), !(rule.unique && elements.contains(v)) { elements.append(v) }
                i += 1
            }
            return .array(elements)
        case .object:
            var members: [String: JSONValue] = [:]
            for field in rule.fields {
                if let v = value(for: field, index: index, tenant: tenant), !(v.isNull && field.nullable) { members[field.name] = v }
            }
            return .object(members)
        case .string:
            if let pattern = rule.pattern, let made = PatternSynthesizer.string(matching: pattern, index: index),
                rule.violation(.string(made)) == nil {
                return .string(made)
            }
            let name = rule.name.lowercased()
            var s: String
            if name.contains("email") {
                s = "user\(index)@\(tenant).example"
            } else if name.contains("phone") {
                s = "+1 555 01\(String(format: "%02d", abs(index) % 100))"
            } else if name.contains("url") {
                s = "https://\(tenant).example/\(index)"
            } else {
                s = "\(rule.name.replacingOccurrences(of: "_", with: " ")) \(index)"
            }
            if let maxLength = rule.maxLength, s.count > maxLength { s = String(s.prefix(maxLength)) }
            if let minLength = rule.minLength, s.count < minLength { s += String(repeating: "x", count: minLength - s.count) }
            return .string(s)
        }
    }
}

import Foundation
