import Foundation
import RolloutCore
import Testing
@testable import RolloutGuard

/// A condition that reads a lookup's answer where it holds nothing (helper-84): a misspelt member read as
/// null, and the rule that refuses the write never fired.
@Suite("Lookup paths")
struct LookupPathTests {
    static let answer = AnswerDocumentsTests.text(#"{"status": "refunded", "total": 200000}"#)

    static func withRule(_ when: String) -> (String) -> String {
        { $0.replacingOccurrences(of: #"{"in": [{"var": "lookup.order.status"}, ["refunded", "cancelled"]]}"#, with: when) }
    }

    @Test("a rule that reads a member the lookup's answer does not hold refuses the write, audited, and sends nothing", arguments: [
        #"{"in": [{"var": "lookup.order.stauts"}, ["refunded", "cancelled"]]}"#,
        #"{"==": [{"var": "lookup.order.status.code"}, "refunded"]}"#,
        #"{"and": [true, {">=": [{"var": "lookup.order.totals.0"}, 100000]}]}"#,
    ])
    func missingMember(_ when: String) async throws {
        let (decision, upstream, environment) = try await AnswerDocumentsTests.refund(answer: Self.answer, edit: Self.withRule(when))
        #expect(decision.code == .lookupFailed && decision.message.contains("rule not_twice reads lookup."), "\(decision.code) \(decision.message)")
        #expect(upstream.writes == 0)
        #expect(environment.events.last?.decision == "lookup_failed")
    }

    @Test("a default, missing, or a member inside per-item logic says what absence means: the write is judged as before", arguments: [
        #"{"in": [{"var": ["lookup.order.stauts", "none"]}, ["refunded", "cancelled"]]}"#,
        #"{"!": {"missing": ["lookup.order.stauts"]}}"#,
        #"{"some": [["x"], {"==": [{"var": "stauts"}, "refunded"]}]}"#,
    ])
    func absenceDeclared(_ when: String) async throws {
        let (decision, upstream, _) = try await AnswerDocumentsTests.refund(answer: Self.answer, edit: Self.withRule(when))
        #expect(decision.code == .executed && upstream.writes == 1, "\(decision.code) \(decision.message)")
    }

    @Test("the rule as written still refuses the refunded order")
    func presentMember() async throws {
        let (decision, upstream, _) = try await AnswerDocumentsTests.refund(answer: Self.answer)
        #expect(decision.code == .ruleRefused && upstream.writes == 0, "\(decision.code) \(decision.message)")
    }
}
