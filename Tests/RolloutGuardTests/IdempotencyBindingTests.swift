import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A call that follows an earlier one (a second call under its key, the real call after a dry run), who
/// makes it, and what the guard must answer.
struct FollowingCallCase: Sendable, CustomTestStringConvertible {
    var name: String
    var args: JSONValue
    var principal: Principal
    var decision: DecisionCode
    var testDescription: String { "\(name) → \(decision.rawValue)" }
}

@Suite("An idempotency key answers only the call that used it: the same write, arguments, actor and subject (review 29)")
struct IdempotencyBindingTests {
    static let alice = Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "alice")

    static let cases: [FollowingCallCase] = [
        FollowingCallCase(name: "the same call again (a retry)", args: orderUpdate(key: "ship-1", notify: false), principal: alice, decision: .replayed),
        FollowingCallCase(name: "the same call in another session of the same agent", args: orderUpdate(key: "ship-1", notify: false),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-2", subject: "alice"), decision: .replayed),
        FollowingCallCase(name: "the same call for another subject", args: orderUpdate(key: "ship-1", notify: false),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"), decision: .idempotencyConflict),
        FollowingCallCase(name: "the same call for no subject", args: orderUpdate(key: "ship-1", notify: false),
                     principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1"), decision: .idempotencyConflict),
        FollowingCallCase(name: "the same call from another actor", args: orderUpdate(key: "ship-1", notify: false),
                     principal: Principal(tenant: "acme", actor: "agent-2", session: "s-1", subject: "alice"), decision: .idempotencyConflict),
        FollowingCallCase(name: "the same call with its reason worded anew (a retry)", args: orderUpdate(reason: "customer phoned to confirm", key: "ship-1", notify: false),
                     principal: alice, decision: .replayed),
        FollowingCallCase(name: "the same write with another declared argument", args: orderUpdate(key: "ship-1", notify: true),
                     principal: alice, decision: .idempotencyConflict),
        FollowingCallCase(name: "another write", args: orderUpdate(id: 2, key: "ship-1", notify: false), principal: alice, decision: .idempotencyConflict),
    ]

    /// The example policy, its orders.update given an argument of its own (`args:`) that the write's
    /// effect does not cover.
    static func policy() throws -> Policy {
        var policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let index = try #require(policy.tools.firstIndex { $0.name == "orders.update" })
        policy.tools[index].arguments = [FieldRule(name: "notify_customer", type: .boolean)]
        return policy
    }

    @Test("each reuse", arguments: cases)
    func reuse(_ test: FollowingCallCase) async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        let first = try await fixture.call("orders.update", orderUpdate(key: "ship-1", notify: false), as: Self.alice)
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

    @Test("a key used on one backend is a conflict on another that shares the store: its answer would say a write happened where it never ran (review 32)")
    func keyOnAnotherBackend() async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        let first = try await fixture.call("orders.update", orderUpdate(key: "ship-1", notify: false), as: Self.alice)
        #expect(first.code == .executed)
        // Another guard on the same store, writing to an upstream (never reached: the key is judged first).
        let elsewhere = Guard(policy: fixture.policy, stages: TenantStages(stages: ["acme": .broad]), environment: fixture.environment,
                              upstream: PlacedUpstream(["command": "[\"python3\",\"prod.py\"]"]), clock: fixture.clock)
        let retry = try await elsewhere.decide(ToolCall(tool: "orders.update", arguments: orderUpdate(key: "ship-1", notify: false)), principal: Self.alice)
        #expect(retry.code == .idempotencyConflict, "\(retry.message)")
        #expect(retry.message.contains("on another backend"))
        // On its own backend the same retry is still answered.
        #expect(try await fixture.call("orders.update", orderUpdate(key: "ship-1", notify: false), as: Self.alice).code == .replayed)
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

    /// Replaces the ledger's row for `key` (as a crash, or an older rollout, left it).
    static func rewrite(_ fixture: GuardFixture, key: String, _ change: (inout IdempotencyEntry) -> Void) throws {
        try fixture.environment.transaction { session in
            var entry = try #require(try session.ledger.idempotency(tenant: "acme", key: key))
            change(&entry)
            try session.ledger.releaseIdempotency(tenant: "acme", key: key)
            try session.ledger.saveIdempotency(entry)
        }
    }

    @Test("a key whose write may have happened answers in_doubt to every call with it, worded anew or from another caller, and never tells it to take a new key for the same write",
          arguments: [("the same call", orderUpdate(key: "ship-1"), alice),
                      ("its reason worded anew", orderUpdate(reason: "customer phoned to confirm", key: "ship-1"), alice),
                      ("another subject", orderUpdate(key: "ship-1"), Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"))])
    func unsettledKey(_ name: String, _ args: JSONValue, _ principal: Principal) async throws {
        let fixture = try GuardFixture()
        _ = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: Self.alice)
        try Self.rewrite(fixture, key: "ship-1") { $0.decision = .inDoubt }
        let again = try await fixture.call("orders.update", args, as: principal)
        #expect(again.code == .inDoubt, "\(name): \(again.message)")
        // The first call's answer is not handed on: the result is the refusal's own.
        #expect(again.result["decision"] == "in_doubt" && again.result["ok"] == false)
    }

    @Test("a ledger row written before bindings (the effect digest alone) answers the same write from the caller its event records, and no one else",
          arguments: [(alice, DecisionCode.replayed),
                      (Principal(tenant: "acme", actor: "agent-1", session: "s-9", subject: "alice"), .replayed),
                      (Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"), .idempotencyConflict),
                      (Principal(tenant: "acme", actor: "agent-2", session: "s-1", subject: "alice"), .idempotencyConflict),
                      (Principal(tenant: "acme", actor: "agent-1", session: "s-1"), .idempotencyConflict)])
    func rowBeforeBindings(_ principal: Principal, _ decision: DecisionCode) async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: Self.alice)
        let tool = try #require(fixture.policy.tool(named: "orders.update"))
        let request = try RequestBinder.bind(ToolCall(tool: "orders.update", arguments: orderUpdate(key: "ship-1")), to: tool).get()
        try Self.rewrite(fixture, key: "ship-1") { $0.binding = request.effectDigest }
        let again = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: principal)
        #expect(again.code == decision, "\(again.message)")
        if decision == .replayed { #expect(again.result == first.result) }
    }

    @Test("a ledger row of the first bindings (bind1:, no placement) answers the same call from the same caller, and no one else",
          arguments: [(alice, DecisionCode.replayed),
                      (Principal(tenant: "acme", actor: "agent-2", session: "s-1", subject: "alice"), .idempotencyConflict)])
    func firstBindingRow(_ principal: Principal, _ decision: DecisionCode) async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: Self.alice)
        let tool = try #require(fixture.policy.tool(named: "orders.update"))
        let request = try RequestBinder.bind(ToolCall(tool: "orders.update", arguments: orderUpdate(key: "ship-1")), to: tool).get()
        try Self.rewrite(fixture, key: "ship-1") { $0.binding = IdempotencyBinding.legacy(request, tool: tool, actor: "agent-1", subject: "alice") }
        let again = try await fixture.call("orders.update", orderUpdate(key: "ship-1"), as: principal)
        #expect(again.code == decision, "\(again.message)")
        if decision == .replayed { #expect(again.result == first.result) }
    }

    @Test("a binding is keyed by the store's key, and holds where the write went: the backend and the upstream's placement")
    func bindingParts() throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let tool = try #require(policy.tool(named: "orders.update"))
        let request = try RequestBinder.bind(ToolCall(tool: tool.name, arguments: orderUpdate(key: "k-1")), to: tool).get()
        let redactor = Redactor(policy: policy, key: Array(repeating: 7, count: 32))
        func binding(backend: String = "upstream:tiny", db: String = "stg.db", observe: String? = nil, key: UInt8 = 7) -> String {
            var placement: [String: JSONValue] = ["env:TINY_DB": .string(redactor.mark(.string(db)))]
            if let observe { placement["observe"] = .string(redactor.mark(.string(observe))) }
            let scope = DecisionScope(backend: backend, redactor: Redactor(policy: policy, key: Array(repeating: key, count: 32)),
                                      placement: DecisionScope.writingPlace(placement))
            return IdempotencyBinding.of(request, tool: tool, actor: "agent-1", subject: "alice", scope: scope)
        }
        let staging = binding()
        #expect(staging.hasPrefix(IdempotencyBinding.prefix + "hmac-sha256:"))
        #expect(binding(db: "prod.db") != staging, "another TINY_DB: another place")
        #expect(binding(backend: "upstream:other") != staging)
        #expect(binding(key: 8) != staging, "keyed")
        #expect(binding(observe: "/srv/stg.db") == staging, "what the guard observes is not where the write lands")
    }
}

@Suite("A key's binding made before the transaction is kept only for the request it was made for")
struct CallMarksTests {
    @Test("a step that plans another write than the bound request: the key is bound to the write that ran")
    func plannedRequestDiffers() async throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let fixture = try GuardFixture(policy: policy)
        // In place of the approval step (the last, inside the transaction): plans the write with another status.
        let replanning = GuardStep(.approval, phase: .inTransaction) { context in
            guard var plan = context.plan else { return nil }
            plan.request.fields["status"] = "cancelled"
            plan.changes = DecisionContext.changes(plan.request, model: plan.model, rows: plan.rows, observed: plan.observed)
            return .execute(plan)
        }
        let guard_ = Guard(policy: policy, stages: TenantStages(stages: ["acme": .broad]), environment: fixture.environment,
                           clock: fixture.clock, pipeline: GuardPipeline.standard.replacing(.approval, with: replanning))
        let args = orderUpdate(key: "replanned-1")
        let decision = try await guard_.decide(ToolCall(tool: "orders.update", arguments: args), principal: GuardFixture.acme)
        #expect(decision.code == .executed, "\(decision.message)")
        #expect(try fixture.row("Order", 1)?["status"] == "cancelled")

        let tool = try #require(policy.tools.first { $0.name == "orders.update" })
        guard case .success(var ran) = RequestBinder.bind(ToolCall(tool: "orders.update", arguments: args), to: tool) else {
            Issue.record("the call does not bind")
            return
        }
        let asked = IdempotencyBinding.of(ran, tool: tool, principal: GuardFixture.acme, scope: guard_.decisionScope)
        ran.fields["status"] = "cancelled"
        let planned = IdempotencyBinding.of(ran, tool: tool, principal: GuardFixture.acme, scope: guard_.decisionScope)
        let entry = try fixture.environment.transaction { try $0.ledger.idempotency(tenant: "acme", key: "replanned-1") }
        #expect(entry?.binding == planned)
        #expect(entry?.binding != asked)
    }

    @Test("a mark's binding answers only its own request")
    func bindingForRequest() throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let tool = try #require(policy.tools.first { $0.name == "orders.update" })
        guard case .success(let request) = RequestBinder.bind(ToolCall(tool: "orders.update", arguments: orderUpdate()), to: tool) else {
            Issue.record("the call does not bind")
            return
        }
        var other = request
        other.fields["status"] = "cancelled"
        let marks = CallMarks(arguments: "a", bound: (request, "bind2:x"))
        #expect(marks.binding(for: request) == "bind2:x")
        #expect(marks.binding(for: other) == nil)
        #expect(CallMarks(arguments: "a", bound: nil).binding(for: request) == nil)
        // Another spelling of the same text is another request: the digest reads bytes.
        var plain = request, kelvin = request
        plain.fields["notes"] = "K"
        kelvin.fields["notes"] = "\u{212A}"
        #expect(plain == kelvin)
        let spelled = CallMarks(arguments: "a", bound: (plain, "bind2:k"))
        #expect(spelled.binding(for: plain) == "bind2:k")
        #expect(spelled.binding(for: kelvin) == nil)
    }
}
