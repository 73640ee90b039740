import Foundation
import RolloutCore
import Testing
@testable import RolloutGuard

/// An upstream's answer as a read's rules and a lookup read it (helper-84): an answer with no one state
/// to read is refused, never judged as null.
@Suite("Answer documents")
struct AnswerDocumentsTests {
    static func text(_ parts: String...) -> JSONValue {
        ["content": .array(parts.map { ["type": "text", "text": .string($0)] })]
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let result: JSONValue
        let expected: AnswerDocuments
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "one JSON text", result: text(#"{"status": "refunded"}"#), expected: .documents([["status": "refunded"]])),
        Case(name: "a document split over two parts", result: text(#"{"status": "refunded","#, #""total": 2}"#),
             expected: .documents([["status": "refunded", "total": 2]])),
        Case(name: "two documents, one per part", result: text(#"{"a": 1}"#, #"{"b": 2}"#), expected: .documents([["a": 1], ["b": 2]])),
        Case(name: "plain text", result: text("Order O1234: refunded, total 2000.00"), expected: .unreadable("its text is not JSON")),
        Case(name: "a row, then a line of prose", result: text(#"{"deleted_at": "2026-01-01"}"#, "(1 row)"),
             expected: .unreadable("its text part 2 of 2 is not JSON")),
        Case(name: "a part of another type", result: ["content": [["type": "resource", "resource": ["text": "{}"]]]],
             expected: .unreadable("its content part 1 is of type resource, not text")),
        Case(name: "content that is not a list", result: ["content": "{}"], expected: .unreadable("its content is a string, not a list of parts")),
        Case(name: "structured content and its text", result: ["structuredContent": ["a": 1], "content": [["type": "text", "text": #"{"a": 1}"#]]],
             expected: .documents([["a": 1], ["a": 1]])),
        Case(name: "blank text beside structured content", result: ["structuredContent": ["a": 1], "content": [["type": "text", "text": " \n"]]],
             expected: .documents([["a": 1]])),
        Case(name: "nothing", result: ["content": []], expected: .empty),
    ]

    @Test("an answer's documents", arguments: cases)
    func documents(_ c: Case) {
        #expect(AnswerDocuments(c.result) == c.expected)
    }

    @Test("structured content and text that disagree give no one state")
    func disagreeing() {
        let answer: JSONValue = ["structuredContent": ["deleted_at": .null], "content": [["type": "text", "text": #"{"deleted_at": "2026-01-01"}"#]]]
        guard case .failure(let unreadable) = AnswerDocuments(answer).state else {
            Issue.record("a state was read from an answer whose two forms disagree")
            return
        }
        #expect(unreadable.why.contains("are not one state"))
        #expect(AnswerDocuments(Self.text(#"{"a": 1}"#)).state == .success(["a": 1]))
        #expect(AnswerDocuments(["content": []]).state == .success(.null))
    }

    // MARK: lookups

    static let lookupPolicy = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Order:
            table: orders
            key: id
            tenant_field: none
            fields:
              state: {type: string, in: [open, refunded]}
        tools:
          orders.refund:
            model: Order
            operation: update
            writable: [state]
            bind: {target: /order_id, fields: {state: /state}, reason: /reason, idempotency_key: /request_id}
            lookups:
              order: {tool: orders.get, args: {order_id: /order_id}SELECT}
            rules:
              not_twice:
                when: {"in": [{"var": "lookup.order.status"}, ["refunded", "cancelled"]]}
                decision: refuse
                message: the order was refunded already
        reads:
          orders.get:
            args: [order_id]
            rules:
              deleted:
                when: {"!=": [{"var": "after.deleted_at"}, null]}
                message: the order is deleted
        """

    /// Answers the lookup's read with `lookup`, and any write with success; counts the writes it was sent.
    final class LookupUpstream: Upstream, @unchecked Sendable {
        let backend = "upstream:lookups"
        let observer: (any StateReader)? = nil
        let answer: JSONValue
        private let lock = NSLock()
        private var sent = 0
        var writes: Int { lock.withLock { sent } }
        init(_ answer: JSONValue) { self.answer = answer }
        func call(_ call: ToolCall) async -> UpstreamOutcome {
            if call.tool == "orders.get" { return .accepted(result: answer) }
            lock.withLock { sent += 1 }
            return .accepted(result: AnswerDocumentsTests.text(#"{"ok": true}"#))
        }
    }

    /// `orders.refund` of a seeded open order, its lookup answered with `answer`; `edit` changes the policy's text first.
    static func refund(answer: JSONValue, select: String? = nil, edit: (String) -> String = { $0 }) async throws -> (Decision, LookupUpstream, InMemoryEnvironment) {
        let policy = try Policy.parse(edit(lookupPolicy.replacingOccurrences(of: "SELECT", with: select.map { ", select: \($0)" } ?? "")))
        let upstream = LookupUpstream(answer)
        let environment = InMemoryEnvironment()
        let key = try environment.seed(model: try #require(policy.model(named: "Order")), values: ["state": "open"])
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: upstream)
        let decision = try await guard_.decide(ToolCall(tool: "orders.refund", arguments: [
            "order_id": key, "state": "refunded", "reason": "the parcel never arrived", "request_id": "r-1",
        ]), principal: Principal(tenant: "acme", actor: "agent-1"))
        return (decision, upstream, environment)
    }

    @Test("a lookup whose answer gives no one state refuses the write, audited, and sends nothing (helper-84)", arguments: [
        ("plain text", text("Order O1234: refunded, total 2000.00"), nil),
        ("two parts that disagree", text(#"{"status": "refunded"}"#, #"{"status": "open"}"#), nil),
        ("structured content beside other text", ["structuredContent": ["status": "open"], "content": [["type": "text", "text": #"{"status": "refunded"}"#]]], nil),
        ("nothing where select points", text(#"{"order": {"status": "refunded"}}"#), "/data"),
    ] as [(String, JSONValue, String?)])
    func lookupWithoutState(_ name: String, _ answer: JSONValue, _ select: String?) async throws {
        let (decision, upstream, environment) = try await Self.refund(answer: answer, select: select)
        #expect(decision.code == .lookupFailed, "\(name): \(decision.code) \(decision.message)")
        #expect(decision.message.contains("cannot decide from"), "\(decision.message)")
        #expect(upstream.writes == 0, "\(name): the write was sent")
        #expect(environment.events.last?.decision == "lookup_failed")
    }

    @Test("a lookup read as one state decides as before: the rule refuses a refunded order, an open one is written")
    func lookupWithState() async throws {
        let (refused, first, _) = try await Self.refund(answer: Self.text(#"{"status": "refunded", "total": 200000}"#))
        #expect(refused.code == .ruleRefused && first.writes == 0, "\(refused.code) \(refused.message)")
        let (split, second, _) = try await Self.refund(answer: Self.text(#"{"status": "refunded","#, #""total": 200000}"#))
        #expect(split.code == .ruleRefused && second.writes == 0, "one document over two parts: \(split.message)")
        let (selected, third, _) = try await Self.refund(answer: Self.text(#"{"data": {"status": "refunded"}}"#), select: "/data")
        #expect(selected.code == .ruleRefused && third.writes == 0, "\(selected.message)")
        let (written, fourth, _) = try await Self.refund(answer: Self.text(#"{"status": "open"}"#))
        #expect(written.code == .executed && fourth.writes == 1, "\(written.code) \(written.message)")
    }

    // MARK: read rules

    @Test("a read's rules judge every form of the answer, and withhold one they cannot read (helper-84)", arguments: [
        ("a deleted row, then prose", text(#"{"id": 1234, "deleted_at": "2026-01-01"}"#, "(1 row)"), false),
        ("structured content says live, its text holds the deleted row",
         ["structuredContent": ["id": 1234, "deleted_at": .null], "content": [["type": "text", "text": #"{"id": 1234, "deleted_at": "2026-01-01"}"#]]], false),
        ("plain text", text("order 1234, deleted on 2026-01-01"), false),
        ("a live row", text(#"{"id": 1234, "deleted_at": null}"#), true),
        ("a live row, both forms", ["structuredContent": ["id": 1234, "deleted_at": .null], "content": [["type": "text", "text": #"{"id": 1234, "deleted_at": null}"#]]], true),
    ] as [(String, JSONValue, Bool)])
    func readRules(_ name: String, _ answer: JSONValue, _ passed: Bool) async throws {
        let policy = try Policy.parse(Self.lookupPolicy.replacingOccurrences(of: "SELECT", with: ""))
        let environment = InMemoryEnvironment()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: LookupUpstream(answer))
        let read = try await guard_.read(ToolCall(tool: "orders.get", arguments: ["order_id": 1234]), principal: Principal(tenant: "acme", actor: "agent-1"))
        switch read {
        case .answer:
            #expect(passed, "\(name): the answer was passed on")
            #expect(environment.events.isEmpty)
        case .refused(let decision):
            #expect(!passed, "\(name): withheld: \(decision.message)")
            #expect(decision.code == .ruleRefused && decision.message.contains("the answer was withheld"), "\(decision.message)")
            #expect(environment.events.last?.decision == "rule_refused", "the refusal is audited")
        case .failed(let failure):
            Issue.record("\(name): \(failure)")
        }
    }
}
