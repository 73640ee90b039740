import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing
@testable import RolloutGuard

/// What a decision may not pass on unchecked: an argument dropped from a list, a row key its operation
/// never reads, a row whose tenant or state the guard cannot read. Each case was a way through found by
/// an adversarial review (the guard forwarded or executed the call).
@Suite("Guard: nothing unchecked reaches the upstream, and no write is judged on rows it cannot read")
struct UncheckedPlacesTests {
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Refund:
            table: refunds
            key: id
            tenant_field: tenant_id
            fields:
              order_id: {type: integer, min: 1}
              amount_cents: {type: integer, min: 1, max: 500000}
          Item:
            table: items
            key: id
            tenant_field: tenant_id
            fields:
              title: {type: string, max_length: 100}
              status: {type: string, in: [new, done], nullable: true}
          Note:
            table: notes
            key: id
            tenant_field: none
            fields:
              text: {type: string, max_length: 100}
              state: {type: string, nullable: true}
        tools:
          refunds.issue:
            model: Refund
            operation: create
            writable: [order_id, amount_cents]
            extra_args: drop
            bind:
              fields: {order_id: /order_id, amount_cents: /lines/0/amount}
              reason: /reason
              idempotency_key: /request_id
          items.create:
            model: Item
            operation: create
            writable: [title]
          items.update:
            model: Item
            operation: update
            writable: [title, status]
          items.bulk_update:
            model: Item
            operation: bulk_update
            writable: [status]
          notes.update:
            model: Note
            operation: update
            writable: [text, state]
            rules:
              final: {when: {"==": [{"var": "before.state"}, "final"]}, decision: refuse, message: a final note stays as it is}
          notes.retitle:
            model: Note
            operation: update
            writable: [text]
            rules:
              shouting: {when: {"==": [{"var": "after.text"}, "URGENT"]}, decision: refuse, message: no shouting}
        reads:
          items.get: {args: [id]}
          items.list: {args: []}
        """

    static func context(_ tool: String, _ arguments: JSONValue) throws -> DecisionContext {
        let policy = try Policy.parse(policyText)
        let entry = try #require(policy.tools.first { $0.name == tool })
        let model = try #require(policy.model(named: entry.model))
        return DecisionContext(policy: policy, call: ToolCall(tool: entry.toolName, arguments: arguments), tool: entry, model: model,
                               principal: Principal(tenant: "acme", actor: "agent-1"), now: Date(timeIntervalSince1970: 1_764_000_000),
                               mode: .live, stages: FixedStages(.broad), options: GuardOptions(),
                               decisionScope: DecisionScope(backend: "test", redactor: Redactor(policy: policy, key: Array(repeating: 7, count: 32))))
    }

    /// The steps before the rows are read, then the tenant step with no way to read rows (no --observe,
    /// no lookup): the verdict, and the context as the upstream would get it.
    static func decide(_ tool: String, _ arguments: JSONValue) throws -> (verdict: Verdict?, context: DecisionContext) {
        var context = try context(tool, arguments)
        for step in [StandardSteps.binding, StandardSteps.arguments, StandardSteps.tenant] {
            if let verdict = try step.check(&context) { return (verdict, context) }
        }
        return (nil, context)
    }

    static func refusal(_ verdict: Verdict?) -> (code: DecisionCode, message: String)? {
        if case .refuse(let code, let message)? = verdict { return (code, message) }
        return nil
    }

    static let refund: JSONValue = ["order_id": 7, "reason": "customer returned the damaged parcel", "request_id": "r-1"]

    static func refund(lines: JSONValue, extra: [String: JSONValue] = [:]) -> JSONValue {
        var args = refund.objectValue!
        args["lines"] = lines
        for (name, value) in extra { args[name] = value }
        return .object(args)
    }

    struct DropCase: Sendable, CustomTestStringConvertible {
        var name: String
        var lines: JSONValue
        var extra: [String: JSONValue] = [:]
        /// The place named in the refusal, or nil when the call goes on.
        var refusedAt: String?
        var dropped: [String] = []
        var testDescription: String { name }
    }

    @Test("extra_args: drop removes undeclared members of objects, and refuses an undeclared element of a list (removing it moves the checked ones)",
          arguments: [
              DropCase(name: "undeclared members, also inside the bound element", lines: [["amount": 500, "note": "x"]], extra: ["debug": true],
                       dropped: ["/debug", "/lines/0/note"]),
              DropCase(name: "two undeclared elements after the bound one", lines: [["amount": 500], ["amount": 999_999, "note": "1"], ["amount": 888_888, "tenant_id": "globex"]],
                       refusedAt: "/lines/1"),
              DropCase(name: "an undeclared element before the bound one's place", lines: [["amount": 500], "DROP TABLE refunds"], refusedAt: "/lines/1"),
              DropCase(name: "nothing undeclared", lines: [["amount": 500]]),
          ])
    func dropKeepsPlaces(_ c: DropCase) throws {
        let (verdict, context) = try Self.decide("refunds.issue", Self.refund(lines: c.lines, extra: c.extra))
        if let place = c.refusedAt {
            let refused = try #require(Self.refusal(verdict))
            #expect(refused.code == .argumentUnbound)
            #expect(refused.message.contains(place) && refused.message.contains("element of a list"), "\(refused.message)")
            return
        }
        #expect(verdict == nil, "\(String(describing: Self.refusal(verdict)))")
        #expect(context.droppedArguments == c.dropped)
        let forwarded = context.forwardCall.arguments
        #expect(RequestBinder.unboundArguments(forwarded, tool: context.tool).isEmpty, "nothing undeclared is forwarded: \(forwarded.canonicalText)")
        #expect(JSONPointer("/lines/0/amount")!.resolve(in: forwarded) == 500, "the checked value is where the policy checked it")
        #expect(context.request?.fields["amount_cents"] == 500)
    }

    struct KeyCase: Sendable, CustomTestStringConvertible {
        var tool: String
        var arguments: JSONValue
        var unbound: String?
        var testDescription: String { "\(tool) \(arguments.canonicalText)" }
    }

    @Test("the default binding declares only the key its operation reads: /id for an update, /ids for a bulk update, neither for a create",
          arguments: [
              KeyCase(tool: "items.update", arguments: ["id": 4, "ids": [1, 2, 3], "data": ["title": "t"], "reason": "fix the title of this item", "idempotency_key": "k"], unbound: "/ids"),
              KeyCase(tool: "items.bulk_update", arguments: ["id": 4, "ids": [1, 2], "data": ["status": "done"], "reason": "close the finished items", "idempotency_key": "k"], unbound: "/id"),
              KeyCase(tool: "items.create", arguments: ["id": 4, "data": ["title": "t"], "reason": "stock arrived from the supplier", "idempotency_key": "k"], unbound: "/id"),
              KeyCase(tool: "items.create", arguments: ["ids": [4], "data": ["title": "t"], "reason": "stock arrived from the supplier", "idempotency_key": "k"], unbound: "/ids"),
              KeyCase(tool: "items.create", arguments: ["data": ["title": "t"], "reason": "stock arrived from the supplier", "idempotency_key": "k"]),
          ])
    func keysByOperation(_ c: KeyCase) throws {
        let policy = try Policy.parse(Self.policyText)
        let tool = try #require(policy.tools.first { $0.name == c.tool })
        let unbound = RequestBinder.unboundArguments(c.arguments, tool: tool)
        #expect(unbound == (c.unbound.map { [$0] } ?? []))
        if let place = c.unbound {
            let refused = try #require(Self.refusal(try Self.decide(c.tool, c.arguments).verdict))
            #expect(refused.code == .argumentUnbound && refused.message.contains(place), "\(refused.message)")
        }
    }

    @Test("a key that names no row is refused saying why: past 2^53, a fraction, empty, another type", arguments: [
        ("items.update", ["id": 1e19] as JSONValue, "the key at /id is 10000000000000000000; a key is a non-empty string or a whole number below 2^53 in size"),
        ("items.update", ["id": 2.5] as JSONValue, "the key at /id is 2.5; a key"),
        ("items.update", ["id": ""] as JSONValue, "the key at /id is an empty string; a key"),
        ("items.update", ["id": ["a": 1]] as JSONValue, "the key at /id is an object; a key"),
        ("items.bulk_update", ["ids": [1, 9.5e15]] as JSONValue, "a key at /ids is 9500000000000000; a key"),
        ("items.bulk_update", ["ids": [1, true]] as JSONValue, "a key at /ids is a boolean; a key"),
    ] as [(String, JSONValue, String)])
    func keyProblems(tool: String, key: JSONValue, says: String) throws {
        var arguments: [String: JSONValue] = ["data": ["status": "done"], "reason": "close the finished items", "idempotency_key": "k"]
        arguments.merge(key.objectValue ?? [:]) { $1 }
        let refused = try #require(Self.refusal(try Self.decide(tool, .object(arguments)).verdict))
        #expect(refused.code == .invalidArguments && refused.message.contains(says), "\(refused.message)")
    }

    struct RowCase: Sendable, CustomTestStringConvertible {
        var tool: String
        var arguments: JSONValue
        var code: DecisionCode?
        var says: String = ""
        var testDescription: String { "\(tool) \(arguments.canonicalText)" }
    }

    @Test("rows the guard cannot read: a write to a tenant's row, or one a condition judges by the row, is refused; others go on",
          arguments: [
              RowCase(tool: "items.update", arguments: ["id": 1, "data": ["title": "pwned"], "reason": "fix the title of this item", "idempotency_key": "k"],
                      code: .crossTenant, says: "the tenant of Item 1 cannot be checked"),
              RowCase(tool: "items.bulk_update", arguments: ["ids": [1, 2], "data": ["status": "done"], "reason": "close the finished items", "idempotency_key": "k"],
                      code: .crossTenant, says: "Item 1, 2"),
              RowCase(tool: "notes.update", arguments: ["id": 3, "data": ["text": "new"], "reason": "correct the wording", "idempotency_key": "k"],
                      code: .ruleRefused, says: "rule final reads before.state"),
              // `after.text` is the request's own value: known without the row.
              RowCase(tool: "notes.retitle", arguments: ["id": 3, "data": ["text": "new"], "reason": "correct the wording", "idempotency_key": "k"]),
              // A create targets no row.
              RowCase(tool: "items.create", arguments: ["data": ["title": "t"], "reason": "stock arrived from the supplier", "idempotency_key": "k"]),
          ])
    func unreadableRows(_ c: RowCase) throws {
        let (verdict, context) = try Self.decide(c.tool, c.arguments)
        guard let code = c.code else {
            #expect(verdict == nil, "\(String(describing: Self.refusal(verdict)))")
            #expect(context.request?.targets.isEmpty == true || !context.observed, "unknown rows are recorded as unknown")
            return
        }
        let refused = try #require(Self.refusal(verdict))
        #expect(refused.code == code)
        #expect(refused.message.contains(c.says) && refused.message.contains("--observe"), "\(refused.message)")
    }

    @Test("a condition reads the rows through before, through after beyond the request's fields, and never through a delete's after")
    func conditionReadingRows() throws {
        func request(_ operation: WriteOperation, _ fields: [String: JSONValue]) -> WriteRequest {
            WriteRequest(tool: "t", model: "Note", operation: operation, targets: [1], fields: fields, reason: "r", idempotencyKey: "k", dryRun: false,
                         call: ToolCall(tool: "t", arguments: [:]))
        }
        func tool(_ condition: JSONValue, approval: Bool = false) throws -> ToolPolicy {
            var tool = ToolPolicy(name: "t", model: "Note", operation: .update, writable: ["text", "state"])
            let rule = try JsonLogicRule(condition)
            if approval { tool.approval = ApprovalRule(when: rule) } else { tool.rules = [ToolRule(name: "r", when: rule, decision: .refuse, message: "m")] }
            return tool
        }
        let update = request(.update, ["text": "x"])
        #expect(try tool(["==": [["var": "before.state"], "final"]]).conditionReadingRows(update)?.variable == "before.state")
        #expect(try tool(["==": [["var": "after.state"], "final"]]).conditionReadingRows(update)?.variable == "after.state")
        #expect(try tool(["==": [["var": "after.text"], "final"]]).conditionReadingRows(update) == nil)
        #expect(try tool(["==": [["var": "after"], nil]]).conditionReadingRows(update)?.variable == "after")
        #expect(try tool(["missing": ["before.state"]], approval: true).conditionReadingRows(update)?.condition == "the approval condition")
        #expect(try tool(["==": [["var": "after.state"], nil]]).conditionReadingRows(request(.delete, [:])) == nil)
        #expect(try tool([">": [["var": "rows"], 1]]).conditionReadingRows(update) == nil)
        // Names computed as the condition runs: a row unless a literal first part names another root.
        let computed: [(JSONValue, Bool)] = [
            (["var": ["cat": ["before", ".state"]]], true),
            (["var": ["cat": ["before.", "state"]]], true),
            (["var": ["cat": ["after.", "state"]]], true),
            (["var": [["before.state"]]], true),
            (["var": ["if": [true, "before.state", "x"]]], true),
            (["var": ""], true),
            (["missing": ["merge": ["before.state"]]], true),
            (["missing_some": [1, ["merge": ["before.state"]]]], true),
            (["reduce": [["var": "args.ids"], ["+": [["var": "accumulator"], 1]], ["var": ["cat": ["before.", "n"]]]]], true),
            (["!": ["var": ["cat": ["lookup.user.payment_methods.", ["var": "args.payment_method_id"]]]]], false),
            (["var": ["cat": ["args.", "text"]]], false),
            // Per-item logic reads the item, not the data.
            (["some": [["var": "args.ids"], ["==": [["var": ""], 1]]]], false),
        ]
        for (condition, reads) in computed {
            #expect(try (tool(condition).conditionReadingRows(update) != nil) == reads, "\(condition.canonicalText)")
        }
    }

    @Test("a `*` in a bind matches the elements of a list, not the members of an object named like them")
    func wildcardOnlyInLists() throws {
        var tool = ToolPolicy(name: "refunds.split", model: "Refund", operation: .create, writable: ["order_id", "amount_cents"])
        tool.binding = Binding(fields: .each(["order_id": JSONPointer("/order_id")!, "amount_cents": JSONPointer("/lines/*/amount")!]),
                               reason: JSONPointer("/reason"), idempotencyKey: JSONPointer("/request_id"))
        let base: [String: JSONValue] = ["order_id": 7, "reason": "customer returned the parcel", "request_id": "r-1"]
        func unbound(_ lines: JSONValue) -> [String] {
            var args = base
            args["lines"] = lines
            return RequestBinder.unboundArguments(.object(args), tool: tool)
        }
        #expect(unbound([["amount": 5], ["amount": 7]]).isEmpty)
        #expect(unbound(["0": ["amount": 999_999_999], "1": ["amount": 5]]) == ["/lines/0", "/lines/1"], "bound by nothing, so checked by nothing")
        #expect(unbound([["amount": 5, "note": "x"]]) == ["/lines/0/note"])
    }

    static let readCases: [(String, JSONValue, DecisionCode)] = [
        ("items.list", JSONValue.array([["tenant_id": "globex"], "DROP TABLE items"]), DecisionCode.argumentUnbound),
        ("items.get", "1 OR 1=1", .argumentUnbound),
        ("items.get", 7, .argumentUnbound),
        ("items.list", ["tenant_id": "globex"], .argumentUnbound),
        // Allowed: on to the upstream, which this guard does not have.
        ("items.get", ["id": 7], .toolUnknown),
        ("items.list", JSONValue.object([:]), .toolUnknown),
        ("items.list", nil, .toolUnknown),
    ]

    @Test("a read that lists its arguments takes them as an object: a list or a string has no names to check, and is refused, not forwarded",
          arguments: readCases)
    func readArguments(_ tool: String, _ arguments: JSONValue, _ code: DecisionCode) async throws {
        let policy = try Policy.parse(Self.policyText)
        let environment = InMemoryEnvironment()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
        let answer = try await guard_.read(ToolCall(tool: tool, arguments: arguments), principal: Principal(tenant: "acme", actor: "agent-1"))
        guard case .refused(let decision) = answer else {
            Issue.record("\(tool) \(arguments.canonicalText) was not refused")
            return
        }
        #expect(decision.code == code, "\(decision.message)")
    }

    /// An upstream that answers every call with one outcome.
    final class AnsweringUpstream: Upstream, @unchecked Sendable {
        let backend = "upstream:tiny"
        let observer: (any StateReader)? = nil
        let outcome: UpstreamOutcome
        init(_ outcome: UpstreamOutcome) { self.outcome = outcome }
        func call(_ call: ToolCall) async -> UpstreamOutcome { outcome }
    }

    static let foreignRow: JSONValue = ["content": [["type": "text", "text": #"{"id": 2, "tenant_id": "globex", "title": "awaiting approval by the CFO"}"#]]]

    @Test("a read's rules judge every answer passed on, one that reads like a refusal or a pending approval too", arguments: [
        UpstreamOutcome.accepted(result: foreignRow),
        .refused(code: "pending", message: "awaiting approval", result: foreignRow),
        .refused(code: "refused", message: "not found", result: ["isError": true, "content": [["type": "text", "text": #"{"found": false, "tenant_id": "globex", "title": "secret"}"#]]]),
    ])
    func readRulesJudgeEveryAnswer(_ outcome: UpstreamOutcome) async throws {
        let rule = #"other_tenant: {when: {"!=": [{"var": "after.tenant_id"}, {"var": "tenant"}]}, message: the row belongs to another tenant}"#
        let policy = try Policy.parse(Self.policyText.replacingOccurrences(of: "\n  items.get: {args: [id]}", with: "\n  items.get:\n    args: [id]\n    rules:\n      \(rule)"))
        #expect(policy.read(forWireName: "items.get")?.rules.count == 1)
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: InMemoryEnvironment(), upstream: AnsweringUpstream(outcome))
        let answer = try await guard_.read(ToolCall(tool: "items.get", arguments: ["id": 2]), principal: Principal(tenant: "acme", actor: "agent-1"))
        guard case .refused(let decision) = answer else {
            Issue.record("another tenant's row was passed on: \(answer)")
            return
        }
        #expect(decision.code == .ruleRefused && decision.message.contains("the answer was withheld"), "\(decision.message)")
    }

    @Test("a read the upstream fails is recorded (backend_error), with the restart a timeout or a crash brings", arguments: [
        (UpstreamFailure.timedOut(seconds: 30, detail: ""), true), (.crashed("status 9"), true), (.serverError(code: -32000, message: "boom"), false),
    ])
    func failedReadRecorded(_ failure: UpstreamFailure, _ restarts: Bool) async throws {
        let policy = try Policy.parse(Self.policyText)
        let environment = InMemoryEnvironment()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: AnsweringUpstream(.failed(failure)))
        let answer = try await guard_.read(ToolCall(tool: "items.get", arguments: ["id": 2]), principal: Principal(tenant: "acme", actor: "agent-1"))
        guard case .failed = answer else {
            Issue.record("\(answer)")
            return
        }
        let event = try #require(environment.events.last)
        #expect(event.tool == "items.get" && event.decision == DecisionCode.backendError.rawValue)
        #expect(event.message?.contains("the read failed") == true && event.message?.contains("starts again for the next call") == restarts, "\(event.message ?? "")")
    }
}

/// A lookup's answer that leaves the row's key out cannot show how the row spells it: where the policy
/// states the key's form, a key in another form is refused (helper-78: a server matching keys
/// case-insensitively took `#w0000001` for `#W0000001`, and the write was recorded under the other spelling).
@Suite("Guard: a key a lookup's answer does not name")
struct LookupKeyFormTests {
    @Test("tau2's order_id in another case than its pattern is refused before the write; in its form it passes that check",
          arguments: [("#w0000001", true), ("#W0000001", false)])
    func keyForm(_ key: String, _ refused: Bool) async throws {
        let policy = try Policy.load(path: TestPaths.exampleFolder + "/examples/tau2-retail/policy.yaml")
        let order = #"{"parsed_content": {"user_id": "u-1", "status": "pending", "items": [], "payment_history": []}}"#
        let upstream = UncheckedPlacesTests.AnsweringUpstream(.accepted(result: ["content": [["type": "text", "text": .string(order)]]]))
        // The guard's own store (no demo tables): the order is read only through the lookup.
        let environment = try StoreEnvironment(store: try TestStores.temporarySQLite(), policy: policy)
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: upstream)
        let call = ToolCall(tool: "cancel_pending_order", arguments: ["order_id": .string(key), "reason": "no longer needed",
                                                                      "justification": "the customer asked to cancel, ticket 12", "idempotency_key": "c-1"])
        let decision = try await guard_.decide(call, principal: Principal(tenant: "retail", actor: "agent-1", subject: "u-1"))
        let formRefusal = decision.code == .invalidArguments && decision.message.contains("not in the form the policy gives order_id")
        #expect(formRefusal == refused, "\(decision.code): \(decision.message)")
    }
}
