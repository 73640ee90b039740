import Foundation
import Testing

@testable import RolloutCore
import RolloutTestSupport

/// One case of the official JsonLogic suite (jsonlogic.com/tests.json).
struct JsonLogicCase: Sendable, CustomTestStringConvertible {
    var section: String
    var index: Int
    var rule: JSONValue
    var data: JSONValue
    var expected: JSONValue

    var testDescription: String { "#\(index) \(section): \(rule.canonicalText)" }

    static let suitePath = TestPaths.shared.appendingPathComponent("conformance/jsonlogic/tests.json")

    /// The cases of the suite, or none when the file is not there.
    static let all: [JsonLogicCase] = {
        guard let data = try? Data(contentsOf: suitePath), let document = try? JSONValue.parse(data),
            case .array(let items) = document
        else { return [] }
        var cases: [JsonLogicCase] = []
        var section = ""
        for item in items {
            switch item {
            case .string(let header): section = header
            case .array(let triple) where triple.count == 3:
                cases.append(JsonLogicCase(section: section, index: cases.count + 1, rule: triple[0], data: triple[1], expected: triple[2]))
            default: break
            }
        }
        return cases
    }()

    /// Whether `evaluate` agrees with the expected result (numbers compare by value).
    func passes() -> Bool {
        guard let rule = try? JsonLogicRule(rule) else { return false }
        return rule.evaluate(data) == expected
    }
}

@Suite("JsonLogic: the official test suite")
struct JsonLogicConformanceTests {
    @Test(
        "every case of the official suite",
        .enabled(if: !JsonLogicCase.all.isEmpty, "shared/conformance/jsonlogic/tests.json is not there"),
        arguments: JsonLogicCase.all)
    func officialCase(_ testCase: JsonLogicCase) throws {
        let rule = try JsonLogicRule(testCase.rule)
        let result = rule.evaluate(testCase.data)
        #expect(result == testCase.expected, "rule \(testCase.rule.canonicalText) over \(testCase.data.canonicalText)")
    }

    @Test("the suite has all 278 cases and every one passes",
          .enabled(if: !JsonLogicCase.all.isEmpty, "shared/conformance/jsonlogic/tests.json is not there"))
    func passCount() {
        let passed = JsonLogicCase.all.filter { $0.passes() }.count
        print("JsonLogic suite: \(passed) of \(JsonLogicCase.all.count) cases pass")
        #expect(JsonLogicCase.all.count == 278)
        #expect(passed == JsonLogicCase.all.count)
    }
}

@Suite("JsonLogic: compile-time checks and policy conditions")
struct JsonLogicRuleTests {
    @Test("unknown operators are rejected at compile time")
    func unknownOperator() {
        #expect(throws: JsonLogicError.self) { try JsonLogicRule(["bogus_op": [1, 2]]) }
        #expect(throws: JsonLogicError.self) { try JsonLogicRule(["and": [true, ["nope": 1]]]) }
    }

    @Test("root variables exclude the per-item logic of map, filter and friends")
    func rootVariables() throws {
        let rule = try JsonLogicRule(try JSONValue.parse("""
            {"and": [{">": [{"var": "after.amount_cents"}, 50000]},
                     {"some": [{"var": "args.items"}, {">": [{"var": "qty"}, 1]}]},
                     {"missing": ["before.status"]}]}
            """))
        #expect(rule.rootVariables.sorted() == ["after.amount_cents", "args.items", "before.status"])
    }

    @Test("data roots: the members a rule can read, nil when a name is computed without a literal root or empty", arguments: [
        (#"{"==": [{"var": "after.status"}, "refunded"]}"#, ["after"]),
        (#"{"missing": ["before.status", "lookup.user"]}"#, ["before", "lookup"]),
        (#"{"missing_some": [1, ["args.a", "tenant"]]}"#, ["args", "tenant"]),
        (#"{"some": [{"var": "args.items"}, {">": [{"var": "qty"}, 1]}]}"#, ["args"]),
        (#"{"reduce": [{"var": "args.lines"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, {"var": "rows"}]}"#, ["args", "rows"]),
        (#"{"var": {"cat": ["lookup.user.", {"var": "args.id"}]}}"#, ["args", "lookup"]),
        (#"{"var": ["now", {"var": "subject"}]}"#, ["now", "subject"]),
        (#"{"var": 3}"#, ["3"]),
        ("true", []),
        (#"{"var": ""}"#, nil),
        (#"{"var": [null]}"#, nil),
        (#"{"var": {"cat": ["after", ".status"]}}"#, nil),
        (#"{"var": ".status"}"#, nil),
        (#"{"missing": {"merge": [["after.a"], {"var": "args.names"}]}}"#, nil),
    ] as [(String, [String]?)])
    func dataRoots(rule: String, expected: [String]?) throws {
        let compiled = try JsonLogicRule(try JSONValue.parse(rule))
        #expect(compiled.dataRoots.map { $0.sorted() } == expected)
    }

    @Test("the approval condition of the example policy", arguments: [
        (60_000.0, true), (50_000.0, false), (49_999.0, false),
    ])
    func approvalCondition(amount: Double, expected: Bool) throws {
        let rule = try JsonLogicRule([">": [["var": "after.amount_cents"], 50000]])
        #expect(rule.isTruthy(["after": ["amount_cents": .number(amount)]]) == expected)
    }
}
