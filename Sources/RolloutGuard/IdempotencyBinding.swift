import RolloutCore

/// What an idempotency key is bound to: the write (`WriteRequest.effectDigest`), the arguments it
/// carries apart from the words of its reason, and who sent it (actor and subject). Bound to the write
/// alone, a key answered another user's call with the first user's result (the rules that would have
/// refused it never ran), and a call with other arguments the write does not cover (a declared `args:`
/// flag) with the answer to the first. The reason is left out: an agent that retries after a timeout
/// may word it anew, and its retry must still be answered, never sent again under a new key. Arguments
/// that `extra_args: drop` removes are left out too: they reach nobody.
enum IdempotencyBinding {
    /// Marks a binding. A ledger row written before bindings (before 2026-12-02) holds the effect digest
    /// alone, without it.
    static let prefix = "bind1:"

    /// The canonical text of `{actor, args, effect, subject}`, digested once: `args` the call's
    /// arguments without the reason (and without what `extra_args: drop` removes), `effect` the write's
    /// effect (`WriteRequest.appendEffect`).
    static func of(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?) -> String {
        prefix + digest(request, tool: tool, actor: actor, subject: subject, leavingOut: [tool.binding.reason].compactMap { $0 })
    }

    /// `sha256:` and the digest of the canonical text of `{actor, args, backend, effect, shown, subject}`,
    /// `args` the call's arguments without the places `leavingOut` names and what `extra_args: drop`
    /// removes, `backend` and `shown` only when given: what a key, or a dry run, is bound to.
    static func digest(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?, leavingOut omitted: [JSONPointer],
                       backend: String? = nil, shown: JSONValue? = nil) -> String {
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
        if let shown {
            key(#","shown":"#)
            shown.appendCanonical(to: &out)
        }
        key(#","subject":"#)
        if let subject { JSONValue.appendCanonical(string: subject, to: &out) } else { key("null") }
        out.append(0x7D)
        return "sha256:" + JSONValue.digest(canonicalBytes: out)
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

    static func of(_ request: WriteRequest, tool: ToolPolicy, principal: Principal) -> String {
        of(request, tool: tool, actor: principal.actor, subject: principal.subject)
    }
}
