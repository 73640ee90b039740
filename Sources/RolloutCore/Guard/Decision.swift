/// What the guard answered a call, and where it recorded it.
public struct Decision: Sendable, Hashable {
    public var code: DecisionCode
    /// For a person (or the agent): what happened and what to do next.
    public var message: String
    /// The audit event that records this decision.
    public var auditSeq: Int64
    /// The queued approval, for `pending_approval`.
    public var approvalId: Int64?
    /// Rows changed (executed), or that would change (dry run, shadow).
    public var changes: [RowChange]
    /// In shadow, the decision the call would have met had the tool been live.
    public var wouldBe: DecisionCode?
    /// The tool result returned to the agent: for a replay, the stored result of the first call.
    public var result: JSONValue

    public init(code: DecisionCode, message: String, auditSeq: Int64 = 0, approvalId: Int64? = nil, changes: [RowChange] = [], wouldBe: DecisionCode? = nil, result: JSONValue = .null) {
        self.code = code
        self.message = message
        self.auditSeq = auditSeq
        self.approvalId = approvalId
        self.changes = changes
        self.wouldBe = wouldBe
        self.result = result
    }

    public var isRefusal: Bool { code.isRefusal }
}
