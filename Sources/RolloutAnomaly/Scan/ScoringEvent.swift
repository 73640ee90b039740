import RolloutCore

/// One audit event as the rules judge it: actor, tool and shape as ids of the pass's
/// `ScoringVocabulary` (-1 for a null shape), the idempotency key and effect as digests, and only what
/// the rules ask of its decision, operation and approver.
struct ScoringEvent {
    var seq: Int64
    var tsMillis: Int64
    var actor: Int32
    var tool: Int32
    var hasApprover: Bool
    var shape: Int32
    var rowCount: Int
    var key: TextDigest?
    var effect: TextDigest?
    /// `fields_changed`, only for executed writes that changed a field whose values are read.
    var fields: JSONValue?
    var category: DecisionCategory
    var isIdempotencyConflict: Bool
    var isPendingApproval: Bool
    var isDelete: Bool
}
