/// The safety baseline every write policy is held to, beyond what it declares: the article's "rules
/// to tighten". A policy can be enforced perfectly and still allow what this forbids; the adversary
/// reports those as policy gaps, and lint shows them as warnings.
public enum SafetyBaseline {
    /// The attack class a gap belongs to, as the fuzz report names them.
    public enum Area: String, Sendable, CaseIterable {
        case reason, idempotency, caps, rows, values, approval
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
