import Foundation
import GRDB
import RolloutCore
import RolloutStore
import RolloutTestSupport

@testable import RolloutGuard

/// Stages per tenant, for tests.
struct TenantStages: StageSource {
    var stages: [String: Stage]
    func stage(tenant: String, tool: String) -> Stage { stages[tenant] ?? .off }
}

/// A guard over a fresh store seeded with the example policy's demo domain: acme is broad, globex in
/// shadow, initech off. Orders 1-60 belong to acme, 61-120 to globex, 121-180 to initech.
final class GuardFixture {
    let policy: Policy
    let store: AuditStore
    let environment: DemoEnvironment
    let clock: ManualTime
    let guard_: Guard
    static let start = Timestamp.parse("2026-11-02T09:00:00Z")!

    init(policy: Policy? = nil, stages: [String: Stage] = ["acme": .broad, "globex": .shadow, "initech": .off]) throws {
        self.policy = try policy ?? RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        store = try TestStores.temporarySQLite()
        environment = try DemoEnvironment(store: store, policy: self.policy, seedTenants: ["acme", "globex", "initech"], rowsPerTenant: 60)
        clock = ManualTime(Self.start)
        guard_ = Guard(policy: self.policy, stages: TenantStages(stages: stages), environment: environment, clock: clock)
    }

    static let acme = Principal(tenant: "acme", actor: "agent-1", session: "s-1")

    @discardableResult
    func call(_ tool: String, _ args: JSONValue, as principal: Principal = acme) async throws -> Decision {
        try await guard_.decide(ToolCall(tool: tool, arguments: args), principal: principal)
    }

    func row(_ model: String, _ key: Int) throws -> [String: JSONValue]? {
        try environment.rows(of: policy.model(named: model)!)[.number(Double(key))]
    }

    func table(_ model: String) throws -> [JSONValue: [String: JSONValue]] {
        try environment.rows(of: policy.model(named: model)!)
    }

    func lastEvent() throws -> AuditEvent {
        try store.lastEvents(1).first!
    }
}

/// A valid orders.update call, changed by `overrides` (keys of the top-level arguments; nil removes);
/// `notify` sets a `notify_customer` argument, which only a policy that declares it takes.
func orderUpdate(id: JSONValue = 1, data: JSONValue = ["status": "shipped"], reason: JSONValue? = "carrier confirmed pickup",
                 key: JSONValue? = "key-1", notify: Bool? = nil) -> JSONValue {
    var args: [String: JSONValue] = ["id": id, "data": data]
    if let reason { args["reason"] = reason }
    if let key { args["idempotency_key"] = key }
    if let notify { args["notify_customer"] = .bool(notify) }
    return .object(args)
}
