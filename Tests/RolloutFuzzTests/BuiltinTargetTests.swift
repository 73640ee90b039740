import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutFuzz

@Suite("Fuzz: the built-in target's reset")
struct BuiltinTargetTests {
    /// 101 updates of one order of the caller's tenant, each under its own key, then the first again: the
    /// tool's cap is 100 an hour, so a target that starts from the seeded state executes 100, refuses the
    /// 101st at the cap and answers the repeated key from its ledger.
    static func calls(_ order: JSONValue) -> [ToolCall] {
        func update(_ i: Int) -> ToolCall {
            ToolCall(tool: "orders.update", arguments: .object([
                "id": order, "data": .object(["notes": .string("note \(i)")]),
                "reason": .string("the customer asked for a note on the order"), "idempotency_key": .string("reset-\(i)"),
            ]))
        }
        return (0...100).map(update) + [update(0)]
    }

    static func run(_ target: BuiltinTarget, _ calls: [ToolCall]) async throws -> [String] {
        var codes: [String] = []
        for call in calls { codes.append(try await target.call(call, tenant: target.tenants.own).code ?? "none") }
        return codes
    }

    static func ownOrder(_ target: BuiltinTarget, _ policy: Policy) async throws -> JSONValue {
        let rows = try await target.rows(try #require(policy.model(named: "Order"))) ?? [:]
        return try #require(rows.keys.sorted { $0.canonicalText < $1.canonicalText }.first { rows[$0]?["tenant_id"] == .string(target.tenants.own) })
    }

    @Test("after a reset the kept guard decides as a new target's does: rows, caps, keys and the log start again from the seeded state")
    func resetStartsOver() async throws {
        let policy = try examplePolicy()
        let order = policy.model(named: "Order")!
        let fresh = try BuiltinTarget(policy: policy)
        let seeded = try await fresh.rows(order)
        let calls = Self.calls(try await Self.ownOrder(fresh, policy))
        let expected = try await Self.run(fresh, calls)
        #expect(expected.filter { $0 == "executed" }.count == 100)
        #expect(expected[100] == "cap_exceeded" && expected[101] == "replayed", "\(expected.suffix(2))")

        let used = try BuiltinTarget(policy: policy)
        #expect(try await Self.run(used, calls) == expected)
        #expect(try await used.rows(order) != seeded, "the case must change rows")
        try await used.reset()
        #expect(try await used.rows(order) == seeded)
        #expect(used.auditLog(since: nil)?.entries.isEmpty == true)
        #expect(try await Self.run(used, calls) == expected)
        #expect(used.auditLog(since: nil)?.entries.count == fresh.auditLog(since: nil)?.entries.count)
    }
}
