import RolloutCore

/// The members of a stored event's body that verification, the derived columns, the compliance listing
/// and the scorer ask `JSONMembers` about, each prepared once for its look-ups.
extension JSONMembers.Name {
    static let seq = Self("seq"), ts = Self("ts"), tenant = Self("tenant"), actor = Self("actor"), session = Self("session")
    static let tool = Self("tool"), model = Self("model"), operation = Self("operation"), decision = Self("decision")
    static let rowCount = Self("row_count"), idempotencyKey = Self("idempotency_key"), approver = Self("approver")
    static let reason = Self("reason"), policyDigest = Self("policy_digest"), backend = Self("backend"), message = Self("message")
    static let targets = Self("targets"), changes = Self("changes"), fieldsChanged = Self("fields_changed")
    static let after = Self("after")
}
