import Foundation
import RolloutCore
import RolloutGuard
import RolloutMCP
import RolloutStore

/// Where a person's decision on a queued write runs: the write's own backend (its upstream from
/// upstreams.yaml, or the demo domain), through the guard, so four-eyes, expiry and the request binding
/// hold exactly as on the command line. Used by the pages, Slack and webhooks alike.
public struct ApprovalDesk: Sendable {
    public let folder: RolloutFolder
    public let store: AuditStore
    let log: @Sendable (String) -> Void
    /// Each decision runs a guard of its own; this runs them one at a time and holds what one of them
    /// learned for all that follow.
    let turns = DeskTurns()

    public init(folder: RolloutFolder, store: AuditStore, log: @escaping @Sendable (String) -> Void) {
        self.folder = folder
        self.store = store
        self.log = log
    }

    public func approve(_ id: Int64, by approver: String, note: String) async throws -> Decision {
        try await writing { try await BackendRun.approve(id, by: approver, reason: note, folder: folder, store: store, log: log) }
    }

    /// A denial writes nothing to a backend: it runs while the desk is halted too.
    public func deny(_ id: Int64, by approver: String, note: String) async throws -> Decision {
        try await BackendRun.deny(id, by: approver, reason: note, folder: folder, store: store)
    }

    public func rollback(_ seq: Int64, by person: String, note: String) async throws -> Decision {
        try await writing { try await BackendRun.rollback(seq, by: person, reason: note, folder: folder, store: store, log: log) }
    }

    /// Runs a decision that may write to a backend. A write that reached its upstream with its outcome not
    /// recorded stops a guard taking writes; serve runs a guard per decision, so the desk stops too: every
    /// later approval and rollback is refused (`GuardError.halted`) until serve is restarted with a store
    /// that records, as the guard's own message says.
    func writing(_ run: @escaping @Sendable () async throws -> Decision) async throws -> Decision {
        let turns = turns, log = log
        return try await turns.take {
            if let reason = await turns.haltReason { throw GuardError.halted(reason) }
            do {
                return try await run()
            } catch let error as GuardError {
                switch error {
                case .outcomeNotRecorded, .halted:
                    await turns.halt("\(error)")
                    log("serve: no more approvals or rollbacks until serve is restarted: \(error)")
                default: break
                }
                throw error
            }
        }
    }

    /// Why a person decides this write, in words: the rule that queued it and its message, or the
    /// tool's approval condition.
    static func why(_ pending: AuditEvent?) -> String {
        if let rule = pending?.details["approval_rule"]?.stringValue {
            return "\(rule): \(pending?.details["approval_message"]?.stringValue ?? "")"
        }
        return pending?.message ?? "the tool's approval condition (approval.when) holds"
    }
}
