import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// What the guard records, and what a retry with the same key does, for each way an upstream can answer a
/// write it has already done (or refused before doing). The upstream's answer is read, never trusted to
/// release a key: a retry never reaches the upstream again.
@Suite("rollout guard: an upstream's answer to a write, and the retry with its key", .enabled(if: TinyServer.available, "python3 is missing"))
struct UpstreamAnswerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var title = "hello"
        var environment: [String: String] = [:]
        /// The decision code in the answer to the call and to its retry (nil: the upstream's own answer).
        var answered: String?
        var decisions: [String]
        var written: Int
        var testDescription: String { mode + (environment.isEmpty ? "" : " \(environment)") + " (\(title))" }
    }

    static let cases: [Case] = [
        Case(mode: "echo", title: "customer is awaiting approval of the refund", answered: nil, decisions: ["intent", "executed", "replayed"], written: 1),
        Case(mode: "echo_plain", title: "carrier rejected the first label", answered: nil, decisions: ["intent", "executed", "replayed"], written: 1),
        Case(mode: "rpc_error", answered: "in_doubt", decisions: ["intent", "in_doubt", "in_doubt"], written: 1),
        Case(mode: "rpc_error", environment: ["TINY_RPC_CODE": "-32001"], answered: "in_doubt", decisions: ["intent", "in_doubt", "in_doubt"], written: 1),
        Case(mode: "null_result", answered: "in_doubt", decisions: ["intent", "in_doubt", "in_doubt"], written: 1),
        Case(mode: "empty_result", answered: "in_doubt", decisions: ["intent", "in_doubt", "in_doubt"], written: 1),
        Case(mode: "error_after_write", answered: "upstream_refused", decisions: ["intent", "upstream_refused", "replayed"], written: 1),
        Case(mode: "invalid_params", answered: "upstream_refused", decisions: ["intent", "upstream_refused", "replayed"], written: 0),
        // An answer of one line too long to read (17 MiB): nothing says what became of the call.
        Case(mode: "huge", answered: "in_doubt", decisions: ["intent", "in_doubt", "in_doubt"], written: 0),
    ]

    @Test("the call is recorded as its answer says, and its retry is answered from the ledger, never forwarded again", arguments: cases)
    func answer(_ c: Case) throws {
        let project = try FailClosedProject()
        let wire = project.dir + "/wire.log"
        var environment = ["TINY_MODE": c.mode, "TINY_COUNT": wire]
        for (k, v) in c.environment { environment[k] = v }
        let guard_ = try project.guardProcess(extra: ["--call-timeout", "10s"], environment: environment)
        let first = try guard_.call("items.create", FailClosedProject.create(c.title, key: "k-1"), timeout: 20)
        let retry = try guard_.call("items.create", FailClosedProject.create(c.title, key: "k-1"), timeout: 20)
        _ = guard_.close()
        #expect(decisionCode(first) == c.answered, "\(first)")
        #expect(decisionCode(retry) == c.answered, "\(retry)")
        #expect((first["isError"] == true) == (c.answered != nil), "\(first)")
        #expect(try project.decisions() == c.decisions)
        let calls = (try? String(contentsOfFile: wire, encoding: .utf8))?.split(separator: "\n").count ?? 0
        #expect(calls == 1, "the upstream got the write \(calls) times")
        #expect(try project.tiny.items().count == c.written)
    }
}
