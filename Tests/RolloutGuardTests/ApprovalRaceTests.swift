import Foundation
import RolloutCore
@testable import RolloutGuard
import RolloutStore
import RolloutTestSupport
import Testing

/// Two guards (two processes) over one store, each approving its own row of the approvals table, both rows
/// for the same pending event (a row copied by hand: the table is not chained). The second guard's run is
/// held at its lookup while the first one's runs whole, so both have passed the checks made before the write.
@Suite("approvals: a copy of an approval's row, approved while the first runs, writes nothing (helper-81)")
struct ApprovalRaceTests {
    /// An upstream that answers the order lookup and the write, counting writes; `duringLookup` runs once,
    /// inside the first lookup, before it is answered.
    final class HeldUpstream: Upstream, @unchecked Sendable {
        let backend = "upstream:tiny"
        let observer: (any StateReader)? = nil
        let lock = NSLock()
        var duringLookup: (@Sendable () async -> Void)?
        var writes = 0

        func call(_ call: ToolCall) async -> UpstreamOutcome {
            if call.tool == "get_order_details" {
                let hook = lock.withLock { () -> (@Sendable () async -> Void)? in
                    defer { duringLookup = nil }
                    return duringLookup
                }
                if let hook { await hook() }
                let order = #"{"parsed_content": {"user_id": "u-1", "status": "pending", "items": [], "payment_history": []}}"#
                return .accepted(result: ["content": [["type": "text", "text": .string(order)]]])
            }
            lock.withLock { writes += 1 }
            return .accepted(result: ["content": [["type": "text", "text": #"{"ok": true}"#]]])
        }
    }

    @Test("the second approval finds the pending event settled in the transaction that would forward it, and the upstream is written once")
    func copiedRowApprovedAtOnce() async throws {
        // tau2's cancellation, asked to wait for a person.
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/examples/tau2-retail/policy.yaml", encoding: .utf8)
        let policy = try Policy.parse(text.replacingOccurrences(of: "    before: order\n", with: "    before: order\n    approval: {when: {\"==\": [1, 1]}}\n"))
        #expect(policy.tool(named: "cancel_pending_order")?.approval != nil)
        let store = try TestStores.temporarySQLite()
        let first = HeldUpstream(), second = HeldUpstream()
        let hostA = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: store, policy: policy), upstream: first)
        let hostB = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: store, policy: policy), upstream: second)
        let call = ToolCall(tool: "cancel_pending_order", arguments: ["order_id": "#W0000001", "reason": "no longer needed",
                                                                      "justification": "the customer asked to cancel, ticket 12", "idempotency_key": "c-1"])
        let queued = try await hostA.decide(call, principal: Principal(tenant: "retail", actor: "agent-1", subject: "u-1"))
        #expect(queued.code == .pendingApproval, "\(queued.code): \(queued.message)")
        let id = try #require(queued.approvalId)
        let row = try #require(try store.approval(id: id))
        let copy = try StoreEnvironment(store: store, policy: policy).transaction { session in try session.ledger.enqueue(row) }

        // Host B approves the copy; while it reads the order, host A approves the original, start to end.
        let byA = LockedDecision()
        second.duringLookup = { byA.set(try? await hostA.approve(id, by: "maria.lopez", reason: "checked with the customer")) }
        let byB = try await hostB.approve(copy, by: "dev.patel", reason: "checked with the customer by mail")
        let a = try #require(byA.value)
        #expect(a.code == .executed, "\(a.code): \(a.message)")
        #expect(byB.code == .approvalRefused && byB.message.contains("was already decided"), "\(byB.code): \(byB.message)")
        #expect(first.writes + second.writes == 1, "the queued write was forwarded \(first.writes + second.writes) times")
        #expect(try store.verify().ok)
    }
}

/// A decision set from another task.
final class LockedDecision: @unchecked Sendable {
    private let lock = NSLock()
    private var decision: Decision?
    var value: Decision? { lock.withLock { decision } }
    func set(_ value: Decision?) { lock.withLock { decision = value } }
}
