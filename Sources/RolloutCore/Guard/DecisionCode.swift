/// The outcome of one guard decision, as recorded in the audit log's `decision` column. Refusals name
/// the first control that said no, in the pipeline's order.
public enum DecisionCode: String, Sendable, Hashable, CaseIterable, Codable {
    // The call went through, or was answered without running.
    case executed
    case shadowed
    case replayed
    case dryRun = "dry_run"
    case pendingApproval = "pending_approval"

    /// A proxied write was handed to the upstream (the first of its two events); its outcome follows.
    case intent

    // Refusals, in pipeline order.
    case toolUnknown = "tool_unknown"
    /// The upstream lists the tool, but the policy describes it neither as a write nor as a read.
    case toolUndescribed = "tool_undescribed"
    case toolDisabled = "tool_disabled"
    case invalidArguments = "invalid_arguments"
    /// An argument the tool's `bind` and `args` do not declare.
    case argumentUnbound = "argument_unbound"
    /// The call names a user other than the subject the host gave (or the host gave none).
    case principalMismatch = "principal_mismatch"
    /// A read of current state the decision needs (a `lookups:` entry) failed.
    case lookupFailed = "lookup_failed"
    case reasonRequired = "reason_required"
    case idempotencyKeyRequired = "idempotency_key_required"
    case idempotencyConflict = "idempotency_conflict"
    case crossTenant = "cross_tenant"
    case notFound = "not_found"
    case fieldNotWritable = "field_not_writable"
    case invalidValue = "invalid_value"
    /// One of the tool's `rules:` with `decision: refuse` holds.
    case ruleRefused = "rule_refused"
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
    /// The upstream answered that it did not do the write.
    case upstreamRefused = "upstream_refused"
    /// The upstream took the call but did not answer in time (or the answer was lost): the write may
    /// have happened. Its idempotency key is never executed again.
    case inDoubt = "in_doubt"
    /// The upstream changed something other than what was asked (seen through `--observe`).
    case upstreamMismatch = "upstream_mismatch"

    /// Whether the decision refused the call.
    public var isRefusal: Bool {
        switch self {
        case .executed, .shadowed, .replayed, .dryRun, .pendingApproval, .rolledBack, .intent: false
        default: true
        }
    }

    /// Whether state changed.
    public var changedState: Bool { self == .executed || self == .rolledBack || self == .upstreamMismatch }
}

/// How the scorer and reports group any decision string, ours or an imported system's.
public enum DecisionCategory: String, Sendable, Hashable, CaseIterable {
    case executed, refused, pending, shadowed, replayed, dryRun = "dry_run", rolledBack = "rolled_back"
    /// Logged without its outcome (OrmAI's audit store, for one).
    case attempted
    /// The first half of a proxied write; its outcome is another event, so counts skip it.
    case intent
    case other

    public init(decision: String) {
        if let code = DecisionCode(rawValue: decision) {
            switch code {
            case .executed, .upstreamMismatch: self = .executed
            case .intent: self = .intent
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
