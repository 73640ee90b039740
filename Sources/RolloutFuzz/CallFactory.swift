import Foundation
import RolloutCore

/// Builds calls for one tool from its binding, its model's rules and rows the target really has: a
/// valid baseline that a correct target executes, and the material attacks mutate. Values are learned
/// from the target's rows and the rules, never schema placeholders.
struct CallFactory {
    let policy: Policy
    let tool: ToolPolicy
    let model: ModelPolicy
    /// Rows of the caller's tenant and of another tenant, sorted by key.
    let ownRows: [(key: JSONValue, row: [String: JSONValue])]
    let otherRows: [(key: JSONValue, row: [String: JSONValue])]
    let tenants: FuzzTenants
    /// Distinguishes idempotency keys between attack classes and runs.
    let keyPrefix: String
    private var counter = 0
    /// What the adversary learned through the target's reads, when its rows cannot be read directly.
    var knowledge: Knowledge?
    /// Whether the target takes the tool's guard arguments (a guard lists them; the bare server does not).
    var sendGuardArguments = true
    /// Baselines the target took when they were probed (knowledge mode): what attacks start from.
    var probed: [(targets: [JSONValue], fields: [String: JSONValue])] = []
    /// For each field that names another model's row (`references:`, or a name like `order_id` that the
    /// safety baseline reads as one): that model and the target's live rows of it, in key order. A valid
    /// call names a row of the tenant it acts for (a synthesised number names none, and a guard that checks
    /// the reference refuses it); an attack names another tenant's.
    var referencedRows: [String: (model: ModelPolicy, rows: [(key: JSONValue, row: [String: JSONValue])])] = [:]
    /// Baselines made so far (outside knowledge mode), shared by the factories of one tool over one run's
    /// rows (the adversary hands each the same): the random phase makes a factory for every call and asks
    /// it for one of 50 baselines, and making one synthesises a value for every field. Nil: none kept.
    var made: BaselineMemo?

    static let goodReason = "customer ticket 4821 asks for this change; checked the order history"

    /// A table's rows sorted by key (numbers by value, others by their JSON text): the order attacks
    /// pick rows in. The adversary sorts each pristine table once and hands it to every factory.
    static func sortedRows(_ rows: [JSONValue: [String: JSONValue]]) -> [(key: JSONValue, row: [String: JSONValue])] {
        // The sort keys are computed once per row, not once per comparison.
        let keyed = rows.map { (int: $0.key.intValue, text: $0.key.canonicalText, key: $0.key, row: $0.value) }
        let order = keyed.indices.sorted { i, j in
            if let x = keyed[i].int, let y = keyed[j].int { return x < y }
            return keyed[i].text < keyed[j].text
        }
        return order.map { (key: keyed[$0].key, row: keyed[$0].row) }
    }

    /// A table's live rows of the caller's tenant and of another, in key order: what a factory draws
    /// from. The adversary makes it once per pristine table and hands it to every factory of its model.
    struct RowSets {
        var own: [(key: JSONValue, row: [String: JSONValue])]
        var other: [(key: JSONValue, row: [String: JSONValue])]

        init(_ rows: [JSONValue: [String: JSONValue]], model: ModelPolicy, tenants: FuzzTenants) {
            let sorted = CallFactory.sortedRows(rows).filter { !model.isDeleted($0.row) }
            // Without a tenant field every row is the caller's: a single-tenant server scopes by subject.
            own = model.tenantField.map { field in sorted.filter { $0.row[field] == .string(tenants.own) } } ?? sorted
            other = model.tenantField.map { field in sorted.filter { $0.row[field] == .string(tenants.other) } } ?? []
        }
    }

    init(policy: Policy, tool: ToolPolicy, rows: [JSONValue: [String: JSONValue]], tenants: FuzzTenants, keyPrefix: String) {
        let model = policy.model(named: tool.model)!
        self.init(policy: policy, tool: tool, rowSets: RowSets(rows, model: model, tenants: tenants), tenants: tenants, keyPrefix: keyPrefix)
    }

    init(policy: Policy, tool: ToolPolicy, rowSets: RowSets, tenants: FuzzTenants, keyPrefix: String) {
        self.policy = policy
        self.tool = tool
        model = policy.model(named: tool.model)!
        ownRows = rowSets.own
        otherRows = rowSets.other
        self.tenants = tenants
        self.keyPrefix = keyPrefix
    }

    /// Whether the target's rows are observed, so an attack can be judged by its effect on them.
    var observesRows: Bool { !ownRows.isEmpty || !otherRows.isEmpty }

    /// A fresh idempotency key.
    mutating func nextKey() -> String {
        counter += 1
        return "\(keyPrefix)-\(counter)"
    }

    /// The arguments of a call, through the tool's binding.
    func arguments(targets: [JSONValue], fields: [String: JSONValue], reason: JSONValue?, key: String?, dryRun: Bool? = nil) -> JSONValue {
        var args: JSONValue = .object([:])
        let binding = tool.binding
        if let pointer = binding.model { args = pointer.setting(.string(model.name), in: args) }
        switch tool.operation {
        case .update, .delete:
            if let pointer = binding.target, let first = targets.first { args = pointer.setting(first, in: args) }
        case .bulkUpdate:
            if let pointer = binding.targets { args = pointer.setting(.array(targets), in: args) }
        case .create:
            break
        }
        switch binding.fields {
        case .object(let pointer):
            if tool.operation != .delete || !fields.isEmpty { args = pointer.setting(.object(fields), in: args) }
        case .each(let pointers):
            for (name, value) in fields {
                if let pointer = pointers[name] { args = pointer.setting(value, in: args) }
            }
        }
        if let reason, let pointer = binding.reason, sends(pointer) { args = pointer.setting(reason, in: args) }
        if let key, let pointer = binding.idempotencyKey, sends(pointer) { args = pointer.setting(.string(key), in: args) }
        if let field = tool.principalField, let subject = knowledge?.subject, field.resolve(in: args) == nil {
            args = field.setting(.string(subject), in: args)
        }
        if let dryRun, let pointer = binding.dryRun { args = pointer.setting(.bool(dryRun), in: args) }
        return args
    }

    /// Whether an argument goes into calls: a guard argument only where the target takes it.
    func sends(_ pointer: JSONPointer) -> Bool {
        sendGuardArguments || !tool.guardArguments.contains(pointer.tokens.first ?? "")
    }

    /// Fields the binding can carry: all writable ones for an object binding, the mapped ones otherwise.
    var bindableFields: [String] {
        switch tool.binding.fields {
        case .object: tool.writable
        case .each(let pointers): tool.writable.filter { pointers[$0] != nil }
        }
    }

    /// Keys of the rows of `tenant` that field `name` names (`referencedRows`), in key order; every row's
    /// key for a model without a tenant field; none for a field that names no row.
    func referencedKeys(_ name: String, tenant: String) -> [JSONValue] {
        guard let entry = referencedRows[name] else { return [] }
        guard let field = entry.model.tenantField else { return entry.rows.map(\.key) }
        return entry.rows.filter { $0.row[field] == .string(tenant) }.map(\.key)
    }

    /// `fields` with each row a field names (`referencedRows`) taken from `tenant`'s rows instead: what a
    /// call made for another tenant names, so that it is refused for its stage, not for its reference.
    func fields(_ fields: [String: JSONValue], namingRowsOf tenant: String) -> [String: JSONValue] {
        var out = fields
        for name in fields.keys where referencedRows[name] != nil {
            if let key = referencedKeys(name, tenant: tenant).first { out[name] = key }
        }
        return out
    }

    /// Valid values for every bindable writable field, different from the row's current ones.
    func validFields(row: [String: JSONValue]?, index: Int) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for name in bindableFields {
            guard let rule = model.field(name) else { continue }
            // A reference first, secret or not (`card_token` names a Card): any other value names no row.
            if case let keys = referencedKeys(name, tenant: tenants.own).filter({ rule.violation($0) == nil }), !keys.isEmpty {
                fields[name] = keys[index % keys.count]
            } else if rule.secret {
                let marker = JSONValue.string("fuzz-secret-\(index)")
                fields[name] = rule.violation(marker) == nil ? marker : ValueSynthesizer.different(from: row?[name], rule: rule, index: index + 1, tenant: tenants.own)
            } else if let value = ValueSynthesizer.different(from: row?[name], rule: rule, index: index + 1, tenant: tenants.own) {
                fields[name] = value
            }
        }
        return fields
    }

    /// What the guard's approval condition reads, predicted from the rows: `{tool, tenant, actor, args, before, after, rows}`.
    func conditionData(targets: [JSONValue], fields: [String: JSONValue], args: JSONValue) -> JSONValue {
        let first = targets.first.flatMap { key in ownRows.first { $0.key == key }?.row }
        var after = first ?? [:]
        for (name, value) in fields { after[name] = value }
        return [
            "tool": .string(tool.name), "tenant": .string(tenants.own), "actor": "fuzz-agent", "args": args,
            "before": first.map { .object($0) } ?? .null, "after": tool.operation == .delete ? .null : .object(after),
            "rows": .number(Double(tool.operation == .create ? 1 : targets.count)),
        ]
    }

    func needsApproval(targets: [JSONValue], fields: [String: JSONValue]) -> Bool {
        if knowledgeMode {
            let args = arguments(targets: targets, fields: fields, reason: .string(Self.goodReason), key: "probe")
            guard let data = predictedData(args) else { return false }
            return tool.approval?.when.isTruthy(data) == true || tool.rules.contains { $0.decision == .approve && $0.when.isTruthy(data) }
        }
        guard let rule = tool.approval?.when else { return false }
        let args = arguments(targets: targets, fields: fields, reason: .string(Self.goodReason), key: "probe")
        return rule.isTruthy(conditionData(targets: targets, fields: fields, args: args))
    }

    /// How many rows a valid baseline touches: one, or for a bulk tool two (below any dry-run threshold).
    var baselineRowCount: Int {
        tool.operation == .bulkUpdate ? max(1, min(2, tool.dryRunAboveRows ?? 2, tool.maxRows ?? 2)) : 1
    }

    /// A valid write that needs no approval, varied by `index` (different rows and values), or nil when
    /// the target has no rows of the caller's tenant to write.
    func baseline(index: Int) -> (targets: [JSONValue], fields: [String: JSONValue])? {
        if knowledgeMode {
            if !probed.isEmpty { return probed[index % probed.count] }
            let found = search(limit: index + 1) { self.isValid($0, $1) }
            return found.isEmpty ? nil : found[index % found.count]
        }
        guard let made else { return makeBaseline(index: index) }
        // Besides the index, a baseline depends only on constants of the factory and on these two.
        let key = BaselineMemo.Key(index: index, sendGuardArguments: sendGuardArguments, subject: knowledge?.subject)
        if let known = made[key] { return known.baseline }
        let baseline = makeBaseline(index: index)
        made[key] = BaselineMemo.Entry(baseline: baseline)
        return baseline
    }

    private func makeBaseline(index: Int) -> (targets: [JSONValue], fields: [String: JSONValue])? {
        for attempt in 0..<40 {
            let i = index + attempt * 7
            var targets: [JSONValue] = []
            if tool.operation != .create {
                guard !ownRows.isEmpty else { return nil }
                for k in 0..<baselineRowCount { targets.append(ownRows[(i + k) % ownRows.count].key) }
            }
            let row = targets.first.flatMap { key in ownRows.first { $0.key == key }?.row }
            let fields = tool.operation == .delete ? [:] : validFields(row: row, index: i)
            if !needsApproval(targets: targets, fields: fields) { return (targets, fields) }
        }
        // Every candidate needs approval: the tool always asks a person. Use the first one.
        if tool.operation != .create, ownRows.isEmpty { return nil }
        let targets = tool.operation == .create ? [] : Array(ownRows.prefix(baselineRowCount).map(\.key))
        let row = targets.first.flatMap { key in ownRows.first { $0.key == key }?.row }
        return (targets, tool.operation == .delete ? [:] : validFields(row: row, index: index))
    }

    /// A valid write that the approval condition catches: boundaries and enum values of each field,
    /// other rows, larger row counts, tried until the condition holds.
    func approvalTriggering() -> (targets: [JSONValue], fields: [String: JSONValue])? {
        guard tool.approval != nil || tool.rules.contains(where: { $0.decision == .approve }) else { return nil }
        if knowledgeMode {
            return search(limit: 1) { targets, fields in
                guard let data = self.predictedData(self.arguments(targets: targets, fields: fields, reason: .string(Self.goodReason), key: "probe")),
                    self.fieldsValid(fields), !self.refuseRules(data).contains(true)
                else { return false }
                return self.tool.approval?.when.isTruthy(data) == true || self.tool.rules.contains { $0.decision == .approve && $0.when.isTruthy(data) }
            }.first
        }
        guard tool.approval != nil, let base = baseline(index: 0) else { return nil }
        if needsApproval(targets: base.targets, fields: base.fields) { return base }
        // One field at a time through its interesting values.
        for name in bindableFields {
            guard let rule = model.field(name) else { continue }
            for value in Self.interestingValidValues(rule) {
                var fields = base.fields
                fields[name] = value
                if needsApproval(targets: base.targets, fields: fields) { return (base.targets, fields) }
            }
        }
        // Other rows (a delete of a row in another state).
        for candidate in ownRows where tool.operation != .create {
            let targets = tool.operation == .bulkUpdate ? Array(ownRows.prefix(baselineRowCount).map(\.key)) : [candidate.key]
            let fields = tool.operation == .delete ? [:] : validFields(row: candidate.row, index: 3)
            if needsApproval(targets: targets, fields: fields) { return (targets, fields) }
        }
        // More rows at once.
        if tool.operation == .bulkUpdate {
            let limit = min(ownRows.count, tool.maxRows ?? ownRows.count)
            for count in stride(from: baselineRowCount, through: limit, by: 1) {
                let targets = Array(ownRows.prefix(count).map(\.key))
                if needsApproval(targets: targets, fields: base.fields) { return (targets, base.fields) }
            }
        }
        return nil
    }

    /// Valid values at the edges of a rule: every enum value, min and max, and values just inside.
    static func interestingValidValues(_ rule: FieldRule) -> [JSONValue] {
        var values: [JSONValue] = rule.allowed ?? []
        if rule.type == .integer || rule.type == .number {
            let high = rule.max ?? 1e9
            let low = rule.min ?? 0
            values += [high, high - 1, low, low + 1, (low + high) / 2, 50_001, 100_000, 1_000_000].map { .number($0) }
        }
        if rule.type == .boolean { values += [true, false] }
        return values.filter { rule.violation($0) == nil }
    }
}

/// `CallFactory.baseline`'s results by index, for the factories of one tool that share its rows (a
/// reference: a factory is a value, made afresh for each attack class and random variant).
final class BaselineMemo: @unchecked Sendable {
    struct Key: Hashable {
        var index: Int
        var sendGuardArguments: Bool
        var subject: String?
    }

    /// One result, nil included (a tool without rows of the caller's tenant has no baseline).
    struct Entry {
        var baseline: (targets: [JSONValue], fields: [String: JSONValue])?
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]

    subscript(key: Key) -> Entry? {
        get { lock.withLock { entries[key] } }
        set { lock.withLock { entries[key] = newValue } }
    }
}
