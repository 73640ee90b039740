/// The safety baseline every write policy is held to, beyond what it declares: the article's "rules
/// to tighten". A policy can be enforced perfectly and still allow what this forbids; the adversary
/// reports those as policy gaps, and lint shows them as warnings.
public enum SafetyBaseline {
    /// The attack class a gap belongs to, as the fuzz report names them.
    public enum Area: String, Sendable, CaseIterable {
        case reason, idempotency, caps, rows, values, approval, tenant
    }

    public struct Gap: Sendable, Hashable, CustomStringConvertible {
        public var tool: String
        public var area: Area
        /// The field concerned, for value and approval gaps.
        public var field: String?
        public var message: String

        public var description: String { "\(tool): \(area.rawValue): \(message)" }
    }

    /// Names of string fields that hold a closed set of values and so need an `in` list or a pattern.
    public static let enumLikeNames = ["status", "state", "role", "type", "kind", "level", "tier", "currency", "country", "stage", "category"]

    /// The model of tenants' rows that field `name` of `model` names by its name, when the field does not
    /// say so with `references:`: a name that ends in an id word (`order_id`, `orderId`, `orderID`,
    /// `source_order_id`, `order_ref`, `order_key`) after a model's name or table (Order, orders), or the
    /// words before it together (`line_item_id` → LineItem).
    public static func unreferencedKey(_ name: String, of model: ModelPolicy, in policy: Policy) -> ModelPolicy? {
        guard model.field(name)?.references == nil, name != model.key, name != model.tenantField else { return nil }
        let words = Self.words(name)
        guard words.count >= 2, ["id", "ref", "key", "uuid"].contains(words.last!) else { return nil }
        let stems = [words[words.count - 2], words.dropLast().joined()]
        return policy.models.first { other in
            other.tenantField != nil && stems.contains { stem in
                [other.name.lowercased(), other.table.lowercased()].contains { $0 == stem || $0 == stem + "s" || $0 == stem + "es" }
            }
        }
    }

    /// The words of a name, lowercased: split at `_`, `-` and where a lowercase letter or digit meets a
    /// capital (`sourceOrderID` → source, order, id).
    static func words(_ name: String) -> [String] {
        var words: [String] = [], current = ""
        var previousLower = false
        for c in name {
            if c == "_" || c == "-" || c == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if c.isUppercase, previousLower, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current += c.lowercased()
            previousLower = c.isLowercase || c.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Every gap of `policy`, tool by tool in file order.
    public static func gaps(_ policy: Policy) -> [Gap] {
        var gaps: [Gap] = []
        for tool in policy.tools {
            let model = policy.model(named: tool.model)
            if !tool.reason.required || tool.binding.reason == nil {
                gaps.append(Gap(tool: tool.name, area: .reason, message: "writes are accepted without a reason; require one"))
            }
            if !tool.idempotencyRequired || tool.binding.idempotencyKey == nil {
                gaps.append(Gap(tool: tool.name, area: .idempotency, message: "writes are accepted without an idempotency key; require one"))
            }
            if tool.cap == nil {
                gaps.append(Gap(tool: tool.name, area: .caps, message: "no per-window cap: an agent in a loop can write without limit; add cap: {max, per}"))
            }
            if tool.operation.isMultiRow && tool.dryRunAboveRows == nil {
                gaps.append(Gap(tool: tool.name, area: .rows, message: "a multi-row write runs without a dry run first; add dry_run: {required_above_rows: N}"))
            }
            guard let model else { continue }
            for name in tool.writable {
                guard let rule = model.field(name) else { continue }
                let numeric = rule.type == .integer || rule.type == .number
                let enumLike = rule.type == .string && enumLikeNames.contains { name.lowercased().contains($0) }
                if (numeric || enumLike) && !rule.isConstrained {
                    gaps.append(Gap(tool: tool.name, area: .values, field: name,
                                    message: "\(name) is writable with no rule: any \(numeric ? "number" : "string") is accepted; add min/max or in"))
                }
            }
            for name in tool.writable {
                guard let named = unreferencedKey(name, of: model, in: policy) else { continue }
                gaps.append(Gap(tool: tool.name, area: .tenant, field: name,
                                message: "\(name) names a row of \(named.name) (a model of tenants' rows) and nothing checks whose: a write can name another tenant's row or none; add references: \(named.name) to \(model.name).\(name)"))
            }
            let sensitive = tool.writable.filter { name in
                let sensitivity = model.field(name)?.sensitivity ?? FieldRule.inferSensitivity(name)
                return sensitivity == .money || sensitivity == .role
            }
            if !sensitive.isEmpty && tool.approval == nil {
                gaps.append(Gap(tool: tool.name, area: .approval, field: sensitive.first,
                                message: "writes \(sensitive.joined(separator: ", ")) (money or privilege) with no approval condition; add approval: {when: ...}"))
            }
        }
        return gaps
    }
}
