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

    /// The model of tenants' rows that field `name` of `model` names by its name (`order_id`, `orderId` →
    /// the model Order or the table orders), when the field does not say so with `references:`.
    public static func unreferencedKey(_ name: String, of model: ModelPolicy, in policy: Policy) -> ModelPolicy? {
        guard model.field(name)?.references == nil, name != model.key else { return nil }
        let lower = name.lowercased()
        let stem: String
        if lower.hasSuffix("_id") { stem = String(lower.dropLast(3)) } else if name.hasSuffix("Id") { stem = String(lower.dropLast(2)) } else { return nil }
        let word = stem.replacingOccurrences(of: "_", with: "")
        guard !word.isEmpty else { return nil }
        return policy.models.first { other in
            other.tenantField != nil && [other.name.lowercased(), other.table.lowercased()].contains { $0 == word || $0 == word + "s" || $0 == word + "es" }
        }
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
                                message: "\(name) names a \(named.name) (rows of tenants) and nothing checks whose: a write can name another tenant's \(named.name) or none; add references: \(named.name) to \(model.name).\(name)"))
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
