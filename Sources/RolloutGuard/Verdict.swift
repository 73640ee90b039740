import Foundation
import RolloutCore

/// What steps 3 to 11 of the pipeline concluded about a call, before anything is recorded.
enum Verdict {
    case refuse(DecisionCode, String)
    /// The idempotency key was seen with the same effect: answer from the ledger.
    case replay(IdempotencyEntry)
    case dryRun(WritePlan)
    case pending(WritePlan)
    case execute(WritePlan)

    var code: DecisionCode {
        switch self {
        case .refuse(let code, _): code
        case .replay: .replayed
        case .dryRun: .dryRun
        case .pending: .pendingApproval
        case .execute: .executed
        }
    }
}

/// A write the guard has checked: the request, the rows as they are now, and the change it makes.
struct WritePlan {
    var request: WriteRequest
    var model: ModelPolicy
    /// Current values of each target row, aligned with `request.targets`; empty for a create.
    var rows: [[String: JSONValue]]
    /// Before and after of every field the write sets, per row.
    var changes: [RowChange]
    /// Whether `rows` are the real rows (false: before values unknown).
    var observed: Bool = true
}

/// Whether a decision may change anything.
enum EvaluationMode {
    /// Steps 3 to 12, with their side effects.
    case live
    /// Steps 3 to 11 read-only: a shadow-stage call, validated and audited, never executed.
    case shadow
    /// An approved request being run: no approval step, no new cap or idempotency entry.
    case approved
}
