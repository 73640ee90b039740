import Foundation
import RolloutCore

/// What the audit chain says of an idempotency key, read from the events that recorded it: whether a
/// write ran, or may have run, under it. The ledger row and these events commit in one transaction, so
/// on a store nobody edited they agree; the ledger is not chained, though, and a key whose row was
/// deleted (or re-keyed) by hand must not be taken as free: a retry of it would write twice.
enum IdempotencyChain {
    /// Decisions that answered a call before any write and never kept its key in the ledger: the store
    /// leaves their events out of the walk (its index holds the decision), so an agent's refused retries
    /// cost nothing here.
    static let neverHolding: [DecisionCode] = [
        .shadowed, .replayed, .dryRun, .toolUnknown, .toolUndescribed, .toolDisabled, .invalidArguments, .argumentUnbound,
        .principalMismatch, .lookupFailed, .reasonRequired, .idempotencyKeyRequired, .idempotencyConflict, .crossTenant, .notFound,
        .fieldNotWritable, .invalidValue, .ruleRefused, .capExceeded, .dryRunRequired, .tooManyRows,
    ]

    /// How one event bears on the key, walking forward.
    enum Effect: Equatable {
        /// It takes the key (`byIntent`: a write handed to its upstream, whose outcome may release it).
        case holds(byIntent: Bool)
        /// Its intent never reached the upstream: the guard released the key, if an intent held it.
        case releases
        /// Nothing (an imported line, the built-in domain's error in a transaction rolled back).
        case none
    }

    /// An event whose row does not hold (nil) takes the key: what it said cannot be read, so nothing says
    /// the key is free. So does an unknown decision (a newer rollout's). Imported lines are another
    /// system's record, not a guard's: they neither take nor release it.
    static func effect(_ event: AuditEvent?) -> Effect {
        guard let event else { return .holds(byIntent: false) }
        if event.details["imported"] != nil { return .none }
        guard let code = DecisionCode(rawValue: event.decision) else { return .holds(byIntent: false) }
        // An answer read from the ledger (a retry told its key is in doubt) is no write of its own: another
        // guard's answer made while the write was at its upstream must not outlive the write's release.
        if code == .inDoubt, event.details["in_doubt_of"] != nil { return .none }
        switch code {
        case .intent:
            return .holds(byIntent: true)
        case .backendError:
            if event.details["in_doubt"] == .bool(true) { return .holds(byIntent: false) }
            // A queued request's key stays with its approval, which says so with `approval_status`.
            if event.details["in_doubt"] == .bool(false), event.details["approval_status"] == nil { return .releases }
            return .none
        default:
            return neverHolding.contains(code) ? .none : .holds(byIntent: false)
        }
    }

    /// The event that holds the key, or nil when it is free: `newestFirst` are the key's events of one
    /// tenant, newest first, read lazily. Walking forward, a release frees the key only when an intent
    /// held it just before; so walking back, the first event that matters decides, and a release is
    /// settled by the one that matters before it: two or three events read for any key.
    static func holder<Events: Sequence>(newestFirst: Events) -> Int64? where Events.Element == (seq: Int64, event: AuditEvent?) {
        var pendingRelease = false
        for (seq, event) in newestFirst {
            switch effect(event) {
            case .none:
                continue
            case .holds(let byIntent):
                // An intent just before a release: released. Anything else that holds, holds.
                if pendingRelease && byIntent { return nil }
                return seq
            case .releases:
                // Free if an intent held the key before it; else it changed nothing, and what came
                // before decides (another release, again settled by what precedes it).
                pendingRelease = true
            }
        }
        return nil
    }

    /// The decisions of a key's events that say its write was done, or may have been (`keyWrittenAfter`).
    static let writes: Set<String> = Set([DecisionCode.executed, .upstreamMismatch, .intent, .inDoubt].map(\.rawValue))

    /// Whether `event`, one of a key's, writes under it (an in-doubt answer to a retry, `in_doubt_of`, does not).
    static func writesUnderKey(_ event: AuditEvent) -> Bool {
        if event.isImported { return false }
        if event.decision == DecisionCode.backendError.rawValue { return event.details["in_doubt"] == .bool(true) }
        return writes.contains(event.decision) && event.details["in_doubt_of"] == nil
    }
}
