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
    /// say so with `references:` (and could: an integer or a string). A name that ends in an id word
    /// (`order_id`, `orderId`, `ORDER_ID2`, `order_ref`, `order_uuid`, `order_fk`, `order_number`,
    /// `orderIdentifier`) or starts with one (`fk_order`), or is one word ending in one (`orderid`), after a
    /// model's name or table (Order, orders) or a short form of it (`cust_id` → Customer), or the words
    /// before it together (`line_item_id` → LineItem). A model's own number or id (`order_number`,
    /// `order_ref` on Order) is its own; `references: none` says a field names no row of the policy.
    public static func unreferencedKey(_ name: String, of model: ModelPolicy, in policy: Policy) -> ModelPolicy? {
        let rule = model.field(name)
        guard rule?.references == nil, rule?.referencesNothing != true, name != model.key, name != model.tenantField else { return nil }
        if let type = rule?.type, type != .integer, type != .string { return nil }
        var words = Self.words(name)
        // A trailing number is a second of its kind (`order_id2`).
        if let last = words.last, case let trimmed = String(last.reversed().drop(while: \.isNumber).reversed()), !trimmed.isEmpty {
            words[words.count - 1] = trimmed
        }
        var stems: [String] = []
        var numbered = false
        if words.count >= 2, idWords.contains(words.last!) || numberWords.contains(words.last!) {
            stems = [words[words.count - 2], words.dropLast().joined()]
            numbered = numberWords.contains(words.last!)
        } else if words.count >= 2, ["fk", "pk", "id", "ref"].contains(words.first!) {
            // `fk_order`, and PrestaShop's `id_order`.
            stems = [words.dropFirst().joined(), words.last!]
        } else if words.count == 1, let suffix = idWords.first(where: { words[0].hasSuffix($0) && words[0].count - $0.count >= 3 }) {
            stems = [String(words[0].dropLast(suffix.count))]
        }
        guard !stems.isEmpty else { return nil }
        // A model's own number or id under its own name (`order_number`, `customer_ref` on Customer) is its own;
        // `parent_order_id` on Order names another row of it.
        let own = numbered || words.count <= 2
        let candidates = policy.models.filter { $0.tenantField != nil && !(own && $0.name == model.name) }
        func names(_ other: ModelPolicy) -> [String] {
            [other.name, other.table].map { $0.lowercased().filter { $0 != "_" && $0 != "-" } }
        }
        // Whole names first (Order before OrderLine for `order_id`), then short forms of four letters or more
        // of a one-word name (`cust` of Customer; `item` is not one of ItemCategory).
        return candidates.first { other in
            stems.contains { stem in names(other).contains { $0 == stem || $0 == stem + "s" || $0 == stem + "es" } }
        } ?? candidates.first { other in
            Self.words(other.name).count == 1 && stems.contains { stem in stem.count >= 4 && other.name.lowercased().hasPrefix(stem) }
        }
    }

    /// Words that end a name which names a row by its key; a longer one before any it ends with (a one-word
    /// name is cut at the first it ends with: `orderuuid` at `uuid`, not `id`).
    static let idWords = ["identifier", "uuid", "guid", "uid", "ref", "key", "id", "fk", "pk"]
    /// Words that end a name which names a row by its number (a model's own number is not a reference).
    static let numberWords: Set<String> = ["no", "num", "number", "nr"]

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
                                message: "\(name) names a row of \(named.name) (a model of tenants' rows) and nothing checks whose: a write can name another tenant's row or none; add references: \(named.name) to \(model.name).\(name) (or references: none, if it names no row of the policy's models)"))
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
