import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A note an agent writes, and what the policy's rules over it must decide.
struct NoteCase: Sendable, CustomTestStringConvertible {
    var notes: String
    var decision: DecisionCode
    var testDescription: String { "\(notes.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()) → \(decision.rawValue)" }
}

@Suite("Rules, subjects and listed values compare text as the upstream does: by its code units (review 29)")
struct TextIdentityTests {
    /// The example policy, its orders.update given a rule over the notes' length and one over their text.
    static func policy() throws -> Policy {
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let edited = text.replacingOccurrences(of: """
                cap: {max: 100, per: 1h}
                bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}
            """, with: """
                cap: {max: 100, per: 1h}
                rules:
                  short_notes:
                    when: {">": [{"var": "after.notes.length"}, 20]}
                    message: notes stay under 21 characters
                  no_links:
                    when: {"in": ["http", {"var": "after.notes"}]}
                    message: notes hold no links
                bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}
            """)
        #expect(edited != text, "the example policy's orders.update changed: update this test's edit")
        return try Policy.parse(edited)
    }

    static let cases = [
        NoteCase(notes: "left at door", decision: .executed),
        NoteCase(notes: "this note is far longer than twenty characters", decision: .ruleRefused),
        NoteCase(notes: "see http://x.io", decision: .ruleRefused),
        NoteCase(notes: "see http\u{301}://x.io", decision: .ruleRefused),
    ]

    @Test("rules over a note's length and text", arguments: cases)
    func notes(_ test: NoteCase) async throws {
        let fixture = try GuardFixture(policy: try Self.policy())
        let decision = try await fixture.call("orders.update", orderUpdate(data: ["notes": .string(test.notes)]))
        #expect(decision.code == test.decision, "\(decision.message)")
    }

    @Test("the user a tool acts for is the subject's exact bytes, not another spelling of them", arguments: [
        ("jos\u{E9}", DecisionCode.executed), ("jose\u{301}", .principalMismatch),
    ])
    func subject(_ user: String, _ decision: DecisionCode) async throws {
        var policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let index = try #require(policy.tools.firstIndex { $0.name == "orders.update" })
        policy.tools[index].principalField = JSONPointer("/user")
        let fixture = try GuardFixture(policy: policy)
        var args = orderUpdate().objectValue!
        args["user"] = .string(user)
        let got = try await fixture.call("orders.update", .object(args), as: Principal(tenant: "acme", actor: "agent-1", session: "s-1", subject: "jos\u{E9}"))
        #expect(got.code == decision, "\(got.message)")
    }

    @Test("a condition may read what JavaScript reads: a string's or list's length, an item by plain index", arguments: [
        ("after.notes.length", true), ("after.notes.2", true), ("after.notes.02", false), ("after.notes.length.x", false),
        ("after.status.x", false),
    ])
    func conditionPaths(_ path: String, _ accepted: Bool) throws {
        let text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let edited = text.replacingOccurrences(of: #"when: {"==": [{"var": "after.status"}, "refunded"]}"#,
                                               with: #"when: {"==": [{"var": "\#(path)"}, "refunded"]}"#)
        #expect(edited != text)
        #expect(((try? Policy.parse(edited)) != nil) == accepted)
    }

    @Test("a member named another way (the Kelvin sign for K) is not the declared member: not read as it, not covered by it")
    func memberNames() throws {
        let pointer = try #require(JSONPointer("/Key"))
        #expect(pointer.resolve(in: ["Key": 1]) == 1)
        #expect(pointer.resolve(in: ["\u{212A}ey": 1]) == nil)
        #expect(pointer.covers(["Key"], inList: [false]))
        #expect(!pointer.covers(["\u{212A}ey"], inList: [false]))
        var tool = try #require(try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy().tool(named: "orders.update"))
        tool.arguments = [FieldRule(name: "Key", type: .string)]
        #expect(RequestBinder.unboundArguments(["Key": "a"], tool: tool).isEmpty)
        #expect(RequestBinder.unboundArguments(["\u{212A}ey": "a"], tool: tool) == ["/\u{212A}ey"])
    }

    /// Top-level members against orders.update's declared places (`/id`, `/data`, `/reason`,
    /// `/idempotency_key`, an argument `Key`), and a member named `*`, which no pointer of the tool declares.
    static let memberCases: [(JSONValue, Bool, [String])] = [
        (["id": 1, "data": [:], "reason": "r", "idempotency_key": "k"], true, []),
        (["id": 1, "Key": "a"], true, []),
        (["id": 1, "status": "paid"], false, ["/status"]),
        (["\u{212A}ey": "a"], false, ["/\u{212A}ey"]),
        (["id": 1, "data": ["status": "paid"], "*": 1], false, ["/*"]),
        ([:], true, []),
    ]

    @Test("the check that every member is declared agrees with the declared pointers, byte for byte", arguments: memberCases)
    func everyMemberDeclared(_ arguments: JSONValue, _ declared: Bool, _ unbound: [String]) throws {
        var tool = try #require(try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy().tool(named: "orders.update"))
        tool.arguments = [FieldRule(name: "Key", type: .string)]
        let members = try #require(arguments.objectValue)
        #expect(tool.declaresEveryMember(of: members) == declared)
        // What the pointers themselves say: every member covered by a one-token pointer of its bytes.
        let byPointers = members.keys.allSatisfy { name in tool.declaredPointers.contains { $0.tokens.count == 1 && $0.tokens[0].utf8.elementsEqual(name.utf8) } }
        #expect(byPointers == declared)
        #expect(RequestBinder.unboundArguments(arguments, tool: tool) == unbound)
    }

    @Test("a written field spelled another way (the Kelvin sign for K) is not the model's field, nor writable as it", arguments: [
        ("Kind", DecisionCode.executed), ("\u{212A}ind", .fieldNotWritable),
    ])
    func fieldNames(_ name: String, _ decision: DecisionCode) async throws {
        var policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let model = try #require(policy.models.firstIndex { $0.name == "Order" })
        policy.models[model].fields.append(FieldRule(name: "Kind", type: .string, allowed: ["a", "b"]))
        #expect(policy.models[model].field("\u{212A}ind") == nil)
        let tool = try #require(policy.tools.firstIndex { $0.name == "orders.update" })
        policy.tools[tool].writable.append("Kind")
        // The built-in rows have no column Kind: the in-memory tables take any field.
        let environment = InMemoryEnvironment()
        _ = try environment.seed(model: policy.models[model], values: ["tenant_id": "acme", "status": "pending", "amount_cents": 100, "notes": "-",
                                                                        "shipping_address": "1 Main St", "payment_token": "tok"])
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
        let got = try await guard_.decide(ToolCall(tool: "orders.update", arguments: orderUpdate(data: .object([name: "a"]))), principal: GuardFixture.acme)
        #expect(got.code == decision, "\(got.message)")
    }

    @Test("a listed value is listed with its exact bytes")
    func listedValue() {
        let rule = FieldRule(name: "city", type: .string, allowed: ["Z\u{FC}rich"])
        #expect(rule.violation(.string("Z\u{FC}rich")) == nil)
        #expect(rule.violation(.string("Zu\u{308}rich")) != nil)
    }
}
