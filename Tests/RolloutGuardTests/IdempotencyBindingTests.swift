import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A second call with the first call's key, and what the guard must answer.
struct KeyReuseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var args: JSONValue
    var principal: Principal
    var decision: DecisionCode
    var testDescription: String { "\(name) → \(decision.rawValue)" }
}

@Suite("An idempotency key answers only the call that used it: the same write, arguments, actor and subject (review 29)")
struct IdempotencyBindingTests {
    static let alice = Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "alice")

    static let cases: [KeyReuseCase] = [
        KeyReuseCase(name: "the same call again (a retry)", args: orderUpdate(key: "ship-1"), principal: alice, decision: .replayed),
        KeyReuseCase(name: "the same call in another session of the same agent", args: orderUpdate(key: "ship-1"),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-2", subject: "alice"), decision: .replayed),
        KeyReuseCase(name: "the same call for another subject", args: orderUpdate(key: "ship-1"),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"), decision: .idempotencyConflict),
        KeyReuseCase(name: "the same call for no subject", args: orderUpdate(key: "ship-1"),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1"), decision: .idempotencyConflict),
        KeyReuseCase(name: "the same call from another actor", args: orderUpdate(key: "ship-1"),
                     principal: Principal(tenant: "acme", actor: "agent-2", session: "s-1", subject: "alice"), decision: .idempotencyConflict),
        KeyReuseCase(name: "the same write with another reason", args: orderUpdate(reason: "customer phoned to confirm", key: "ship-1"),
                     principal: alice, decision: .idempotencyConflict),
        KeyReuseCase(name: "another write", args: orderUpdate(id: 2, key: "ship-1"), principal: alice, decision: .idempotencyConflict),
    ]

    @Test("each reuse", arguments: cases)
    func reuse(_ test: KeyReuseCase) async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: Self.alice)
        #expect(first.code == .executed, "\(first.message)")
        let second = try await fixture.call("orders.update", test.args, as: test.principal)
        #expect(second.code == test.decision, "\(second.message)")
        if test.decision == .idempotencyConflict {
            // Refused: not the first call's answer, and audited as the refusal it is.
            #expect(second.result["decision"] == "idempotency_conflict")
            #expect(try fixture.lastEvent().decision == "idempotency_conflict")
        }
        #expect(try fixture.store.verify().ok)
    }

    @Test("a queued write's key, retried by its own caller after approval, gets the final answer; by another subject, a conflict")
    func approvedKey() async throws {
        let fixture = try GuardFixture()
        let args = orderUpdate(data: ["status": "refunded"], key: "refund-1")
        let pending = try await fixture.call("orders.update", args, as: Self.alice)
        let id = try #require(pending.approvalId)
        _ = try await fixture.guard_.approve(id, by: "maria.lopez", reason: "checked the return")
        let retry = try await fixture.call("orders.update", args, as: Self.alice)
        #expect(retry.code == .replayed && retry.result["decision"] == "executed")
        let other = try await fixture.call("orders.update", args, as: Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"))
        #expect(other.code == .idempotencyConflict)
    }
}
