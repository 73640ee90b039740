import RolloutCore

/// Knowledge mode of the call factory, for targets whose rows cannot be read directly: targets and
/// values come from what the adversary learned through the target's reads, related values are kept
/// together (an order's own items, a replacement of the same product), and every candidate call is
/// judged by the policy's own field rules and conditions over the lookups the guard will make, predicted
/// from the knowledge. A search finds calls that pass every rule (baselines) or break exactly one.
extension CallFactory {
    /// Whether calls are built from knowledge rather than observed rows.
    var knowledgeMode: Bool {
        guard let knowledge, ownRows.isEmpty else { return false }
        return !knowledge.isEmpty && (!tool.lookups.isEmpty || !tool.rules.isEmpty || tool.principalField != nil || tool.operation != .create)
    }

    /// The principal the predictions are made for.
    var predictedPrincipal: Principal {
        Principal(tenant: tenants.own, actor: "fuzz-agent", subject: knowledge?.subject)
    }

    /// `{tool, tenant, actor, subject, args, before, after, rows, lookup, now}` as the guard will see it
    /// for `args`, with lookups answered from the knowledge; nil when a lookup was never read or refused.
    func predictedData(_ args: JSONValue) -> JSONValue? {
        guard let knowledge else { return nil }
        let call = ToolCall(tool: tool.toolName, arguments: args)
        var lookups: [String: JSONValue] = [:]
        for lookup in tool.lookups {
            guard let lookupArgs = lookup.arguments(for: call, principal: predictedPrincipal),
                let read = knowledge.answer(lookup.tool, lookupArgs), read.accepted
            else {
                if lookup.optional { lookups[lookup.name] = .null; continue }
                return nil
            }
            var value = read.answer
            if let select = lookup.select { value = select.resolve(in: value) ?? .null }
            lookups[lookup.name] = value
        }
        let row = tool.beforeLookup.flatMap { lookups[$0]?.objectValue }
        var after = row ?? [:]
        let request = try? RequestBinderShim.fields(call, tool: tool)
        for (name, value) in request ?? [:] { after[name] = value }
        return [
            "tool": .string(tool.name), "tenant": .string(tenants.own), "actor": "fuzz-agent",
            "subject": knowledge.subject.map(JSONValue.string) ?? .null, "args": args,
            "before": row.map(JSONValue.object) ?? .null, "after": tool.operation == .delete ? .null : .object(after),
            "rows": .number(Double(tool.operation == .create ? 1 : 1)), "lookup": .object(lookups), "now": 0,
        ]
    }

    /// Each refusing rule's verdict over `data`, in policy order.
    func refuseRules(_ data: JSONValue) -> [Bool] {
        tool.rules.filter { $0.decision == .refuse }.map { $0.when.isTruthy(data) }
    }

    func fieldsValid(_ fields: [String: JSONValue]) -> Bool {
        fields.allSatisfy { name, value in model.field(name)?.violation(value) == nil }
    }

    /// A call the policy allows and that needs no approval: every field valid, no rule holding.
    func isValid(_ targets: [JSONValue], _ fields: [String: JSONValue]) -> Bool {
        guard fieldsValid(fields) else { return false }
        let args = arguments(targets: targets, fields: fields, reason: .string(Self.goodReason), key: "probe")
        guard let data = predictedData(args) else { return false }
        if refuseRules(data).contains(true) { return false }
        if tool.approval?.when.isTruthy(data) == true { return false }
        return !tool.rules.contains { ($0.decision == .approve || $0.decision == .dryRun) && $0.when.isTruthy(data) }
    }

    /// A call that breaks exactly `rule` and nothing else of the policy; with `also`, exactly those two
    /// rules (an order of another user paid with that user's card: a server that checks the card against
    /// the order's owner refuses the first alone and takes the pair).
    func breaking(_ rule: ToolRule, also partner: ToolRule? = nil) -> (targets: [JSONValue], fields: [String: JSONValue])? {
        let refusing = tool.rules.filter { $0.decision == .refuse }
        let broken: Set<String> = [rule.name, partner?.name].compactMap { $0 }.reduce(into: []) { $0.insert($1) }
        return search(limit: 1, budget: 60_000) { targets, fields in
            guard self.fieldsValid(fields) else { return false }
            let args = self.arguments(targets: targets, fields: fields, reason: .string(Self.goodReason), key: "probe")
            guard let data = self.predictedData(args), rule.when.isTruthy(data) else { return false }
            if let partner, !partner.when.isTruthy(data) { return false }
            return refusing.allSatisfy { broken.contains($0.name) || !$0.when.isTruthy(data) }
        }.first
    }

    /// Candidate targets: the learned values of the target argument (the subject first where the target is
    /// the principal field), those that fit the key's rule.
    func targetCandidates() -> [JSONValue] {
        guard let knowledge, tool.operation != .create else { return [] }
        let pointer = tool.operation == .bulkUpdate ? tool.binding.targets : tool.binding.target
        guard let name = pointer?.tokens.last else { return [] }
        var values = knowledge.values(name)
        if let rule = model.field(model.key) { values = values.filter { rule.violation($0) == nil } }
        if tool.principalField == pointer, let subject = knowledge.subject {
            values = [.string(subject)] + values.filter { $0 != .string(subject) }
        }
        return Array(values.prefix(24))
    }

    /// Candidate values of one field, near the values already chosen. A `new_x` field is a replacement of
    /// `x`: its candidates are related to the chosen `x` (another option of the same product), never `x` itself.
    func fieldCandidates(_ name: String, near: [JSONValue], chosen: [String: JSONValue] = [:]) -> [JSONValue] {
        guard let rule = model.field(name) else { return [] }
        if let allowed = rule.allowed { return allowed }
        let knowledge = self.knowledge ?? Knowledge()
        var near = near
        var exclude: Set<JSONValue> = []
        if name.hasPrefix("new_"), let old = chosen[String(name.dropFirst(4))] {
            near = old.arrayValue ?? [old]
            exclude = Set(near)
        }
        switch rule.type {
        case .list:
            var base = name
            if base.hasPrefix("new_") { base = String(base.dropFirst(4)) }
            let itemKey = Knowledge.singular(base)
            let local = knowledge.related(itemKey, near: near).filter { !exclude.contains($0) }
            let global = knowledge.values(itemKey)
            var lists: [JSONValue] = []
            func add(_ items: [JSONValue]) {
                let list = JSONValue.array(items)
                if !items.isEmpty, !lists.contains(list) { lists.append(list) }
            }
            for value in local.prefix(4) { add([value]) }
            if local.count >= 2 { add(Array(local.prefix(2))) }
            for value in global.prefix(3) { add([value]) }
            if let first = local.first, let other = global.first(where: { $0 != first }) { add([first, other]) }
            if let synthesized = ValueSynthesizer.value(for: rule, index: 1) { add(synthesized.arrayValue ?? []) }
            lists = Array(lists.prefix(10))
            // The replaced items themselves, last: what a rule like "a new item must differ" is broken with.
            if !exclude.isEmpty { add(near) }
            return lists
        default:
            var out: [JSONValue] = []
            for value in knowledge.related(name, near: near) + knowledge.values(name) where !out.contains(value) { out.append(value) }
            out = out.filter { rule.violation($0) == nil || rule.type != .string || true }
            for i in 0..<2 { if let v = ValueSynthesizer.value(for: rule, index: i + 1), !out.contains(v) { out.append(v) } }
            return Array(out.prefix(8))
        }
    }

    /// Calls (targets and fields) for which `accept` holds, in a depth-first walk over the candidates: at
    /// most `limit` of them (one per target with `distinctTargets`) and `budget` tries in all.
    func search(limit: Int, budget: Int = 20_000, distinctTargets: Bool = false,
                accept: ([JSONValue], [String: JSONValue]) -> Bool) -> [(targets: [JSONValue], fields: [String: JSONValue])] {
        var found: [(targets: [JSONValue], fields: [String: JSONValue])] = []
        var tries = 0
        var memo: [String: [JSONValue]] = [:]
        let targets: [[JSONValue]] = tool.operation == .create ? [[]] : targetCandidates().map { [$0] }
        let names = bindableFields
        // Walks the fields from `index` on; true once this target has had its share.
        func walk(_ target: [JSONValue], _ index: Int, _ fields: [String: JSONValue], _ share: Int) -> Bool {
            guard tries < budget else { return true }
            if index == names.count {
                tries += 1
                if accept(target, fields) { found.append((target, fields)) }
                return found.count >= limit || (distinctTargets && found.count >= share)
            }
            let name = names[index]
            let near = target + fields.values.flatMap { $0.arrayValue ?? [$0] }
            // The same field near the same values comes up again and again in the walk: compute it once.
            let memoKey = ([name] + target.map(\.canonicalText) + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.canonicalText)" })
                .joined(separator: "\u{0}")
            let candidates: [JSONValue]
            if let known = memo[memoKey] {
                candidates = known
            } else {
                candidates = fieldCandidates(name, near: near, chosen: fields)
                memo[memoKey] = candidates
            }
            if candidates.isEmpty { return walk(target, index + 1, fields, share) }
            for value in candidates {
                var next = fields
                next[name] = value
                if walk(target, index + 1, next, share) { return true }
            }
            return false
        }
        for target in targets where found.count < limit && tries < budget {
            _ = walk(target, 0, [:], found.count + 1)
        }
        return found
    }
}

/// The field values a call carries through a tool's binding (what `after` holds), without the guard.
enum RequestBinderShim {
    static func fields(_ call: ToolCall, tool: ToolPolicy) throws -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        switch tool.binding.fields {
        case .object(let pointer): fields = pointer.resolve(in: call.arguments)?.objectValue ?? [:]
        case .each(let map):
            for (name, pointer) in map { if let value = pointer.resolve(in: call.arguments) { fields[name] = value } }
        }
        return fields
    }
}
