import Foundation
import RolloutCore

/// What the audit chain says of an idempotency key, read from the events that recorded it: whether a
/// write ran, or may have run, under it. The ledger row and these events commit in one transaction, so
/// on a store nobody edited they agree; the ledger is not chained, though, and a key whose row was
/// deleted (or re-keyed) by hand must not be taken as free: a retry of it would write twice.
enum IdempotencyChain {
    /// The event that holds the key (the latest whose decision saved it in the ledger, not released
    /// since), or nil when the key is free. `events` are the key's events of one tenant, oldest first. An
    /// event whose row does not hold (nil) holds the key: what it said cannot be read, so nothing says
    /// the key is free. An unknown decision (a newer rollout's) holds it too. Imported lines are another
    /// system's record, not a guard's: they neither hold nor release it.
    static func holder(_ events: [(seq: Int64, event: AuditEvent?)]) -> Int64? {
        var held: (seq: Int64, byIntent: Bool)?
        for (seq, event) in events {
            guard let event else {
                held = (seq, false)
                continue
            }
            if event.details["imported"] != nil { continue }
            guard let code = DecisionCode(rawValue: event.decision) else {
                held = (seq, false)
                continue
            }
            switch code {
            case .intent:
                held = (seq, true)
            case .backendError:
                if event.details["in_doubt"] == .bool(true) {
                    held = (seq, false)
                } else if event.details["in_doubt"] == .bool(false), held?.byIntent == true, event.details["approval_status"] == nil {
                    // Its intent never reached the upstream: the guard released the key (a queued request's
                    // key stays with the approval, which says so with `approval_status`).
                    held = nil
                }
            case .executed, .pendingApproval, .inDoubt, .upstreamRefused, .upstreamMismatch, .approvalDenied, .approvalExpired, .approvalRefused,
                 .rolledBack, .rollbackRefused:
                held = (seq, false)
            case .shadowed, .replayed, .dryRun, .toolUnknown, .toolUndescribed, .toolDisabled, .invalidArguments, .argumentUnbound,
                 .principalMismatch, .lookupFailed, .reasonRequired, .idempotencyKeyRequired, .idempotencyConflict, .crossTenant, .notFound,
                 .fieldNotWritable, .invalidValue, .ruleRefused, .capExceeded, .dryRunRequired, .tooManyRows:
                // Answered before any write: the ledger never kept the key for it.
                continue
            }
        }
        return held?.seq
    }
}
