import RolloutCore

/// What the person who approves a queued write was shown: its chained pending event's changes, each
/// row's values before and after. An approved write runs only while it would make those changes: a row
/// changed between the asking and the approving (by the very agent that asked, say) would otherwise be
/// written on a decision its approver made about other values ("shipped" → "refunded" approved, "pending"
/// → "refunded" run).
struct ApprovedView {
    var changes: [RowChange]
    /// Whether the pending event showed the rows' values before the write (false: the upstream's rows were
    /// not observable then, and only what the write sets was shown).
    var beforeShown: Bool

    init(pending: AuditEvent) {
        changes = pending.changes
        beforeShown = pending.details["before"] == nil
    }

    /// Where `now` (the changes the write would make now, redacted as an event holds them) differs from
    /// what was shown, in words; nil when it does not.
    func difference(_ now: [RowChange], model: String) -> String? {
        func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
            switch (a, b) {
            case (nil, nil): true
            case (let a?, let b?): a.isIdentical(to: b)
            default: false
            }
        }
        func shown(_ value: JSONValue?) -> String { value?.canonicalText ?? "unknown" }
        guard now.count == changes.count, zip(now, changes).allSatisfy({ $0.key.isIdentical(to: $1.key) }) else {
            let keys = { (changes: [RowChange]) in changes.map(\.key.canonicalText).joined(separator: ", ") }
            return "it would change \(model) \(keys(now)), and the approver was shown \(keys(changes))"
        }
        for (row, then) in zip(now, changes) {
            let what = row.key.isNull ? "the new \(model)" : "\(model) \(row.key.canonicalText)"
            for name in Set(row.fields.keys).union(then.fields.keys).sorted() {
                let a = row.fields[name], b = then.fields[name]
                if a == nil || b == nil || !same(a?.after, b?.after) {
                    return "\(what)'s \(name) would become \(shown(a?.after)), and the approver was shown \(shown(b?.after))"
                }
                if beforeShown, !same(a?.before, b?.before) {
                    return "\(what)'s \(name) is \(shown(a?.before)) now, and the approver was shown \(shown(b?.before))"
                }
            }
        }
        return nil
    }
}
