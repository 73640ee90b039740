import Foundation
import RolloutCore

/// The guard's memory, inside one decision's transaction: idempotency keys, cap usage, dry runs,
/// approvals, rollbacks, and the audit log. The guard owns this port; each store engine implements it
/// (`StoreGuardLedger` on the rollout store, `InMemoryEnvironment` for tests and the fuzzer).
public protocol GuardLedger {
    /// The key's entry; where the ledger has none but the audit chain shows the key in use, an in-doubt
    /// entry read from the chain (`missingFromLedger`): a key is free only when both say so.
    func idempotency(tenant: String, key: String) throws -> IdempotencyEntry?
    /// Records a key's entry, replacing the one there (an intent becoming its outcome).
    func saveIdempotency(_ entry: IdempotencyEntry) throws
    /// Forgets a key: the upstream said no, so a retry may run.
    func releaseIdempotency(tenant: String, key: String) throws
    /// Calls that counted against caps since `since`: by (tenant, tool), and by that actor when given;
    /// counted up to `limit` and no further. A cap asks only whether its max is reached, so a busy
    /// window costs at most the cap's max index steps (the count used to read the whole window, every call).
    func callCount(tenant: String, tool: String, actor: String?, since: Date, upTo limit: Int) throws -> Int
    func recordCall(tenant: String, tool: String, actor: String, at: Date, auditSeq: Int64) throws
    /// Whether a dry run with this binding (`DryRunBinding`) was recorded since `since`, for the tenant and tool.
    func hasDryRun(tenant: String, tool: String, binding: String, since: Date) throws -> Bool
    func recordDryRun(tenant: String, tool: String, binding: String, at: Date, auditSeq: Int64) throws
    func enqueue(_ approval: PendingApproval) throws -> Int64
    func approval(id: Int64) throws -> PendingApproval?
    func updateApproval(_ approval: PendingApproval) throws
    func rollback(of seq: Int64) throws -> Int64?
    /// The events after `seq` that `pick` selects, oldest first, read only from a log shown intact from
    /// event `seq` to its head (`CheckedEvents`): what an approval or a rollback must not miss. `earlier`,
    /// the same check made before the transaction (`GuardEnvironment.checkedEvents`), is resumed.
    func checkedEvents(after seq: Int64, _ pick: EventPick, resuming earlier: CheckedEvents?) throws -> CheckedEvents
    func recordRollback(of seq: Int64, by rollbackSeq: Int64) throws
    /// Points the rollback of `seq`, claimed by its intent, at the event that says how it ended.
    func settleRollback(of seq: Int64, by rollbackSeq: Int64) throws
    /// Forgets the rollback claimed for `seq`: its inverse never reached the upstream, so it may run again.
    func releaseRollback(of seq: Int64) throws
    /// Keeps the clear before-values of redacted fields of event `seq` (per row key, per field), outside
    /// the log and its reports, so that a rollback can restore them.
    func stashSecrets(seq: Int64, values: JSONValue) throws
    func stashedSecrets(seq: Int64) throws -> JSONValue?
    /// Appends to the audit log; returns the event with its sequence number.
    func append(_ event: AuditEvent) throws -> AuditEvent
    func event(seq: Int64) throws -> AuditEvent?
    /// Event `seq` when its row holds in the chain (hash, columns, with the key its signature); nil when it is
    /// missing or does not: what a ledger row that points at the event may be checked against.
    func heldEvent(seq: Int64) throws -> AuditEvent?
    /// Whether the chain holds, after event `seq`, a write under `tenant`'s idempotency `key` (executed, handed
    /// to its upstream, or in doubt), or an event of the key that cannot be read: what a ledger row pointed at
    /// an earlier event of its key would hide.
    func keyWrittenAfter(_ seq: Int64, tenant: String, key: String) throws -> Bool
}

/// A used idempotency key: the write it was bound to, where it ran, and the answer it got.
public struct IdempotencyEntry: Sendable, Hashable {
    public var tenant: String
    public var key: String
    public var tool: String
    /// What the key is bound to (`IdempotencyBinding`: the write, its arguments and who sent them);
    /// stored in the ledger's `effect_digest` column, named when it held the write alone (as rows
    /// written before bindings still do).
    public var binding: String
    public var auditSeq: Int64
    /// `intent` while the write is at its upstream, `in_doubt` when its outcome was lost, else the
    /// decision the first call got (executed, pending_approval...).
    public var decision: DecisionCode
    public var result: JSONValue
    public var createdAt: Date
    /// The backend the write ran on (`builtin`, `upstream:NAME`, `command:sha256:...`).
    public var backend: String
    /// Read from the audit chain, not the ledger: the key's ledger row is missing, yet event `auditSeq`
    /// used the key. What it was bound to is not known (tool, effect, answer), only that it is not free.
    public var missingFromLedger: Bool

    public init(tenant: String, key: String, tool: String, binding: String, auditSeq: Int64, decision: DecisionCode,
                result: JSONValue, createdAt: Date, backend: String = GuardBackend.builtin, missingFromLedger: Bool = false) {
        self.tenant = tenant
        self.key = key
        self.tool = tool
        self.binding = binding
        self.auditSeq = auditSeq
        self.decision = decision
        self.result = result
        self.createdAt = createdAt
        self.backend = backend
        self.missingFromLedger = missingFromLedger
    }

    /// The key's write may have happened and is never run again.
    public var isUnsettled: Bool { decision == .intent || decision == .inDoubt }
}

/// A write waiting for a person, bound to its exact call, caller, backend and time window.
public struct PendingApproval: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case pending, executing, executed, denied, expired, refused
        /// Approved and forwarded, but the upstream's answer was lost.
        case inDoubt = "in_doubt"
    }

    public var id: Int64
    public var createdAt: Date
    public var expiresAt: Date
    public var tenant: String
    public var actor: String
    public var session: String?
    public var subject: String?
    /// The policy tool.
    public var tool: String
    public var call: ToolCall
    public var status: Status
    public var pendingSeq: Int64
    public var decidedBy: String?
    public var decidedAt: Date?
    public var decisionReason: String?
    public var resultSeq: Int64?
    /// Where the write runs once approved: nowhere else.
    public var backend: String

    public init(id: Int64 = 0, createdAt: Date, expiresAt: Date, tenant: String, actor: String, session: String?, subject: String? = nil,
                tool: String, call: ToolCall, status: Status = .pending, pendingSeq: Int64, decidedBy: String? = nil,
                decidedAt: Date? = nil, decisionReason: String? = nil, resultSeq: Int64? = nil, backend: String = GuardBackend.builtin) {
        self.id = id
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.tenant = tenant
        self.actor = actor
        self.session = session
        self.subject = subject
        self.tool = tool
        self.call = call
        self.status = status
        self.pendingSeq = pendingSeq
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.decisionReason = decisionReason
        self.resultSeq = resultSeq
        self.backend = backend
    }

    public var principal: Principal { Principal(tenant: tenant, actor: actor, session: session, subject: subject) }
}

/// Names of backends, as events, approvals and ledger entries record them.
public enum GuardBackend {
    /// The built-in demo domain (`rollout call --demo`, the fuzzer's in-memory tables).
    public static let builtin = "builtin"

    /// An upstream named in `rollout/upstreams.yaml`.
    public static func upstream(_ name: String) -> String { "upstream:" + name }

    /// An upstream started from a command line without an entry: named by the command's digest.
    public static func command(_ command: [String]) -> String {
        "command:" + JSONValue.array(command.map(JSONValue.string)).canonicalDigest.prefix(16)
    }
}
