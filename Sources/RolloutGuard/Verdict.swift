import Foundation
import RolloutCore

/// What the pipeline's checks concluded about a call, before anything is recorded.
public enum Verdict: Sendable {
    case refuse(DecisionCode, String)
    /// The idempotency key was seen with the same effect: answer from the ledger.
    case replay(IdempotencyEntry)
    /// The key's first call was forwarded and its outcome is unknown: never run it again.
    case inDoubt(IdempotencyEntry)
    case dryRun(WritePlan)
    /// Queued for a person; the rule that asked, when a named rule did.
    case pending(WritePlan, rule: ToolRule?)
    case execute(WritePlan)

    public var code: DecisionCode {
        switch self {
        case .refuse(let code, _): code
        case .replay: .replayed
        case .inDoubt: .inDoubt
        case .dryRun: .dryRun
        case .pending: .pendingApproval
        case .execute: .executed
        }
    }
}

/// A write the guard has checked: the request, the rows as they are now, and the change it makes.
public struct WritePlan: Sendable {
    public var request: WriteRequest
    public var model: ModelPolicy
    /// Current values of each target row, aligned with `request.targets`; empty for a create.
    public var rows: [[String: JSONValue]]
    /// Before and after of every field the write sets, per row.
    public var changes: [RowChange]
    /// Whether `rows` are the real rows (false: before values unknown).
    public var observed: Bool
    /// What the lookups read, by name.
    public var lookups: [String: JSONValue]
}

/// Whether a decision may change anything.
public enum EvaluationMode: Sendable {
    /// Every step, with its side effects.
    case live
    /// Every step, read-only: a shadow-stage call, validated and audited, never executed.
    case shadow
    /// An approved request being run: no approval step, no new cap or idempotency entry.
    case approved
}
