import RolloutCore

/// One audit event as the rules judge it: texts as ids of the pass's `ScoringVocabulary` (-1 for a
/// null operation, approver or shape), the idempotency key and effect as digests, and the facts of its
/// decision and operation.
struct ScoringEvent {
    var seq: Int64
    var tsMillis: Int64
    var actor: Int32
    var tool: Int32
    var operation: Int32
    var decision: Int32
    var approver: Int32
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
