/// The outcome of one guard decision, as recorded in the audit log's `decision` column. Refusals name
/// the first control that said no, in the pipeline's order.
public enum DecisionCode: String, Sendable, Hashable, CaseIterable, Codable {
    // The call went through, or was answered without running.
    case executed
    case shadowed
    case replayed
    case dryRun = "dry_run"
    case pendingApproval = "pending_approval"

    // Refusals, in pipeline order.
    case toolUnknown = "tool_unknown"
    case toolDisabled = "tool_disabled"
    case invalidArguments = "invalid_arguments"
    case reasonRequired = "reason_required"
    case idempotencyKeyRequired = "idempotency_key_required"
    case idempotencyConflict = "idempotency_conflict"
    case crossTenant = "cross_tenant"
    case notFound = "not_found"
    case fieldNotWritable = "field_not_writable"
    case invalidValue = "invalid_value"
    case capExceeded = "cap_exceeded"
    case dryRunRequired = "dry_run_required"
    case tooManyRows = "too_many_rows"

    // What happens to a queued write and to executed ones later.
    case approvalDenied = "approval_denied"
    case approvalExpired = "approval_expired"
    case approvalRefused = "approval_refused"
    case rolledBack = "rolled_back"
    case rollbackRefused = "rollback_refused"
    case backendError = "backend_error"

    /// Whether the decision refused the call.
    public var isRefusal: Bool {
        switch self {
        case .executed, .shadowed, .replayed, .dryRun, .pendingApproval, .rolledBack: false
        default: true
        }
    }

    /// Whether state changed.
    public var changedState: Bool { self == .executed || self == .rolledBack }
}

/// How the scorer and reports group any decision string, ours or an imported system's.
public enum DecisionCategory: String, Sendable, Hashable, CaseIterable {
    case executed, refused, pending, shadowed, replayed, dryRun = "dry_run", rolledBack = "rolled_back"
    /// Logged without its outcome (OrmAI's audit store, for one).
    case attempted
    case other

    public init(decision: String) {
        if let code = DecisionCode(rawValue: decision) {
            switch code {
            case .executed: self = .executed
            case .shadowed: self = .shadowed
            case .replayed: self = .replayed
            case .dryRun: self = .dryRun
            case .pendingApproval: self = .pending
            case .rolledBack: self = .rolledBack
            default: self = .refused
            }
            return
        }
        switch decision.lowercased() {
        case "allowed", "allow", "ok", "success", "succeeded", "applied", "approved": self = .executed
        case "denied", "deny", "refused", "rejected", "blocked", "error", "failed": self = .refused
        case "pending", "pending_approval", "queued": self = .pending
        case "attempted", "requested", "called": self = .attempted
        default:
            // Other systems' refusal codes: MODEL_NOT_ALLOWED, MAX_AFFECTED_ROWS_EXCEEDED, FIELD_DENIED...
            let lower = decision.lowercased()
            let refusalWords = ["denied", "deny", "not_allowed", "forbidden", "exceeded", "required", "invalid", "refused", "rejected", "blocked", "unauthorized", "violation", "error", "failed"]
            self = refusalWords.contains(where: lower.contains) ? .refused : .other
        }
    }
}
