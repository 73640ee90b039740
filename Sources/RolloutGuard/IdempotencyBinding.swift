import RolloutCore

/// What an idempotency key is bound to: the write (`WriteRequest.effectDigest`), the arguments it
/// carries apart from the words of its reason, who sent it (actor and subject), and where it was written
/// (the guard's backend and placement, `DecisionScope`). Bound to the write alone, a key answered another
/// user's call with the first user's result (the rules that would have refused it never ran), and a call
/// with other arguments the write does not cover (a declared `args:` flag) with the answer to the first;
/// bound without the placement, a key used on staging answered the same call on production (one upstream
/// entry, another `TINY_DB`): the agent was told a write happened where it never ran. The reason is left
/// out: an agent that retries after a timeout may word it anew, and its retry must still be answered, never
/// sent again under a new key. Arguments that `extra_args: drop` removes are left out too: they reach nobody.
/// The digest is keyed (`Redactor.keyedDigest`): the arguments hold secret values.
enum IdempotencyBinding {
    /// Marks a binding. A ledger row written before bindings (before 2026-12-02) holds the effect digest
    /// alone; one written by the first bindings (`legacyPrefix`, 2026-12-02) a plain digest without the
    /// placement.
    static let prefix = "bind2:"
    static let legacyPrefix = "bind1:"

    /// The keyed digest of `{actor, args, backend, effect, placement, subject}`.
    static func of(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?, scope: DecisionScope) -> String {
        let text = canonicalText(request, tool: tool, actor: actor, subject: subject, leavingOut: [tool.binding.reason].compactMap { $0 },
                                 backend: scope.backend, placement: scope.placement)
        return prefix + scope.redactor.keyedDigest(text)
    }

    static func of(_ request: WriteRequest, tool: ToolPolicy, principal: Principal, scope: DecisionScope) -> String {
        of(request, tool: tool, actor: principal.actor, subject: principal.subject, scope: scope)
    }

    /// A binding as the first bindings wrote it: the plain digest of `{actor, args, effect, subject}`.
    static func legacy(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?) -> String {
        let text = canonicalText(request, tool: tool, actor: actor, subject: subject, leavingOut: [tool.binding.reason].compactMap { $0 })
        return legacyPrefix + "sha256:" + JSONValue.digest(canonicalBytes: text)
    }

    /// The canonical text of `{actor, args, backend, effect, placement, shown, subject}`, `args` the call's
    /// arguments without the places `leavingOut` names and what `extra_args: drop` removes; `backend`,
    /// `placement` and `shown` only when given: what a key, or a dry run, is bound to.
    static func canonicalText(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?, leavingOut omitted: [JSONPointer],
                              backend: String? = nil, placement: JSONValue? = nil, shown: JSONValue? = nil) -> [UInt8] {
        var arguments = request.call.arguments
        if tool.extraArguments == .drop {
            for place in RequestBinder.unboundArguments(arguments, tool: tool) {
                if let pointer = JSONPointer(place) { arguments = pointer.removing(from: arguments) }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        func key(_ name: StaticString) { name.withUTF8Buffer { out.append(contentsOf: $0) } }
        key(#"{"actor":"#)
        JSONValue.appendCanonical(string: actor, to: &out)
        key(#","args":"#)
        if omitted.allSatisfy({ $0.tokens.count == 1 }), case .object(let members) = arguments {
            // Places among the top-level arguments (nearly always): the object written without them, as
            // `removing` would leave it, with no copy of the arguments made.
            let names = members.keys.filter { name in !omitted.contains { $0.tokens[0].hasSameBytes(as: name) } }
                .sorted(by: JSONValue.canonicalKeyLess)
            out.append(0x7B)
            for (i, name) in names.enumerated() {
                if i > 0 { out.append(0x2C) }
                JSONValue.appendCanonical(string: name, to: &out)
                out.append(0x3A)
                members[name]!.appendCanonical(to: &out)
            }
            out.append(0x7D)
        } else {
            // Later elements of a list first: removing `/a/0` first would move `/a/1` onto it.
            omitted.sorted(by: removedBefore).reduce(arguments) { $1.removing(from: $0) }.appendCanonical(to: &out)
        }
        if let backend {
            key(#","backend":"#)
            JSONValue.appendCanonical(string: backend, to: &out)
        }
        key(#","effect":"#)
        request.appendEffect(to: &out)
        if let placement {
            key(#","placement":"#)
            placement.appendCanonical(to: &out)
        }
        if let shown {
            key(#","shown":"#)
            shown.appendCanonical(to: &out)
        }
        key(#","subject":"#)
        if let subject { JSONValue.appendCanonical(string: subject, to: &out) } else { key("null") }
        out.append(0x7D)
        return out
    }

    /// Whether `a` is removed before `b`: at the first token they differ in, the larger list index (or,
    /// between names, the later one) first; a place inside another before it.
    static func removedBefore(_ a: JSONPointer, _ b: JSONPointer) -> Bool {
        for (x, y) in zip(a.tokens, b.tokens) where !x.hasSameBytes(as: y) {
            if let i = Int(x), let j = Int(y), x.utf8.allSatisfy({ (0x30...0x39).contains($0) }), y.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
                return i > j
            }
            return x.utf8.lexicographicallyPrecedes(y.utf8) == false
        }
        return a.tokens.count > b.tokens.count
    }
}
