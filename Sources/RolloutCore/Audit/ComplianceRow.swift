import Foundation

/// One audited call as the compliance report lists it: who, what, why, the outcome, and who approved.
public struct ComplianceRow: Sendable, Hashable {
    public var seq: Int64
    public var ts: String
    public var tenant: String
    public var actor: String
    public var tool: String
    public var operation: String?
    /// The target keys, as JSON text.
    public var targets: String
    public var rowCount: Int
    public var decision: String
    public var reason: String?
    public var approver: String?
    public var idempotencyKey: String?
    public var message: String?

    public var category: DecisionCategory { DecisionCategory(decision: decision) }

    public init(seq: Int64, ts: String, tenant: String, actor: String, tool: String, operation: String?, targets: String, rowCount: Int,
                decision: String, reason: String?, approver: String?, idempotencyKey: String?, message: String?) {
        self.seq = seq
        self.ts = ts
        self.tenant = tenant
        self.actor = actor
        self.tool = tool
        self.operation = operation
        self.targets = targets
        self.rowCount = rowCount
        self.decision = decision
        self.reason = reason
        self.approver = approver
        self.idempotencyKey = idempotencyKey
        self.message = message
    }
}

