extension WriteRequest {
    /// What an idempotency key is bound to: the write (`effectDigest`), the whole arguments the agent
    /// sent, and who sent them (actor and subject). A retry matches only when all of them are the same;
    /// anything else with the key is `idempotency_conflict`. Bound to the effect alone, a key answered
    /// another user's call with the first user's result (the rules that would have refused it never
    /// ran), and a call with other arguments that the effect does not cover (a declared `args:` flag)
    /// with the answer to the first.
    public func idempotencyBinding(actor: String, subject: String?) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func key(_ name: StaticString) { name.withUTF8Buffer { out.append(contentsOf: $0) } }
        key(#"{"actor":"#)
        JSONValue.appendCanonical(string: actor, to: &out)
        key(#","args":"#)
        JSONValue.appendCanonical(string: call.argumentsDigest, to: &out)
        key(#","effect":"#)
        JSONValue.appendCanonical(string: effectDigest, to: &out)
        key(#","subject":"#)
        if let subject { JSONValue.appendCanonical(string: subject, to: &out) } else { key("null") }
        out.append(0x7D)
        return "sha256:" + JSONValue.digest(canonicalBytes: out)
    }

    /// `idempotencyBinding(actor:subject:)` for the principal the guard acts for.
    public func idempotencyBinding(for principal: Principal) -> String {
        idempotencyBinding(actor: principal.actor, subject: principal.subject)
    }
}
