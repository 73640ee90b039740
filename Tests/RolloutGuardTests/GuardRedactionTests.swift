import Foundation
import RolloutCore
import Testing

@testable import RolloutGuard

/// A guard hides the policy's secret fields whatever redactor its environment was made with: an
/// `InMemoryEnvironment()` (the fuzzer's built-in target, a host that keeps its own log) has one that
/// never saw the policy.
@Suite("Guard: a secret field is hidden in every event and answer, whatever the environment's redactor")
struct GuardRedactionTests {
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Person:
            table: people
            key: id
            tenant_field: tenant_id
            fields:
              ssn: {type: string, secret: true, nullable: true}
              nickname: {type: string, max_length: 50}
              card_token: {type: string, nullable: true, references: Card}
          Card:
            table: cards
            key: token
            tenant_field: tenant_id
            fields:
              token: {type: string}
        tools:
          people.update: {model: Person, operation: update, writable: [ssn, nickname, card_token]}
          people.flag:
            model: Person
            operation: update
            writable: [ssn]
            approval: {when: true}
        """

    static let clearValues = ["111-22-3333", "999-88-7777"]

    /// Whether `text` holds none of the clear secret values.
    static func hidesSecrets(_ text: String) -> Bool {
        !clearValues.contains { text.contains($0) }
    }

    static func setUp() throws -> (Guard, InMemoryEnvironment, ModelPolicy) {
        let policy = try Policy.parse(policyText)
        let people = try #require(policy.model(named: "Person"))
        let environment = InMemoryEnvironment()
        #expect(!environment.redactor.isSecret("ssn"), "the environment's redactor was made without the policy")
        _ = try environment.seed(model: people, values: ["tenant_id": "acme", "ssn": "111-22-3333", "nickname": "al"])
        return (Guard(policy: policy, stages: FixedStages(.broad), environment: environment), environment, people)
    }

    @Test("an executed write records and answers marks, not values; its rollback puts the value back")
    func executed() async throws {
        let (guard_, environment, people) = try Self.setUp()
        let decision = try await guard_.decide(ToolCall(tool: "people.update", arguments: [
            "id": 1, "data": ["ssn": "999-88-7777", "nickname": "alfie"], "reason": "the customer corrected it", "idempotency_key": "k-1",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == .executed, "\(decision.message)")
        let ssn = try #require(decision.changes.first?.fields["ssn"])
        #expect(ssn.before.map(Redactor.isRedacted) == true && ssn.after.map(Redactor.isRedacted) == true)
        #expect(decision.changes.first?.fields["nickname"]?.after == "alfie")
        #expect(Self.hidesSecrets(decision.result.canonicalText), "\(decision.result.canonicalText)")
        for event in environment.events { #expect(Self.hidesSecrets(event.json.canonicalText)) }
        #expect(environment.table(people.name)[1]?["ssn"] == "999-88-7777", "the write itself stores the value")

        let undo = try await guard_.rollback(decision.auditSeq, by: "ops", reason: "wrong person")
        #expect(undo.code == .rolledBack, "\(undo.message)")
        #expect(environment.table(people.name)[1]?["ssn"] == "111-22-3333")
    }

    @Test("a rollback refused because the row changed since shows the secret's values as marks")
    func rollbackChangedSince() async throws {
        let (guard_, environment, people) = try Self.setUp()
        let decision = try await guard_.decide(ToolCall(tool: "people.update", arguments: [
            "id": 1, "data": ["ssn": "999-88-7777"], "reason": "the customer corrected it", "idempotency_key": "k-3",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == .executed, "\(decision.message)")
        try environment.transaction { try $0.rows!.update(model: people, key: 1, values: ["ssn": "555-44-3333"]) }
        let undo = try await guard_.rollback(decision.auditSeq, by: "ops", reason: "wrong person")
        #expect(undo.code != .rolledBack && undo.message.contains("changed since: ssn is now hmac:"), "\(undo.message)")
        #expect(!undo.message.contains("555-44-3333") && Self.hidesSecrets(undo.message), "\(undo.message)")
        for event in environment.events { #expect(!event.json.canonicalText.contains("555-44-3333") && Self.hidesSecrets(event.json.canonicalText)) }
    }

    @Test("a refused reference named like a credential is quoted as its mark")
    func reference() async throws {
        let (guard_, environment, _) = try Self.setUp()
        let decision = try await guard_.decide(ToolCall(tool: "people.update", arguments: [
            "id": 1, "data": ["card_token": "tok_live_4242"], "reason": "the customer added a card", "idempotency_key": "k-4",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == .notFound && decision.message.contains("card_token names Card hmac:"), "\(decision.code) \(decision.message)")
        #expect(!decision.message.contains("tok_live_4242") && !decision.result.canonicalText.contains("tok_live_4242"))
        for event in environment.events { #expect(!event.json.canonicalText.contains("tok_live_4242"), "\(event.json.canonicalText)") }
    }

    @Test("an upstream's refusal that quotes a secret it was sent is logged and answered with the mark in its place")
    func upstreamQuotes() async throws {
        let policy = try Policy.parse(Self.policyText)
        let environment = InMemoryEnvironment()
        _ = try environment.seed(model: try #require(policy.model(named: "Person")), values: ["tenant_id": "acme", "ssn": "111-22-3333", "nickname": "al"])
        let upstream = UncheckedPlacesTests.AnsweringUpstream(.refused(code: "invalid", message: "1 validation error: ssn input_value='999-88-7777' is on a deny list",
                                                                       result: ["isError": true, "content": [["type": "text", "text": "ssn input_value='999-88-7777'"]]]))
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: upstream)
        let decision = try await guard_.decide(ToolCall(tool: "people.update", arguments: [
            "id": 1, "data": ["ssn": "999-88-7777"], "reason": "the customer corrected it", "idempotency_key": "k-5",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == .upstreamRefused && decision.message.contains("input_value='hmac:"), "\(decision.code) \(decision.message)")
        #expect(Self.hidesSecrets(decision.message) && Self.hidesSecrets(decision.result.canonicalText))
        for event in environment.events { #expect(Self.hidesSecrets(event.json.canonicalText), "\(event.json.canonicalText)") }
    }

    @Test("a write queued for a person shows what was asked with the secret hidden")
    func pending() async throws {
        let (guard_, environment, _) = try Self.setUp()
        let decision = try await guard_.decide(ToolCall(tool: "people.flag", arguments: [
            "id": 1, "data": ["ssn": "999-88-7777"], "reason": "the customer corrected it", "idempotency_key": "k-2",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == .pendingApproval, "\(decision.message)")
        #expect(Self.hidesSecrets(decision.message) && Self.hidesSecrets(decision.result.canonicalText), "\(decision.result.canonicalText)")
        for event in environment.events { #expect(Self.hidesSecrets(event.json.canonicalText)) }
    }
}
