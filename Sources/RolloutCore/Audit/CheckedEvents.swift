/// Which later events a decision about an earlier one needs: the approval or run that may have settled a
/// queued write, or a later write to the rows a rollback would restore. Picked by the columns the hash
/// covers (each checked against its hashed body first, see `CheckedEvents`), never by a column alone.
public enum EventPick: Sendable, Hashable {
    /// The tenant's events that name an approver: what approvals, denials and approved runs record.
    case namingAnApprover(tenant: String)
    /// The tenant's events on `model` with one of `decisions`.
    case writes(tenant: String, model: String, decisions: [String])

    public var tenant: String {
        switch self {
        case .namingAnApprover(let tenant), .writes(let tenant, _, _): tenant
        }
    }

    /// Whether `event` is one this pick wants.
    public func picks(_ event: AuditEvent) -> Bool {
        picks(tenant: event.tenant, model: event.model, decision: event.decision, namesApprover: event.approver != nil)
    }

    /// The same test on an event's column values.
    public func picks(tenant: String, model: String?, decision: String, namesApprover: Bool) -> Bool {
        guard tenant == self.tenant else { return false }
        switch self {
        case .namingAnApprover: return namesApprover
        case .writes(_, let wanted, let decisions): return model == wanted && decisions.contains(decision)
        }
    }
}

/// The events after one event that a pick selected, read only from a log shown intact from that event to
/// its head: every row's hash recomputed, its link to the row before, every column checked against the
/// hashed body, and with the chain key each signature, as `audit verify` checks them. A column edited to
/// hide an event (its tenant or approver set to another value, its decision renamed) or an event deleted
/// makes `problem` say so, and a decision that needs the events refuses rather than reading a log that
/// may have been made to say nothing.
public struct CheckedEvents: Sendable {
    /// The event the stretch starts at, and the pick.
    public var after: Int64
    public var pick: EventPick
    /// The picked events after the first, oldest first; empty when `problem` is set.
    public var events: [AuditEvent]
    /// Where the stretch does not hold, or nil.
    public var problem: String?
    /// The last event checked and its hash: where a later check of the same stretch may resume (a long
    /// stretch is walked before a write transaction, and only what was appended since, inside it).
    public var through: (seq: Int64, hash: String)?

    public init(after: Int64, pick: EventPick, events: [AuditEvent], problem: String? = nil, through: (seq: Int64, hash: String)? = nil) {
        self.after = after
        self.pick = pick
        self.events = events
        self.problem = problem
        self.through = through
    }

    /// Whether a check of the stretch after `seq` for `pick` may resume from this one.
    public func resumes(after seq: Int64, _ pick: EventPick) -> Bool {
        problem == nil && through != nil && after == seq && self.pick == pick
    }
}
