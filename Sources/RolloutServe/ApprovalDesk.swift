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

    public init(folder: RolloutFolder, store: AuditStore, log: @escaping @Sendable (String) -> Void) {
        self.folder = folder
        self.store = store
        self.log = log
    }

    public func approve(_ id: Int64, by approver: String, note: String) async throws -> Decision {
        try await BackendRun.approve(id, by: approver, reason: note, folder: folder, store: store, log: log)
    }

    public func deny(_ id: Int64, by approver: String, note: String) async throws -> Decision {
        try await BackendRun.deny(id, by: approver, reason: note, folder: folder, store: store)
    }

    public func rollback(_ seq: Int64, by person: String, note: String) async throws -> Decision {
        try await BackendRun.rollback(seq, by: person, reason: note, folder: folder, store: store, log: log)
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
