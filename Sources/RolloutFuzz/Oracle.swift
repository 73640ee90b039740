import RolloutCore

/// Judges an attack's outcome by its answer and, where the target lets it read state, by the rows:
/// an answer that says "refused" while a row changed is still a gap.
public enum Oracle {
    /// Every readable row of every model, by model name and key.
    public typealias Snapshot = [String: [JSONValue: [String: JSONValue]]]

    public static func snapshot(_ target: FuzzTarget, policy: Policy) async throws -> Snapshot? {
        var out: Snapshot = [:]
        for model in policy.models {
            guard let rows = try await target.rows(model) else { return nil }
            out[model.name] = rows
        }
        return out
    }

    /// What changed between two snapshots, as short lines ("Order 3: status pending → shipped").
    public static func changes(_ before: Snapshot?, _ after: Snapshot?, policy: Policy) -> [String] {
        guard let before, let after else { return [] }
        var lines: [String] = []
        for model in policy.models {
            let old = before[model.name] ?? [:], new = after[model.name] ?? [:]
            // A table the call left alone is the same storage: equal at once, no row looked up.
            if old == new { continue }
            // Find the keys that differ first; sort only those (most snapshots differ in a row or two).
            var differing: [JSONValue] = []
            for (key, row) in new where old[key] != row { differing.append(key) }
            for key in old.keys where new[key] == nil { differing.append(key) }
            for key in differing.sorted(by: { $0.canonicalText < $1.canonicalText }) {
                switch (old[key], new[key]) {
                case (nil, let row?): lines.append("\(model.name) \(key.canonicalText) created in tenant \(model.tenantField.flatMap { row[$0] }?.canonicalText ?? "?")")
                case (let row?, nil): lines.append("\(model.name) \(key.canonicalText) of tenant \(model.tenantField.flatMap { row[$0] }?.canonicalText ?? "?") deleted")
                case (let a?, let b?) where a != b:
                    let fields = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
                    let text = fields.prefix(3).map { "\($0) \(a[$0]?.canonicalText ?? "null") → \(b[$0]?.canonicalText ?? "null")" }.joined(separator: ", ")
                    lines.append("\(model.name) \(key.canonicalText) (tenant \(model.tenantField.flatMap { b[$0] }?.canonicalText ?? "?")): \(text)")
                default: break
                }
            }
        }
        return lines
    }

    /// Rows of `tenant` that changed, appeared or disappeared.
    static func touched(_ before: Snapshot?, _ after: Snapshot?, tenant: String, policy: Policy) -> [String] {
        guard let before, let after else { return [] }
        var lines: [String] = []
        for model in policy.models {
            guard let field = model.tenantField else { continue }
            let old = before[model.name] ?? [:], new = after[model.name] ?? [:]
            if old == new { continue }
            for (key, row) in new where row[field] == .string(tenant) && old[key] != row {
                lines.append("\(model.name) \(key.canonicalText) of tenant \(tenant) \(old[key] == nil ? "created" : "changed")")
            }
            for (key, row) in old where row[field] == .string(tenant) && new[key] == nil {
                lines.append("\(model.name) \(key.canonicalText) of tenant \(tenant) deleted")
            }
        }
        return lines.sorted()
    }

    /// Why the outcome violates the expectation, or nil when it is safe.
    public static func violation(
        _ expectation: SafeBehaviour, outcome: CallOutcome, before: Snapshot?, after: Snapshot?, tenants: FuzzTenants,
        policy: Policy
    ) -> String? {
        let changed = changes(before, after, policy: policy)
        switch expectation {
        case .refused:
            if outcome.verdict == .accepted || outcome.verdict == .pending {
                return outcome.summary + (changed.isEmpty ? "" : "; changed: \(changed.prefix(3).joined(separator: "; "))")
            }
            if !changed.isEmpty { return "answered \(outcome.summary), but changed: \(changed.prefix(3).joined(separator: "; "))" }
        case .notExecuted:
            if outcome.verdict == .accepted { return outcome.summary + (changed.isEmpty ? "" : "; changed: \(changed.prefix(3).joined(separator: "; "))") }
            if !changed.isEmpty { return "answered \(outcome.summary), but changed: \(changed.prefix(3).joined(separator: "; "))" }
        case .noReexecution:
            if outcome.verdict == .accepted, outcome.code != nil { return "ran the write again: \(outcome.summary)" }
            if !changed.isEmpty { return "the retry changed state again: \(changed.prefix(3).joined(separator: "; "))" }
        case .untouched(let role):
            guard let tenant = tenants.name(role) else { return nil }
            let lines = touched(before, after, tenant: tenant, policy: policy)
            if !lines.isEmpty { return "\(outcome.summary); touched: \(lines.prefix(3).joined(separator: "; "))" }
        case .restored:
            if !changed.isEmpty { return "not restored: \(changed.prefix(3).joined(separator: "; "))" }
        case .hides(let keys, let values):
            guard outcome.verdict == .accepted else { return nil }
            let answer = outcome.raw["structuredContent"] ?? outcome.raw["text"]?.stringValue.flatMap { try? JSONValue.parse($0) } ?? outcome.raw
            if let shown = Self.record(in: answer, keys: Set(keys), values: Set(values)) {
                return "answered with \(shown)"
            }
        }
        return nil
    }

    /// The first record of `value` whose member named in `keys` holds one of `values`, in words.
    static func record(in value: JSONValue, keys: Set<String>, values: Set<JSONValue>) -> String? {
        switch value {
        case .object(let members):
            for key in keys.sorted() {
                if let member = members[key], values.contains(member) || values.contains(RequestKey.normalize(member)) {
                    return "a record with \(key) = \(member.canonicalText)"
                }
            }
            for key in members.keys.sorted() { if let found = record(in: members[key]!, keys: keys, values: values) { return found } }
        case .array(let items):
            for item in items { if let found = record(in: item, keys: keys, values: values) { return found } }
        case .string(let text):
            // Some servers put their JSON in a string (a wrapper's content field).
            if text.hasPrefix("{") || text.hasPrefix("["), let parsed = try? JSONValue.parse(text) { return record(in: parsed, keys: keys, values: values) }
        default:
            break
        }
        return nil
    }
}
