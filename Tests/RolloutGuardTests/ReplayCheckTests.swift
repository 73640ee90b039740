import Foundation
import RolloutCore
@testable import RolloutGuard
import RolloutStore
import RolloutTestSupport
import Testing

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
