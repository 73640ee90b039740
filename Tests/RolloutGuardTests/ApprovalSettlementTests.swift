import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A log after an approval's pending event (seq 1), and whether it has settled the approval.
struct SettlementCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// Events appended after the pending event, in order.
    var events: [AuditEvent]
    /// Which of them settled it (an index into `events`), or nil when the approval is still open.
    var settledBy: Int?
    var testDescription: String { name }
}

@Suite("Approvals: the chained log says whether an approval was settled, whatever its table row says")
struct ApprovalSettlementTests {
    static let start = Timestamp.parse("2026-11-02T09:00:00Z")!
    static let call = ToolCall(tool: "refunds.issue", arguments: ["order_id": 2, "amount_cents": 60000, "reason": "parcel lost", "request_id": "r-1"])

    /// An event about approval `id` of pending event `pendingSeq` (nil: an older event that names none).
    static func event(_ decision: DecisionCode, pendingSeq: Int64? = 1, id: Int64 = 1, status: PendingApproval.Status? = nil,
                      tenant: String = "acme", imported: Bool = false, digest: String? = call.argumentsDigest, minutes: Double = 1) -> AuditEvent {
        var details: [String: JSONValue] = ["approval_id": .number(Double(id))]
        if let pendingSeq { details["pending_seq"] = .number(Double(pendingSeq)) }
        if let status { details["approval_status"] = .string(status.rawValue) }
        if imported { details["imported"] = "events.jsonl" }
        if let digest { details["args_digest"] = .string(digest) }
        return AuditEvent(ts: start.addingTimeInterval(minutes * 60), tenant: tenant, actor: "agent-1", tool: "refunds.issue",
                          decision: decision.rawValue, approver: "dev.patel", backend: GuardBackend.builtin, details: details)
    }

    static let cases: [SettlementCase] = [
        SettlementCase(name: "executed", events: [event(.executed)], settledBy: 0),
        SettlementCase(name: "denied", events: [event(.approvalDenied, status: .denied)], settledBy: 0),
        SettlementCase(name: "a four-eyes refusal leaves it open", events: [event(.approvalRefused)], settledBy: nil),
        SettlementCase(name: "a refusal that decides it", events: [event(.approvalRefused, status: .refused)], settledBy: 0),
        SettlementCase(name: "an approved write that never reached its upstream is open again",
                       events: [event(.intent), event(.backendError, status: .pending)], settledBy: nil),
        SettlementCase(name: "then approved again and done",
                       events: [event(.intent), event(.backendError, status: .pending), event(.intent), event(.executed)], settledBy: 3),
        SettlementCase(name: "in doubt", events: [event(.intent), event(.inDoubt)], settledBy: 1),
        SettlementCase(name: "an imported line settles nothing", events: [event(.approvalDenied, status: .denied, imported: true)], settledBy: nil),
        SettlementCase(name: "another pending event's decision", events: [event(.executed, pendingSeq: 7, id: 1)], settledBy: nil),
        SettlementCase(name: "another tenant's", events: [event(.executed, tenant: "globex")], settledBy: nil),
        SettlementCase(name: "an older event of a copied row (approval_id of the original, same request)",
                       events: [event(.executed, pendingSeq: nil, id: 1)], settledBy: 0),
        SettlementCase(name: "an older event of another request", events: [event(.executed, pendingSeq: nil, id: 5, digest: "sha256:other")], settledBy: nil),
        SettlementCase(name: "written by a host whose clock is behind", events: [event(.executed, minutes: -30)], settledBy: 0),
    ]

    @Test("the latest event naming the approval's pending event says where it stands", arguments: cases)
    func settlement(_ test: SettlementCase) throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let environment = InMemoryEnvironment()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
        // Approval 2 asks to run the same request, queued as pending event 1 (a copy when the log names approval 1).
        let approval = PendingApproval(id: 2, createdAt: Self.start, expiresAt: Self.start.addingTimeInterval(3600), tenant: "acme",
                                       actor: "agent-1", session: nil, tool: "refunds.issue", call: Self.call, pendingSeq: 1)
        let settled = try environment.transaction { session -> Int64? in
            var pending = AuditEvent(ts: Self.start, tenant: "acme", actor: "agent-1", tool: "refunds.issue", decision: DecisionCode.pendingApproval.rawValue,
                                     backend: GuardBackend.builtin, details: ["args_digest": .string(Self.call.argumentsDigest)])
            pending = try session.ledger.append(pending)
            for event in test.events { _ = try session.ledger.append(event) }
            let later = try session.ledger.checkedEvents(after: pending.seq, .namingAnApprover(tenant: "acme"), resuming: nil)
            return guard_.settlement(of: approval, pending: pending, among: later.events)?.seq
        }
        #expect(settled == test.settledBy.map { Int64($0 + 2) })
    }
}
