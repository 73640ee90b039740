import Foundation

/// The guard's memory: idempotency keys, cap usage, dry runs, approvals, rollbacks, the audit log.
public protocol GuardLedger {
    func idempotency(tenant: String, key: String) throws -> IdempotencyEntry?
    func saveIdempotency(_ entry: IdempotencyEntry) throws
    /// Calls that counted against caps since `since`: by (tenant, tool), and by that actor when given.
    func callCount(tenant: String, tool: String, actor: String?, since: Date) throws -> Int
    func recordCall(tenant: String, tool: String, actor: String, at: Date, auditSeq: Int64) throws
    func hasDryRun(tenant: String, tool: String, effectDigest: String, since: Date) throws -> Bool
    func recordDryRun(tenant: String, tool: String, effectDigest: String, at: Date, auditSeq: Int64) throws
    func enqueue(_ approval: PendingApproval) throws -> Int64
    func approval(id: Int64) throws -> PendingApproval?
    func updateApproval(_ approval: PendingApproval) throws
    func rollback(of seq: Int64) throws -> Int64?
    func recordRollback(of seq: Int64, by rollbackSeq: Int64) throws
    /// Keeps the clear before-values of redacted fields of event `seq` (per row key, per field), outside
    /// the log and its reports, so that a rollback can restore them.
    func stashSecrets(seq: Int64, values: JSONValue) throws
    func stashedSecrets(seq: Int64) throws -> JSONValue?
    /// Appends to the audit log; returns the event with its sequence number.
    func append(_ event: AuditEvent) throws -> AuditEvent
    func event(seq: Int64) throws -> AuditEvent?
}

/// A used idempotency key: the effect it was bound to and the answer it got.
public struct IdempotencyEntry: Sendable, Hashable {
    public var tenant: String
    public var key: String
    public var tool: String
    public var effectDigest: String
    public var auditSeq: Int64
    public var decision: DecisionCode
    public var result: JSONValue
    public var createdAt: Date

    public init(tenant: String, key: String, tool: String, effectDigest: String, auditSeq: Int64, decision: DecisionCode, result: JSONValue, createdAt: Date) {
        self.tenant = tenant
        self.key = key
        self.tool = tool
        self.effectDigest = effectDigest
        self.auditSeq = auditSeq
        self.decision = decision
        self.result = result
        self.createdAt = createdAt
    }
}

/// A write waiting for a person, bound to its exact call, caller and time window.
public struct PendingApproval: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case pending, executed, denied, expired, refused
    }

    public var id: Int64
    public var createdAt: Date
    public var expiresAt: Date
    public var tenant: String
    public var actor: String
    public var session: String?
    /// The policy tool.
    public var tool: String
    public var call: ToolCall
    public var status: Status
    public var pendingSeq: Int64
    public var decidedBy: String?
    public var decidedAt: Date?
    public var decisionReason: String?
    public var resultSeq: Int64?

    public init(id: Int64 = 0, createdAt: Date, expiresAt: Date, tenant: String, actor: String, session: String?, tool: String, call: ToolCall, status: Status = .pending, pendingSeq: Int64, decidedBy: String? = nil, decidedAt: Date? = nil, decisionReason: String? = nil, resultSeq: Int64? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.tenant = tenant
        self.actor = actor
        self.session = session
        self.tool = tool
        self.call = call
        self.status = status
        self.pendingSeq = pendingSeq
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.decisionReason = decisionReason
        self.resultSeq = resultSeq
    }
}

