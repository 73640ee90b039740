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

    static func of(_ request: WriteRequest, tool: ToolPolicy, actor: String, subject: String?) -> String {
        var arguments = request.call.arguments
        if tool.extraArguments == .drop {
            for place in RequestBinder.unboundArguments(arguments, tool: tool) {
                if let pointer = JSONPointer(place) { arguments = pointer.removing(from: arguments) }
            }
        }
        if let reason = tool.binding.reason { arguments = reason.removing(from: arguments) }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func key(_ name: StaticString) { name.withUTF8Buffer { out.append(contentsOf: $0) } }
        key(#"{"actor":"#)
        JSONValue.appendCanonical(string: actor, to: &out)
        key(#","args":"#)
        JSONValue.appendCanonical(string: arguments.canonicalDigest, to: &out)
        key(#","effect":"#)
        JSONValue.appendCanonical(string: request.effectDigest, to: &out)
        key(#","subject":"#)
        if let subject { JSONValue.appendCanonical(string: subject, to: &out) } else { key("null") }
        out.append(0x7D)
        return prefix + "sha256:" + JSONValue.digest(canonicalBytes: out)
    }

    static func of(_ request: WriteRequest, tool: ToolPolicy, principal: Principal) -> String {
        of(request, tool: tool, actor: principal.actor, subject: principal.subject)
    }
}
