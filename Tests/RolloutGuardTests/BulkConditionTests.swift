import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A bulk write, its target ids, and what the guard must decide.
struct BulkCase: Sendable, CustomTestStringConvertible {
    var ids: [Int]
    var decision: DecisionCode
    /// Words the decision's message must hold.
    var says = ""
    var testDescription: String { "\(ids) → \(decision.rawValue)" }
}

@Suite("A condition over current state judges every row of a bulk write, not its first")
struct BulkConditionTests {
    /// The example policy, its bulk update given a rule over `before` and an approval over `after`.
    static func policy() throws -> Policy {
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let edited = text.replacingOccurrences(of: """
                approval:
                  when: {">": [{"var": "rows"}, 20]}
                cap: {max: 20, per: 1h}
            """, with: """
                approval:
                  when: {"==": [{"var": "before.notes"}, "vip"]}
                rules:
                  not_once_shipped:
                    when: {"==": [{"var": "before.status"}, "shipped"]}
                    message: a shipped order's status is not changed in bulk
                cap: {max: 20, per: 1h}
            """)
        #expect(edited != text, "the example policy's bulk update changed: update this test's edit")
        return try Policy.parse(edited)
    }

    static let cases = [
        BulkCase(ids: [1, 3], decision: .executed),
        BulkCase(ids: [2], decision: .ruleRefused, says: "a shipped order's status is not changed in bulk (rule not_once_shipped)"),
        BulkCase(ids: [1, 2], decision: .ruleRefused, says: "(Order 2)"),
        BulkCase(ids: [3, 1, 2], decision: .ruleRefused, says: "(Order 2)"),
        BulkCase(ids: [4], decision: .pendingApproval),
        BulkCase(ids: [1, 4], decision: .pendingApproval),
    ]

    @Test("rules refuse and approvals ask when any row holds them", arguments: cases)
    func bulk(_ test: BulkCase) async throws {
        let policy = try Self.policy()
        let orders = try #require(policy.model(named: "Order"))
        let environment = InMemoryEnvironment()
        // Orders 1 and 3 pending, 2 shipped, 4 pending for a customer a person looks after.
        for (status, notes) in [("pending", "-"), ("shipped", "-"), ("pending", "-"), ("pending", "vip")] {
            _ = try environment.seed(model: orders, values: ["tenant_id": "acme", "status": .string(status), "amount_cents": 100, "notes": .string(notes),
                                                             "shipping_address": "1 Main St", "payment_token": "tok"])
        }
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
        let call = ToolCall(tool: "orders.bulk_update", arguments: [
            "ids": .array(test.ids.map { .number(Double($0)) }), "data": ["status": "cancelled"],
            "reason": "the warehouse burned down, cancel these", "idempotency_key": "b-1",
        ])
        let decision = try await guard_.decide(call, principal: Principal(tenant: "acme", actor: "agent-1"))
        #expect(decision.code == test.decision, "\(decision.message)")
        #expect(test.says.isEmpty || decision.message.contains(test.says), "\(decision.message)")
        let statuses = environment.table(orders.name).values.map { $0["status"] }
        #expect(statuses.contains("cancelled") == (test.decision == .executed), "only an executed write changed rows")
    }
}
