import Foundation
import RolloutCore
import Testing
@testable import RolloutGuard

/// A condition is judged on the members of its data it reads (`JsonLogicRule.dataRoots`), not on the
/// whole data: the two must give the same value for every rule, row and member.
@Suite("Guard: a condition's data holds what it reads, and judges as the whole data does")
struct ConditionDataTests {
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Item:
            table: items
            key: id
            tenant_field: tenant_id
            fields:
              title: {type: string, max_length: 100}
              status: {type: string, in: [new, done], nullable: true}
        tools:
          items.bulk_update:
            model: Item
            operation: bulk_update
            writable: [status]
            rules:
              many: {when: {">": [{"var": "rows"}, 5]}, decision: refuse, message: at most five at once}
              untitled: {when: {"==": [{"var": "before.title"}, ""]}, decision: refuse, message: an untitled item is named first}
        """

    /// A bulk write of two read rows, with a subject, a lookup and the call's own arguments.
    static func context() throws -> DecisionContext {
        let policy = try Policy.parse(policyText)
        let tool = try #require(policy.tools.first)
        let model = try #require(policy.model(named: tool.model))
        let call = ToolCall(tool: tool.toolName, arguments: [
            "ids": [1, 2], "data": ["status": "done"], "reason": "close the finished items", "idempotency_key": "k-1", "note": "",
        ])
        var context = DecisionContext(policy: policy, call: call, tool: tool, model: model,
                                      principal: Principal(tenant: "acme", actor: "agent-1", subject: "user-7"),
                                      now: Date(timeIntervalSince1970: 1_764_000_000.25), mode: .live, stages: FixedStages(.broad),
                                      options: GuardOptions(), decisionScope: DecisionScope(backend: "test", redactor: Redactor()))
        #expect(try StandardSteps.binding.check(&context) == nil)
        #expect(context.request?.targets.count == 2)
        context.rows = [["id": 1, "title": "first", "status": "new"], ["id": 2, "title": "", "status": .null]]
        context.observed = true
        context.lookups = ["user": ["role": "admin", "id": 7]]
        return context
    }

    static let rules: [String] = [
        #"{"==": [{"var": "after.status"}, "done"]}"#,
        #"{"==": [{"var": "before.status"}, "new"]}"#,
        #"{"missing": ["before.status", "before.title", "lookup.user.role", "args.note", "subject"]}"#,
        #"{"missing_some": [2, ["lookup.user.id", "actor", "tenant", "args.nothing"]]}"#,
        #"{"var": {"cat": ["lookup.user.", {"var": "args.data.status"}]}}"#,
        #"{"var": {"cat": ["look", "up.user.role"]}}"#,
        #"{"var": ""}"#,
        #"{"some": [{"var": "args.ids"}, {">": [{"var": ""}, 1]}]}"#,
        #"{"reduce": [{"var": "args.ids"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, {"var": "rows"}]}"#,
        #"{"cat": [{"var": "tool"}, {"var": "now"}, {"var": "rows"}]}"#,
        #"{"if": [{"var": "lookup.user"}, {"var": "after"}, {"var": "before"}]}"#,
        #"{"var": ["nothing.here", {"var": "args.reason"}]}"#,
    ]

    @Test("each rule's value, row by row, is the one it has over the whole data", arguments: rules)
    func sameValue(rule text: String) throws {
        let rule = try JsonLogicRule(try JSONValue.parse(text))
        let context = try Self.context()
        let whole = context.conditionDataByRow.map(rule.evaluate)
        let narrow = context.conditionDataByRow(reading: rule.dataRoots).map(rule.evaluate)
        #expect(narrow == whole)
        #expect(context.holdsForAnyRow(rule) == context.conditionDataByRow.contains { rule.isTruthy($0) })
    }

    @Test("a rule that reads one member gets data of that member alone, one per row")
    func narrowData() throws {
        let rule = try JsonLogicRule(try JSONValue.parse(#"{"==": [{"var": "after.status"}, "done"]}"#))
        let data = try Self.context().conditionDataByRow(reading: rule.dataRoots)
        #expect(data.count == 2)
        #expect(data.map { $0.objectValue.map { Array($0.keys) } } == [["after"], ["after"]])
        #expect(data.map { $0["after"]?["title"] } == ["first", ""])
    }

    @Test("the refusing rules are judged on the members any of them reads: the second rule's row is named")
    func refusingRules() throws {
        var context = try Self.context()
        let verdict = try StandardSteps.rules.check(&context)
        guard case .refuse(let code, let message)? = verdict else {
            Issue.record("expected a refusal, got \(String(describing: verdict))")
            return
        }
        #expect(code == .ruleRefused)
        #expect(message == "items.bulk_update: an untitled item is named first (Item 2) (rule untitled)")
    }
}
