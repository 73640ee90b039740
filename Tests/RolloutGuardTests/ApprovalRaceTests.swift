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

/// A key's answer from an upstream, edited in the unchained idempotency table, is not replayed (helper-82).
@Suite("idempotency: an upstream's answer replayed only as the chain's event holds it")
struct ReplayedUpstreamAnswerTests {
    @Test("a retry of a write the upstream ran is replayed as it was answered; with the upstream's answer edited in the ledger, it is in doubt",
          arguments: [false, true])
    func editedUpstreamAnswer(edited: Bool) async throws {
        let policy = try Policy.load(path: TestPaths.exampleFolder + "/examples/tau2-retail/policy.yaml")
        let path = TestPaths.scratchFile("rollout") + ".sqlite"
        let store = try AuditStore(path: path)
        let upstream = ApprovalRaceTests.HeldUpstream()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: store, policy: policy), upstream: upstream)
        let call = ToolCall(tool: "cancel_pending_order", arguments: ["order_id": "#W0000001", "reason": "no longer needed",
                                                                      "justification": "the customer asked to cancel, ticket 12", "idempotency_key": "c-1"])
        let principal = Principal(tenant: "retail", actor: "agent-1", subject: "u-1")
        let first = try await guard_.decide(call, principal: principal)
        #expect(first.code == .executed, "\(first.code): \(first.message)")
        if edited {
            try TestStores.edit(path, #"UPDATE idempotency SET result = json_set(result, '$.upstream', json('{"isError": true, "content": [{"type": "text", "text": "Error: nothing was changed"}]}'))"#)
        }
        let retry = try await guard_.decide(call, principal: principal)
        #expect(retry.code == (edited ? .inDoubt : .replayed), "\(retry.code): \(retry.message)")
        #expect(upstream.writes == 1)
    }
}

/// What a replay checks of its entry against the chain, on events a guard wrote before and after the upstream's digest.
@Suite("idempotency: a replay's entry against its event")
struct ReplayCheckTests {
    static let answer: JSONValue = ["content": [["type": "text", "text": "done"]], "isError": false]

    @Test("an event without the upstream's digest (an earlier rollout's) is replayed when the rest matches; with one, only the answer it holds",
          arguments: [(nil as String?, true), ("wrong", false), ("right", true)])
    func digestOrNone(_ digest: String?, _ replayed: Bool) throws {
        let environment = InMemoryEnvironment()
        let redactor = Redactor()
        let matches = try environment.transaction { session in
            var event = AuditEvent(ts: Date(), tenant: "acme", actor: "agent-1", tool: "orders.update", decision: "executed")
            event.idempotencyKey = "k-1"
            if let digest { event.details["upstream_digest"] = .string(digest == "right" ? redactor.keyedDigest(Self.answer.canonicalBytes) : digest) }
            let stored = try session.ledger.append(event)
            let entry = IdempotencyEntry(tenant: "acme", key: "k-1", tool: "orders.update", binding: "", auditSeq: stored.seq, decision: .executed,
                                         result: ["ok": true, "decision": "executed", "audit_id": .number(Double(stored.seq)), "upstream": Self.answer],
                                         createdAt: Date(), backend: "upstream:tiny")
            return try StandardSteps.replayMatchesChain(entry, session: session, redactor: redactor)
        }
        #expect(matches == replayed)
    }
}

/// A decision set from another task.
final class LockedDecision: @unchecked Sendable {
    private let lock = NSLock()
    private var decision: Decision?
    var value: Decision? { lock.withLock { decision } }
    func set(_ value: Decision?) { lock.withLock { decision = value } }
}
