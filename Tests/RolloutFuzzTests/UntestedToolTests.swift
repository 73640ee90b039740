import Foundation
import RolloutCore
import RolloutGuard
import RolloutTestSupport
import Testing

@testable import RolloutFuzz

/// The built-in target, its rows of one model hidden: a server that holds no rows of the caller's tenant.
final class RowlessTarget: FuzzTarget {
    let inner: BuiltinTarget
    let hidden: String
    init(_ inner: BuiltinTarget, hiding model: String) {
        self.inner = inner
        hidden = model
    }

    var description: String { "built-in guard without \(hidden) rows" }
    var capabilities: TargetCapabilities { inner.capabilities }
    var tenants: FuzzTenants { inner.tenants }
    func reset() async throws { try await inner.reset() }
    func call(_ call: ToolCall, tenant: String) async throws -> CallOutcome { try await inner.call(call, tenant: tenant) }
    func rows(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]]? {
        model.name == hidden ? [:] : try await inner.rows(model)
    }
    func rollback(_ outcome: CallOutcome) async throws -> CallOutcome? { try await inner.rollback(outcome) }
    func callsSent() async -> Int { await inner.callsSent() }
}

@Suite("Fuzz: a tool the adversary cannot reach")
struct UntestedToolTests {
    @Test("a tool with no rows to write is inconclusive, not skipped: no attack reached it, so nothing is shown")
    func noRowsIsInconclusive() async throws {
        let policy = try examplePolicy()
        let target = RowlessTarget(try BuiltinTarget(policy: policy), hiding: "Order")
        let result = try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: 1, calls: 50)).run()
        let update = result.results.filter { $0.tool == "orders.update" }
        #expect(!update.isEmpty)
        for r in update {
            guard case .inconclusive(let why) = r.status else {
                Issue.record("\(r.attackClass): \(r.status)")
                continue
            }
            #expect(why.contains("no rows of the caller's tenant"), "\(why)")
        }
        // Tools of the other models are attacked as before.
        #expect(result.results.contains { r in
            guard r.tool == "customers.update_contact", case .passed = r.status else { return false }
            return r.attacks > 0
        })
    }
}
