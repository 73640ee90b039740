import RolloutCore

/// Something the adversary attacks: the built-in guard, or an MCP tool server. It takes calls on
/// behalf of a tenant and lets the oracle read state back.
public protocol FuzzTarget: AnyObject {
    /// For reports: "built-in guard", or the MCP command line.
    var description: String { get }
    var capabilities: TargetCapabilities { get }
    /// The tenants the adversary calls as.
    var tenants: FuzzTenants { get }

    /// Starts from fresh state: seeded rows, empty ledgers.
    func reset() async throws
    /// One call as an agent of `tenant`.
    func call(_ call: ToolCall, tenant: String) async throws -> CallOutcome
    /// The rows of `model` as they are now, by key, every tenant included; nil when the target's state
    /// cannot be read.
    func rows(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]]?
    /// Rolls back the write recorded by `outcome`, when the target can.
    func rollback(_ outcome: CallOutcome) async throws -> CallOutcome?
    /// Problems of coverage: write tools the target has that the policy does not describe, and
    /// policy tools the target lacks.
    func coverage() -> [String]
    /// The adversary saw rows change during a call, whatever the answer said: the next reset must really
    /// start afresh.
    func noteStateChanged()
    /// Every tool the target lists (an MCP server's `tools/list`); empty when it lists none.
    var listedTools: [String] { get }
    /// The input schema of each tool the target lists.
    var toolSchemas: [String: JSONValue] { get }
    /// One read for the adversary's learning: the answer's JSON and whether the target took the call;
    /// nil when the target has no reads.
    func learn(_ call: ToolCall) async throws -> (answer: JSONValue, accepted: Bool)?
    /// Tool calls the target was sent so far, learning reads and resets included: what the summary counts.
    func callsSent() async -> Int
    /// Server processes started so far (MCP targets), nil for targets without one.
    func serverStarts() async -> Int?
    /// The subjects the target acts for and must never act on (for servers whose tools carry user ids).
    var subjects: (own: String?, other: String?) { get }
    /// The audit entries the target logged after `mark` (all of them when the log was reset since, or for
    /// nil), and the mark to pass next time; nil when the adversary cannot read the target's log (an MCP
    /// server's).
    func auditLog(since mark: AuditLogMark?) -> (entries: [AuditEvent], mark: AuditLogMark)?
}

/// A place in a target's audit log: which log (a reset starts another) and how many entries it held.
public struct AuditLogMark: Sendable, Hashable {
    public var generation: Int
    public var count: Int

    public init(generation: Int, count: Int) {
        self.generation = generation
        self.count = count
    }
}

extension FuzzTarget {
    public func coverage() -> [String] { [] }
    public func noteStateChanged() {}
    public var listedTools: [String] { [] }
    public var toolSchemas: [String: JSONValue] { [:] }
    public func learn(_ call: ToolCall) async throws -> (answer: JSONValue, accepted: Bool)? { nil }
    public var subjects: (own: String?, other: String?) { (nil, nil) }
    public func serverStarts() async -> Int? { nil }
    public func auditLog(since mark: AuditLogMark?) -> (entries: [AuditEvent], mark: AuditLogMark)? { nil }
}

/// What a target lets the adversary test.
public struct TargetCapabilities: Sendable {
    /// Per-tenant stages (off, shadow) exist.
    public var stages: Bool
    /// Executed writes can be rolled back.
    public var rollback: Bool
    /// Answers say which control refused (decision codes).
    public var decisionCodes: Bool
    /// A reset costs little, so every attack can start from fresh state (and findings can be shrunk).
    public var cheapReset: Bool

    public init(stages: Bool, rollback: Bool, decisionCodes: Bool, cheapReset: Bool) {
        self.stages = stages
        self.rollback = rollback
        self.decisionCodes = decisionCodes
        self.cheapReset = cheapReset
    }
}

/// The tenants an attack can use: the caller's own, another one whose rows it must never touch, and
/// (where the target has stages) one with the tool off and one in shadow.
public struct FuzzTenants: Sendable, Hashable {
    public var own: String
    public var other: String
    public var off: String?
    public var shadow: String?

    public init(own: String, other: String, off: String? = nil, shadow: String? = nil) {
        self.own = own
        self.other = other
        self.off = off
        self.shadow = shadow
    }

    public func name(_ role: TenantRole) -> String? {
        switch role {
        case .own: own
        case .other: other
        case .off: off
        case .shadow: shadow
        }
    }
}

/// Which of the fuzz tenants a call is made as.
public enum TenantRole: String, Sendable, Hashable, Codable {
    case own, other, off, shadow
}

/// How a target answered one call.
public struct CallOutcome: Sendable, Hashable {
    public enum Verdict: String, Sendable, Hashable {
        /// The write went through (or the target says it did).
        case accepted
        /// Queued for a person.
        case pending
        /// Validated and recorded, not executed (shadow stage, dry run).
        case notExecuted = "not_executed"
        /// Answered from an idempotency ledger.
        case replayed
        case refused
    }

    public var verdict: Verdict
    /// The decision code or the target's error code, when it says one.
    public var code: String?
    public var message: String
    /// The target's own answer, for evidence.
    public var raw: JSONValue
    /// The audit event, for targets that have one (rollback needs it).
    public var auditSeq: Int64?

    public init(verdict: Verdict, code: String?, message: String, raw: JSONValue = .null, auditSeq: Int64? = nil) {
        self.verdict = verdict
        self.code = code
        self.message = message
        self.raw = raw
        self.auditSeq = auditSeq
    }

    /// A short line for a report.
    public var summary: String {
        let head = code.map { "\(verdict.rawValue) (\($0))" } ?? verdict.rawValue
        return message.isEmpty ? head : "\(head): \(message)"
    }
}

/// The target broke in a way that is not an answer: it crashed, hung or spoke garbage.
public struct TargetFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
