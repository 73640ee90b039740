import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// One decision code: the calls that lead to it and what must hold after.
struct PipelineCase: Sendable, CustomTestStringConvertible {
    var code: DecisionCode
    /// Calls made first (they must not be refused unless `setupMayRefuse`).
    var setup: [(String, JSONValue)] = []
    var tool: String
    var args: JSONValue
    var tenant = "acme"
    /// The Order row that must (or must not) have changed, and its expected status afterwards.
    var order: Int? = 1
    var expectedStatus: String? = "pending"
    var testDescription: String { code.rawValue }
}

@Suite("Guard: one decision code per case, its audit row and the database after")
struct DecisionPipelineTests {
    static let cases: [PipelineCase] = [
        PipelineCase(code: .executed, tool: "orders.update", args: orderUpdate(), expectedStatus: "shipped"),
        PipelineCase(code: .shadowed, tool: "orders.update", args: orderUpdate(id: 61), tenant: "globex", order: 61, expectedStatus: "pending"),
        PipelineCase(code: .replayed, setup: [("orders.update", orderUpdate())], tool: "orders.update", args: orderUpdate(), expectedStatus: "shipped"),
        PipelineCase(code: .dryRun, tool: "orders.bulk_update",
                     args: ["ids": [1, 2, 3, 4, 5, 6], "data": ["status": "cancelled"], "reason": "warehouse closed for the week", "idempotency_key": "b-1", "dry_run": true]),
        PipelineCase(code: .pendingApproval, tool: "orders.update", args: orderUpdate(data: ["status": "refunded"]), expectedStatus: "pending"),
        PipelineCase(code: .toolUnknown, tool: "Orders.Update", args: orderUpdate()),
        PipelineCase(code: .toolDisabled, tool: "orders.update", args: orderUpdate(id: 121), tenant: "initech", order: 121),
        PipelineCase(code: .invalidArguments, tool: "orders.update", args: orderUpdate(data: "shipped")),
        PipelineCase(code: .reasonRequired, tool: "orders.update", args: orderUpdate(reason: "n/a")),
        PipelineCase(code: .idempotencyKeyRequired, tool: "orders.update", args: orderUpdate(key: nil)),
        PipelineCase(code: .idempotencyConflict, setup: [("orders.update", orderUpdate(id: 2))], tool: "orders.update", args: orderUpdate()),
        PipelineCase(code: .crossTenant, tool: "orders.update", args: orderUpdate(id: 61), order: 61),
        PipelineCase(code: .notFound, tool: "orders.update", args: orderUpdate(id: 999), order: nil),
        PipelineCase(code: .fieldNotWritable, tool: "orders.update", args: orderUpdate(data: ["status": "shipped", "amount_cents": 1])),
        PipelineCase(code: .invalidValue, tool: "orders.update", args: orderUpdate(data: ["status": "lost"])),
        PipelineCase(code: .capExceeded,
                     setup: (1...10).map { ("customers.set_role", ["id": 1, "data": ["role": "customer"], "reason": "reset role after review", "idempotency_key": .string("r-\($0)")]) },
                     tool: "customers.set_role", args: ["id": 2, "data": ["role": "customer"], "reason": "reset role after review", "idempotency_key": "r-11"], order: nil),
        PipelineCase(code: .dryRunRequired, tool: "orders.bulk_update",
                     args: ["ids": [1, 2, 3, 4, 5, 6], "data": ["status": "cancelled"], "reason": "warehouse closed for the week", "idempotency_key": "b-1"]),
        PipelineCase(code: .tooManyRows, tool: "orders.bulk_update",
                     args: ["ids": .array((1...51).map { .number(Double($0)) }), "data": ["status": "cancelled"], "reason": "warehouse closed for the week", "idempotency_key": "b-2"]),
    ]

    @Test("each decision code", arguments: cases)
    func decision(_ testCase: PipelineCase) async throws {
        let fixture = try GuardFixture()
        let principal = Principal(tenant: testCase.tenant, actor: "agent-1", session: "s-1")
        for (tool, args) in testCase.setup {
            let setup = try await fixture.call(tool, args, as: principal)
            #expect(!setup.isRefusal, "setup call was refused: \(setup.message)")
        }
        let before = try fixture.store.head().seq
        let decision = try await fixture.call(testCase.tool, testCase.args, as: principal)
        #expect(decision.code == testCase.code, "\(decision.message)")
        #expect(!decision.message.isEmpty)

        // Exactly one audit event, and it says what happened.
        #expect(try fixture.store.head().seq == before + 1)
        let event = try fixture.lastEvent()
        #expect(event.seq == decision.auditSeq)
        #expect(event.decision == testCase.code.rawValue)
        #expect(event.tenant == testCase.tenant && event.actor == "agent-1" && event.session == "s-1")
        #expect(event.policyDigest == fixture.policy.digest)
        if testCase.code != .toolUnknown { #expect(event.tool == testCase.tool) }
        if testCase.code == .executed { #expect(event.changes.first?.fields["status"] == FieldChange(before: "pending", after: "shipped")) }
        if testCase.code == .shadowed { #expect(event.details["would_be"] == "executed") }

        // The database: only executed writes change it.
        if let order = testCase.order {
            #expect(try fixture.row("Order", order)?["status"] == testCase.expectedStatus.map(JSONValue.string))
        }
        #expect(try fixture.store.verify().ok)
    }

    @Test("an event's args_digest is keyed by the store's key: no plain SHA-256 of arguments that may hold a secret")
    func argumentsDigestKeyed() async throws {
        let fixture = try GuardFixture()
        let args = orderUpdate(key: "k-digest")
        _ = try await fixture.call("orders.update", args)
        let recorded = try #require(try fixture.lastEvent().details["args_digest"]?.stringValue)
        #expect(recorded.hasPrefix("hmac-sha256:"))
        #expect(recorded != ToolCall(tool: "orders.update", arguments: args).argumentsDigest)
        #expect(recorded == fixture.guard_.argumentsMark(ToolCall(tool: "orders.update", arguments: args)))
    }

    @Test("a dry run returns the diff and writes nothing; the matching call then executes")
    func dryRunThenExecute() async throws {
        let fixture = try GuardFixture()
        var args: JSONValue = ["ids": [1, 2, 3, 4, 5, 6], "data": ["status": "cancelled"], "reason": "warehouse closed for the week", "idempotency_key": "b-1", "dry_run": true]
        let before = try fixture.table("Order")
        let dry = try await fixture.call("orders.bulk_update", args)
        #expect(dry.code == .dryRun)
        #expect(dry.changes.count == 6)
        #expect(dry.changes.allSatisfy { $0.fields["status"]?.after == "cancelled" })
        #expect(try fixture.table("Order") == before)
        args = JSONPointer("/dry_run")!.removing(from: args)
        let real = try await fixture.call("orders.bulk_update", args)
        #expect(real.code == .executed, "\(real.message)")
        #expect(try (1...6).allSatisfy { try fixture.row("Order", $0)?["status"] == "cancelled" })
        // A different set of rows does not match the dry run.
        let other = try await fixture.call("orders.bulk_update", ["ids": [1, 2, 3, 4, 5, 7], "data": ["status": "shipped"], "reason": "warehouse closed for the week", "idempotency_key": "b-3"])
        #expect(other.code == .dryRunRequired)
    }

    @Test("arguments cannot widen authority: an undeclared tenant, approver or approval flag is refused, never acted on")
    func argumentsCannotWiden() async throws {
        let fixture = try GuardFixture()
        var args = orderUpdate(id: 61, key: "w-1").objectValue!
        args["tenant"] = "globex"
        args["tenant_id"] = "globex"
        let decision = try await fixture.call("orders.update", .object(args))
        #expect(decision.code == .argumentUnbound)
        #expect(decision.message.contains("/tenant") && decision.message.contains("/tenant_id"))
        var approved = orderUpdate(data: ["status": "refunded"], key: "w-2").objectValue!
        approved["approved"] = true
        approved["approver"] = "maria.lopez"
        #expect(try await fixture.call("orders.update", .object(approved)).code == .argumentUnbound)
        let writeTenant = try await fixture.call("orders.update", orderUpdate(data: ["tenant_id": "globex"], key: "w-3"))
        #expect(writeTenant.code == .crossTenant)
        #expect(try fixture.row("Order", 61)?["status"] == "pending" && fixture.row("Order", 1)?["status"] == "pending")
    }

    @Test("a refund names its order by key (references: Order): another tenant's order is cross_tenant, a missing one not_found, the tenant's own runs",
          arguments: [(61, DecisionCode.crossTenant), (121, .crossTenant), (9_999, .notFound), (1, .executed)])
    func referencedOrder(order: Int, code: DecisionCode) async throws {
        let fixture = try GuardFixture()
        let refunds = try fixture.table("Refund").count
        let decision = try await fixture.call("refunds.issue", ["order_id": .number(Double(order)), "amount_cents": 1200, "reason_code": "late",
                                                                "reason": "parcel arrived two weeks late", "request_id": .string("rf-\(order)")])
        #expect(decision.code == code, "\(decision.message)")
        #expect(try fixture.table("Refund").count == refunds + (code == .executed ? 1 : 0))
        if code != .executed { #expect(decision.message.contains("order_id names Order \(order)"), "\(decision.message)") }
    }

    @Test("a guard that halted (an outcome it could not record) refuses every later call, and records each refusal where the store takes it")
    func haltedRefusalsAreRecorded() async throws {
        let fixture = try GuardFixture()
        fixture.guard_.halt.set("the outcome of orders.update (intent event 7) could not be recorded: disk full")
        let before = try fixture.store.head().seq
        let decision = try await fixture.call("orders.update", orderUpdate())
        #expect(decision.code == .backendError && decision.message.contains("takes no more writes"), "\(decision.message)")
        #expect(try fixture.store.head().seq == before + 1)
        #expect(try fixture.lastEvent().decision == "backend_error")
        #expect(try fixture.row("Order", 1)?["status"] == "pending", "nothing was written")
    }

    @Test("extra_args: drop removes undeclared arguments before anything acts on them, and the event names them")
    func extraArgumentsDropped() async throws {
        var policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let index = try #require(policy.tools.firstIndex { $0.name == "orders.update" })
        policy.tools[index].extraArguments = .drop
        let fixture = try GuardFixture(policy: policy)
        var approved = orderUpdate(data: ["status": "refunded"], key: "d-1").objectValue!
        approved["approved"] = true
        approved["approver"] = "maria.lopez"
        approved["tenant_id"] = "globex"
        let decision = try await fixture.call("orders.update", .object(approved))
        #expect(decision.code == .pendingApproval, "the approval flag in the arguments changes nothing")
        let event = try fixture.lastEvent()
        #expect(event.details["dropped_args"] == ["/approved", "/approver", "/tenant_id"])
        #expect(event.tenant == "acme")
    }

    @Test("caps count per window: after the window passes, calls go through again")
    func capWindow() async throws {
        let fixture = try GuardFixture()
        func setRole(_ n: Int) async throws -> Decision {
            try await fixture.call("customers.set_role", ["id": 1, "data": ["role": "customer"], "reason": "reset role after review", "idempotency_key": .string("r-\(n)")])
        }
        for n in 1...10 { #expect(try await setRole(n).code == .executed) }
        #expect(try await setRole(11).code == .capExceeded)
        fixture.clock.advance(by: 86_400 + 1)
        #expect(try await setRole(12).code == .executed)
    }

    @Test("a tenant demoted while its call is being decided (its lookups wait on the upstream) gets the call refused, not run")
    func demotedMidCall() async throws {
        let fixture = try GuardFixture()
        let stages = DemotedAfterFirstLook()
        let guard_ = Guard(policy: fixture.policy, stages: stages, environment: fixture.environment, clock: fixture.clock)
        let before = try fixture.row("Order", 1)
        let decision = try await guard_.decide(ToolCall(tool: "orders.update", arguments: orderUpdate()), principal: GuardFixture.acme)
        #expect(decision.code == .toolDisabled, "\(decision.message)")
        #expect(stages.looks >= 2, "the stage was read again inside the decision")
        #expect(try fixture.row("Order", 1) == before)
        #expect(try fixture.lastEvent().decision == "tool_disabled")
    }
}

/// Broad at the first look, off from the second on: the tenant is demoted while a call is decided.
final class DemotedAfterFirstLook: StageSource, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var looks: Int { lock.withLock { count } }

    func stage(tenant: String, tool: String) -> Stage {
        lock.withLock {
            count += 1
            return count == 1 ? .broad : .off
        }
    }
}

@Suite("Guard: approvals")
struct ApprovalTests {
    @Test("approve runs the exact request once; a retry with the same key gets the final answer")
    func approveRunsOnce() async throws {
        let fixture = try GuardFixture()
        let pending = try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "k-refund"))
        let id = try #require(pending.approvalId)
        #expect(try fixture.row("Order", 1)?["status"] == "pending")
        let retry = try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "k-refund"))
        #expect(retry.code == .replayed && retry.result["decision"] == "pending_approval")

        let approved = try await fixture.guard_.approve(id, by: "maria.lopez", reason: "checked the return")
        #expect(approved.code == .executed)
        #expect(try fixture.row("Order", 1)?["status"] == "refunded")
        let event = try fixture.lastEvent()
        #expect(event.approver == "maria.lopez" && event.details["approval_id"] == .number(Double(id)))

        let again = try await fixture.guard_.approve(id, by: "maria.lopez")
        #expect(again.code == .approvalRefused)
        let afterRetry = try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "k-refund"))
        #expect(afterRetry.code == .replayed && afterRetry.result["decision"] == "executed")
    }

    @Test("the person an agent acted for cannot approve the write it asked for on their behalf (found by an adversarial review)")
    func subjectCannotApprove() async throws {
        let fixture = try GuardFixture()
        let forMaria = Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "maria.lopez")
        let id = try #require(try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "m"), as: forMaria).approvalId)
        #expect(try await fixture.guard_.approve(id, by: "Maria.Lopez").code == .approvalRefused)
        #expect(try fixture.row("Order", 1)?["status"] == "pending")
        #expect(try await fixture.guard_.approve(id, by: "dev.patel").code == .executed)
    }

    @Test("the requester cannot approve; an expired approval does not run; a denied one never runs")
    func refusals() async throws {
        let fixture = try GuardFixture()
        let first = try #require(try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "a")).approvalId)
        #expect(try await fixture.guard_.approve(first, by: "agent-1").code == .approvalRefused)

        let second = try #require(try await fixture.call("orders.update", orderUpdate(id: 2, data: ["status": "refunded"], key: "b")).approvalId)
        fixture.clock.advance(by: 25 * 3600)
        let expired = try await fixture.guard_.approve(second, by: "maria.lopez")
        #expect(expired.code == .approvalExpired && expired.message.contains("under a new idempotency key"), "\(expired.message)")
        #expect(try fixture.row("Order", 2)?["status"] != "refunded")
        // As the message says: the same key replays the expiry, a new one asks again.
        #expect(try await fixture.call("orders.update", orderUpdate(id: 2, data: ["status": "refunded"], key: "b")).code == .replayed)
        #expect(try await fixture.call("orders.update", orderUpdate(id: 2, data: ["status": "refunded"], key: "b2")).code == .pendingApproval)

        #expect(try await fixture.guard_.deny(first, by: "maria.lopez", reason: "no return was received").code == .approvalDenied)
        #expect(try await fixture.guard_.approve(first, by: "maria.lopez").code == .approvalRefused)
        #expect(try fixture.row("Order", 1)?["status"] == "pending")
        await #expect(throws: GuardError.self) { try await fixture.guard_.approve(999, by: "maria.lopez") }
    }

    @Test("an approved write is checked again against today's state")
    func recheckedOnApproval() async throws {
        let fixture = try GuardFixture()
        let id = try #require(try await fixture.call("orders.delete", ["id": 3, "reason": "duplicate order created by the agent", "idempotency_key": "d-3"]).approvalId)
        // Order 3 is "shipped" in the seed (statuses cycle), so the delete needed approval; now the row goes away.
        #expect(try await fixture.call("orders.update", orderUpdate(id: 3, data: ["notes": "x"], key: "n-3")).code == .executed)
        _ = try fixture.store.write { tx in try tx.sql.execute("DELETE FROM demo_orders WHERE id = 3") }
        #expect(try await fixture.guard_.approve(id, by: "maria.lopez").code == .notFound)
    }
}

extension ApprovalTests {
    @Test("an approved write runs only on the rows as its approver was shown them (found by an adversarial review)")
    func runsAsShown() async throws {
        let fixture = try GuardFixture()
        let id = try #require(try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "q1")).approvalId)
        // The agent that asked moves the row before a person looks: "pending" → "paid", then the approver's
        // "pending" → "refunded" would run as "paid" → "refunded".
        #expect(try await fixture.call("orders.update", orderUpdate(data: ["status": "paid"], key: "q2")).code == .executed)
        let approved = try await fixture.guard_.approve(id, by: "maria.lopez", reason: "return checked against ticket")
        #expect(approved.code == .approvalRefused, "\(approved.message)")
        #expect(approved.message.contains(#"Order 1's status is "paid" now, and the approver was shown "pending""#), "\(approved.message)")
        #expect(try fixture.row("Order", 1)?["status"] == "paid")
        // Decided for good: the queued write never runs; asked again (a new key), it is shown as it is now.
        #expect(try await fixture.guard_.approve(id, by: "maria.lopez").message.contains("already refused"))
        let again = try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "q3"))
        #expect(again.changes.first?.fields["status"]?.before == "paid")
        #expect(try await fixture.guard_.approve(try #require(again.approvalId), by: "maria.lopez").code == .executed)
    }

    @Test("a field of the row the write does not set may change before the approval: it runs")
    func otherFieldsMayChange() async throws {
        let fixture = try GuardFixture()
        let id = try #require(try await fixture.call("orders.update", orderUpdate(data: ["status": "refunded"], key: "r1")).approvalId)
        #expect(try await fixture.call("orders.update", orderUpdate(data: ["notes": "called the customer"], key: "r2")).code == .executed)
        #expect(try await fixture.guard_.approve(id, by: "maria.lopez").code == .executed)
        #expect(try fixture.row("Order", 1)?["status"] == "refunded")
    }
}

@Suite("Guard: a row's key as the row holds it")
struct KeySpellingTests {
    @Test("a key that finds a row only as the database compares keys is refused, nothing written (found by an adversarial review)",
          arguments: ["06", "6", " 6", "6.0"] as [JSONValue])
    func otherSpelling(_ key: JSONValue) async throws {
        let fixture = try GuardFixture()
        let before = try fixture.row("Order", 6)
        let refused = try await fixture.call("orders.update", orderUpdate(id: key, data: ["notes": "x"], key: "s-1"))
        #expect(refused.code == .invalidArguments, "\(refused.message)")
        #expect(refused.message.contains("send the key as the row holds it (6)"), "\(refused.message)")
        #expect(try fixture.row("Order", 6) == before)
        #expect(try await fixture.call("orders.update", orderUpdate(id: 6, data: ["notes": "x"], key: "s-2")).code == .executed)
    }

    @Test("a rollback is refused once a later write changed the row, whatever spelling of the key it was sent with")
    func rollbackSeesLaterWrites() async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("orders.update", orderUpdate(id: 6, data: ["status": "paid"], key: "w1"))
        #expect(first.code == .executed)
        #expect(try await fixture.call("orders.update", orderUpdate(id: "06", data: ["status": "cancelled"], key: "w2")).code == .invalidArguments)
        #expect(try await fixture.call("orders.update", orderUpdate(id: 6, data: ["status": "cancelled"], key: "w3")).code == .executed)
        let rollback = try await fixture.guard_.rollback(first.auditSeq, by: "dev.patel", reason: "agent set wrong status, ticket 881")
        #expect(rollback.code != .rolledBack, "\(rollback.message)")
        #expect(try fixture.row("Order", 6)?["status"] == "cancelled")
    }

    @Test("a row read without a member named as the policy's key is refused: which spelling it holds cannot be told (helper-78)")
    func keyColumnUnnamed() async throws {
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let policy = try Policy.parse(text)
        var renamed = policy
        let index = try #require(renamed.models.firstIndex { $0.name == "Order" })
        renamed.models[index].key = "ID"
        let fixture = try GuardFixture(policy: policy)
        let guard2 = Guard(policy: renamed, stages: TenantStages(stages: ["acme": .broad]), environment: fixture.environment, clock: fixture.clock)
        let refused = try await guard2.decide(ToolCall(tool: "orders.update", arguments: orderUpdate(id: 6, data: ["notes": "x"], key: "u-1")), principal: GuardFixture.acme)
        #expect(refused.code == .lookupFailed && refused.message.contains("read without its key ID"), "\(refused.message)")
    }

    @Test("a reference to another model's row is taken only as that row holds its key")
    func referenceSpelling() async throws {
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let edited = text.replacingOccurrences(of: "order_id: {type: integer, min: 1, references: Order}", with: "order_id: {type: string, references: Order}")
        #expect(edited != text, "the example policy's refund changed: update this test's edit")
        let fixture = try GuardFixture(policy: try Policy.parse(edited))
        let refund: (JSONValue) -> JSONValue = { ["order_id": $0, "amount_cents": 1200, "reason_code": "late", "reason": "parcel arrived two weeks late", "request_id": "rf-1"] }
        let refunds = try fixture.table("Refund").count
        let refused = try await fixture.call("refunds.issue", refund("06"))
        #expect(refused.code == .invalidValue && refused.message.contains("only as the database compares keys"), "\(refused.message)")
        #expect(try fixture.table("Refund").count == refunds)
    }
}

extension KeySpellingTests {
    @Test("a tool name with a NUL in it is recorded with U+FFFD in its place: an audit row's column holds no NUL")
    func nulInToolName() async throws {
        let fixture = try GuardFixture()
        let refused = try await fixture.call("orders.upd\u{0}ate", orderUpdate())
        #expect(refused.code == .toolUnknown)
        #expect(try fixture.lastEvent().tool == "orders.upd\u{FFFD}ate")
    }
}

@Suite("Guard: rollback")
struct RollbackTests {
    @Test("rollback restores an update, a create and a delete, and is itself audited")
    func rollbackEachOperation() async throws {
        let fixture = try GuardFixture()
        let update = try await fixture.call("orders.update", orderUpdate())
        let create = try await fixture.call("refunds.issue", ["order_id": 1, "amount_cents": 1200, "reason_code": "late", "reason": "parcel arrived two weeks late", "request_id": "rf-1"])
        #expect(create.code == .executed)
        let refundKey = try #require(create.changes.first?.key.intValue)
        let deleted = try await fixture.call("orders.delete", ["id": 1, "reason": "duplicate order created by the agent", "idempotency_key": "del-1"])
        // Order 1 is no longer pending after the update, so the delete waits for a person.
        #expect(deleted.code == .pendingApproval)
        let executedDelete = try await fixture.guard_.approve(deleted.approvalId!, by: "maria.lopez")
        #expect(executedDelete.code == .executed)
        #expect(try fixture.row("Order", 1) == nil)

        // Each says what it did to the rows: a deleted row put back, a created one removed, an updated one restored.
        let putBack = try await fixture.guard_.rollback(executedDelete.auditSeq, by: "dev", reason: "the order was not a duplicate")
        #expect(putBack.code == .rolledBack && putBack.message.hasSuffix(": 1 row it deleted put back"), "\(putBack.message)")
        #expect(try fixture.row("Order", 1)?["status"] == "shipped")
        let removed = try await fixture.guard_.rollback(create.auditSeq, by: "dev", reason: "refund issued against the wrong order")
        #expect(removed.code == .rolledBack && removed.message.hasSuffix(": 1 row it created removed"), "\(removed.message)")
        #expect(try fixture.row("Refund", refundKey) == nil)
        let restored = try await fixture.guard_.rollback(update.auditSeq, by: "dev", reason: "the parcel was not picked up after all")
        #expect(restored.code == .rolledBack && restored.message.hasSuffix(": 1 row restored"), "\(restored.message)")
        #expect(try fixture.row("Order", 1)?["status"] == "pending")
        let event = try fixture.lastEvent()
        #expect(event.decision == "rolled_back" && event.details["rollback_of"] == .number(Double(update.auditSeq)))
        #expect(try fixture.store.verify().ok)
    }

    /// An executed event as an import or an edit of the store could write it: customer `key`, its fields
    /// (name: before, after), for tenant acme through customers.update_contact.
    static func forged(key: Int, _ fields: [String: (JSONValue, JSONValue)]) -> AuditEvent {
        var event = AuditEvent(ts: GuardFixture.start, tenant: "acme", actor: "agent-1", tool: "customers.update_contact", model: "Customer",
                               operation: "update", targets: [.number(Double(key))], rowCount: 1, reason: "fix contact details for the customer",
                               decision: "executed")
        event.changes = [RowChange(key: .number(Double(key)), fields: fields.mapValues { FieldChange(before: $0.0, after: $0.1) })]
        return event
    }

    @Test("a rollback restores only what the event's tool may write, on the event's tenant's rows, as values the model allows, whatever the event says",
          arguments: ["another tenant's row", "a field the tool may not write", "the tenant field", "a value the model refuses", "an empty name"])
    func rollbackScope(_ forgery: String) async throws {
        let fixture = try GuardFixture()
        let customers = try fixture.table("Customer")
        let acme = try #require(customers.first { $0.value["tenant_id"] == "acme" && $0.value["role"] != "admin" })
        let globex = try #require(customers.first { $0.value["tenant_id"] == "globex" && $0.value["role"] != "admin" })
        let event: AuditEvent = switch forgery {
        case "another tenant's row":
            Self.forged(key: Int(globex.key.doubleValue!), ["name": ("Forged Name", globex.value["name"]!)])
        case "a field the tool may not write":
            Self.forged(key: Int(acme.key.doubleValue!), ["role": ("admin", acme.value["role"]!)])
        // Imported or edited events claim any before value: one the model's rules refuse is not written back.
        case "a value the model refuses":
            Self.forged(key: Int(acme.key.doubleValue!), ["email": ("not an email <script>", acme.value["email"]!)])
        case "an empty name":
            Self.forged(key: Int(acme.key.doubleValue!), ["name": ("", acme.value["name"]!)])
        default:
            Self.forged(key: Int(acme.key.doubleValue!), ["tenant_id": ("globex", "acme")])
        }
        let seq = try fixture.store.append([event])[0].seq
        let before = try fixture.table("Customer")
        let decision = try await fixture.guard_.rollback(seq, by: "dev.patel", reason: "agent set the wrong contact, ticket 881")
        #expect(decision.code == .rollbackRefused, "\(decision.message)")
        #expect(try fixture.table("Customer") == before, "no row changed")
    }

    @Test("a rollback is refused while a later write to the same row stands, even when the row's values look as the write left them (found by an adversarial review)")
    func laterWriteStands() async throws {
        let fixture = try GuardFixture()
        func email(_ address: String, _ key: String) async throws -> Decision {
            try await fixture.call("customers.update_contact", ["id": 2, "data": ["email": .string(address)], "reason": "customer phoned with a new address",
                                                                 "idempotency_key": .string(key)])
        }
        let first = try await email("a@example.com", "e-1")
        let second = try await email("b@example.com", "e-2")
        let third = try await email("a@example.com", "e-3")
        #expect([first, second, third].allSatisfy { $0.code == .executed })
        let refused = try await fixture.guard_.rollback(first.auditSeq, by: "dev", reason: "agent wrote the wrong email address")
        #expect(refused.code == .rollbackRefused && refused.message.contains("event \(second.auditSeq) wrote it again"), "\(refused.message)")
        #expect(try fixture.row("Customer", 2)?["email"] == "a@example.com")
        // Newest first, each rollback runs, and the writes rolled back no longer stand in the way.
        for write in [third, second, first] {
            #expect(try await fixture.guard_.rollback(write.auditSeq, by: "dev", reason: "agent wrote the wrong email address").code == .rolledBack)
        }
    }

    @Test("a later write to the row whose outcome is in doubt stands in the way of a rollback too")
    func laterInDoubtStands() async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("customers.update_contact", ["id": 2, "data": ["email": "a@example.com"],
                                                                         "reason": "customer phoned with a new address", "idempotency_key": "d-1"])
        #expect(first.code == .executed)
        let doubtful = AuditEvent(ts: GuardFixture.start, tenant: "acme", actor: "agent-1", tool: "customers.update_contact", model: "Customer",
                                  operation: "update", targets: [2], rowCount: 1, decision: "in_doubt")
        _ = try fixture.store.append([doubtful])
        let refused = try await fixture.guard_.rollback(first.auditSeq, by: "dev", reason: "agent wrote the wrong email address")
        #expect(refused.code == .rollbackRefused && refused.message.contains("changed since"), "\(refused.message)")
    }

    @Test("rollback is refused when the row changed since, twice, for a refusal, or without a reason")
    func rollbackRefused() async throws {
        let fixture = try GuardFixture()
        let first = try await fixture.call("orders.update", orderUpdate())
        let second = try await fixture.call("orders.update", orderUpdate(data: ["status": "cancelled"], key: "key-2")).auditSeq
        let changed = try await fixture.guard_.rollback(first.auditSeq, by: "dev", reason: "the parcel was not picked up")
        #expect(changed.code == .rollbackRefused && changed.message.contains("changed since"))
        #expect(try fixture.row("Order", 1)?["status"] == "cancelled")

        #expect(try await fixture.guard_.rollback(second, by: "dev", reason: "cancelled by mistake, ticket 77").code == .rolledBack)
        #expect(try await fixture.guard_.rollback(second, by: "dev", reason: "cancelled by mistake, ticket 77").code == .rollbackRefused)
        let refused = try await fixture.call("orders.update", orderUpdate(reason: nil, key: "key-3"))
        #expect(try await fixture.guard_.rollback(refused.auditSeq, by: "dev", reason: "undo a refused call please").code == .rollbackRefused)
        #expect(try await fixture.guard_.rollback(first.auditSeq, by: "dev", reason: "n/a").code == .rollbackRefused)
        #expect(try fixture.lastEvent().decision == "rollback_refused")
    }
}
