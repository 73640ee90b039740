import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

@Suite("A dry run clears only its own call: the same write and arguments from the same caller; the reason and key may differ")
struct DryRunBindingTests {
    static let alice = Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "alice")

    /// orders.bulk_update of six orders (above its dry-run threshold of five rows).
    static func bulk(ids: [Int] = [1, 2, 3, 4, 5, 6], reason: String = "warehouse closed for the week", key: String? = "b-1",
                     dryRun: Bool? = nil, notify: Bool? = false) -> JSONValue {
        var args: [String: JSONValue] = [
            "ids": .array(ids.map { .number(Double($0)) }), "data": ["status": "cancelled"], "reason": .string(reason),
        ]
        if let key { args["idempotency_key"] = .string(key) }
        if let dryRun { args["dry_run"] = .bool(dryRun) }
        if let notify { args["notify_customer"] = .bool(notify) }
        return .object(args)
    }

    static let cases: [FollowingCallCase] = [
        FollowingCallCase(name: "the same call without its flag", args: bulk(), principal: alice, decision: .executed),
        FollowingCallCase(name: "the same call with dry_run: false", args: bulk(dryRun: false), principal: alice, decision: .executed),
        FollowingCallCase(name: "the same call, its reason worded anew and another key",
                        args: bulk(reason: "the carrier cancelled every pickup", key: "b-2"), principal: alice, decision: .executed),
        FollowingCallCase(name: "the same write with another value of a declared argument", args: bulk(notify: true), principal: alice, decision: .dryRunRequired),
        FollowingCallCase(name: "the same write without a declared argument the dry run had", args: bulk(notify: nil), principal: alice, decision: .dryRunRequired),
        FollowingCallCase(name: "the same call from another actor", args: bulk(),
                        principal: Principal(tenant: "acme", actor: "agent-2", session: "s-1", subject: "alice"), decision: .dryRunRequired),
        FollowingCallCase(name: "the same call for another subject", args: bulk(),
                        principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "bob"), decision: .dryRunRequired),
        FollowingCallCase(name: "the same call for no subject", args: bulk(),
                        principal: Principal(tenant: "acme", actor: "agent-1", session: "s-1"), decision: .dryRunRequired),
        FollowingCallCase(name: "another set of rows", args: bulk(ids: [1, 2, 3, 4, 5, 7]), principal: alice, decision: .dryRunRequired),
    ]

    /// The example policy, its orders.bulk_update given an argument of its own (`args:`) that the
    /// write's effect does not cover.
    static func policy() throws -> Policy {
        var policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let index = try #require(policy.tools.firstIndex { $0.name == "orders.bulk_update" })
        policy.tools[index].arguments = [FieldRule(name: "notify_customer", type: .boolean, nullable: true)]
        return policy
    }

    @Test("each call after a dry run", arguments: cases)
    func afterDryRun(_ test: FollowingCallCase) async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        let dry = try await fixture.call("orders.bulk_update", Self.bulk(key: nil, dryRun: true), as: Self.alice)
        #expect(dry.code == .dryRun, "\(dry.message)")
        let event = try fixture.lastEvent()
        #expect(event.details[DryRunBinding.detail]?.stringValue?.hasPrefix(DryRunBinding.prefix) == true)
        #expect(event.details["effect_digest"] == nil, "no plain digest of values that may be secret")
        let real = try await fixture.call("orders.bulk_update", test.args, as: test.principal)
        #expect(real.code == test.decision, "\(real.message)")
        if test.decision == .dryRunRequired {
            #expect(try fixture.row("Order", 6)?["status"] != "cancelled", "nothing was written")
            #expect(real.message.contains("only the reason and the idempotency key may differ"))
        }
        #expect(try fixture.store.verify().ok)
    }

    @Test("a dry run recorded by its effect alone (before bindings) clears nothing: it is asked again, and then clears")
    func recordedBeforeBindings() async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        let dry = try await fixture.call("orders.bulk_update", Self.bulk(key: nil, dryRun: true), as: Self.alice)
        #expect(dry.code == .dryRun)
        // As an older rollout wrote them: the table's column and the event's detail hold the effect digest.
        let request = try RequestBinder.bind(ToolCall(tool: "orders.bulk_update", arguments: Self.bulk()),
                                             to: #require(fixture.policy.tool(named: "orders.bulk_update"))).get()
        try fixture.store.engine.write { sql in
            try sql.execute("UPDATE dry_runs SET effect_digest = ?", [.text(request.effectDigest)])
        }
        let real = try await fixture.call("orders.bulk_update", Self.bulk(), as: Self.alice)
        #expect(real.code == .dryRunRequired, "\(real.message)")
        #expect(try await fixture.call("orders.bulk_update", Self.bulk(key: nil, dryRun: true), as: Self.alice).code == .dryRun)
        #expect(try await fixture.call("orders.bulk_update", Self.bulk(key: "b-3"), as: Self.alice).code == .executed)
    }

    @Test("a dry run clears one write of the rows it showed: not once a row changed since, and not a second time")
    func rowsAsShown() async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        #expect(try await fixture.call("orders.bulk_update", Self.bulk(key: nil, dryRun: true), as: Self.alice).code == .dryRun)
        // Order 1 changes after the dry run showed it: the write would not do what was shown.
        let moved = try await fixture.call("orders.update", orderUpdate(id: 1, data: ["status": "shipped"], key: "ship-1"), as: Self.alice)
        #expect(moved.code == .executed, "\(moved.message)")
        let stale = try await fixture.call("orders.bulk_update", Self.bulk(), as: Self.alice)
        #expect(stale.code == .dryRunRequired, "\(stale.message)")
        #expect(try fixture.row("Order", 1)?["status"] == "shipped")
        // Shown again, it runs once; the same call again (a new key) meets the rows it changed, so it is a write nobody saw.
        #expect(try await fixture.call("orders.bulk_update", Self.bulk(key: nil, dryRun: true), as: Self.alice).code == .dryRun)
        #expect(try await fixture.call("orders.bulk_update", Self.bulk(key: "b-1"), as: Self.alice).code == .executed)
        let again = try await fixture.call("orders.bulk_update", Self.bulk(reason: "warehouse closed for another week", key: "b-2"), as: Self.alice)
        #expect(again.code == .dryRunRequired, "\(again.message)")
        #expect(try fixture.store.verify().ok)
    }

    @Test("the binding holds the backend and the changes as shown; the reason and key do not change it")
    func bindingParts() throws {
        let policy = try Self.policy()
        let tool = try #require(policy.tool(named: "orders.bulk_update"))
        let redactor = Redactor(policy: policy, key: Array(repeating: 7, count: 32))
        func binding(_ args: JSONValue, before: String = "pending", backend: String = "builtin", principal: Principal = DryRunBindingTests.alice) throws -> String {
            let request = try RequestBinder.bind(ToolCall(tool: tool.name, arguments: args), to: tool).get()
            let rows = request.targets.map { _ in ["status": JSONValue.string(before)] }
            let changes = DecisionContext.changes(request, model: try #require(policy.model(named: tool.model)), rows: rows, observed: true)
            let plan = WritePlan(request: request, model: try #require(policy.model(named: tool.model)), rows: rows, changes: changes, observed: true, lookups: [:])
            return DryRunBinding.of(plan, tool: tool, principal: principal, scope: DecisionScope(backend: backend, redactor: redactor))
        }
        let shown = try binding(Self.bulk(key: nil, dryRun: true))
        #expect(shown.hasPrefix(DryRunBinding.prefix))
        #expect(try binding(Self.bulk(reason: "the carrier cancelled every pickup", key: "b-9")) == shown)
        #expect(try binding(Self.bulk(), backend: "command:production") != shown, "another backend")
        #expect(try binding(Self.bulk(), before: "shipped") != shown, "rows other than shown")
        #expect(try binding(Self.bulk(notify: true)) != shown, "another declared argument")
        #expect(shown.hasPrefix(DryRunBinding.prefix + "hmac-sha256:"), "keyed: the rows and arguments may hold secret values")
    }

    @Test("places inside one list are left out whatever order they are named in: later elements first",
          arguments: [["/ctl/0", "/ctl/1"], ["/ctl/1", "/ctl/0"], ["/ctl/2", "/ctl/0"], ["/ctl/0", "/ctl/10", "/ctl/2"]])
    func listPlaces(_ places: [String]) throws {
        let args: JSONValue = ["ids": [1, 2], "data": ["status": "cancelled"],
                               "ctl": ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"]]
        let pointers = places.map { JSONPointer($0)! }
        let ordered = pointers.sorted(by: IdempotencyBinding.removedBefore)
        // Removed from the last index down, each place takes out the element it named.
        let indices = Set(places.map { Int($0.split(separator: "/").last!)! })
        let kept = (0...11).filter { !indices.contains($0) }.map { JSONValue.string("r\($0)") }
        #expect(ordered.reduce(args) { $1.removing(from: $0) }["ctl"] == .array(kept))
    }

    @Test("a binding with no place left out, or with places at the top level only, covers the arguments as removing them leaves them")
    func bindingMatchesRemoval() throws {
        let policy = try Self.policy()
        let tool = try #require(policy.tool(named: "orders.bulk_update"))
        let args = Self.bulk(dryRun: true, notify: true)
        let request = try RequestBinder.bind(ToolCall(tool: tool.name, arguments: args), to: tool).get()
        let places = [JSONPointer("/reason")!, JSONPointer("/idempotency_key")!, JSONPointer("/dry_run")!]
        for omitted in [[], places] {
            var expected: [UInt8] = Array(#"{"actor":"agent-1","args":"#.utf8)
            omitted.reduce(args) { $1.removing(from: $0) }.appendCanonical(to: &expected)
            expected += Array(#","effect":"#.utf8)
            request.appendEffect(to: &expected)
            expected += Array(#","subject":"alice"}"#.utf8)
            #expect(IdempotencyBinding.canonicalText(request, tool: tool, actor: "agent-1", subject: "alice", leavingOut: omitted) == expected)
        }
    }
}
