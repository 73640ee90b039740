import Foundation
import RolloutCore
import RolloutMCP
import RolloutReports
import RolloutTestSupport
import Testing

@testable import RolloutFuzz

/// The tau2 retail server under the policy written from its own policy.md: the bare server's verdict
/// per rule, and the same server behind `rollout guard` with nothing left.
@Suite("Fuzz: the tau2 retail server over MCP", .serialized)
struct Tau2RetailTests {
    /// A subset of the tools that covers every kind of rule (ownership through a lookup, state,
    /// cross-field, list rules, a principal field) while keeping the run to a couple of minutes.
    static let tools = ["cancel_pending_order", "modify_pending_order_payment", "exchange_delivered_order_items", "modify_user_address"]

    /// The JUnit verdict of each `rules/NAME` case, keyed "tool/rule".
    static func ruleVerdicts(_ report: JUnitReport) -> [String: String] {
        var verdicts: [String: String] = [:]
        for suite in report.suites {
            for c in suite.cases where c.name.hasPrefix("rules/") {
                let verdict: String
                switch c.result {
                case .failure: verdict = "not enforced"
                case .skipped: verdict = "skipped"
                default: verdict = "enforced"
                }
                verdicts["\(c.classname)/\(c.name.dropFirst("rules/".count))"] = verdict
            }
        }
        return verdicts
    }

    @Test("the bare server: which rules of policy.md it enforces, per rule, with the call that shows it",
          .enabled(if: Tau2RetailTarget.available, Tau2RetailTarget.skipMessage), .timeLimit(.minutes(10)))
    func bareServer() async throws {
        let policy = try RolloutFolder(directory: Tau2RetailTarget.policyFolder).loadPolicy()
        let target = MCPTarget(
            command: "bash \(Tau2RetailTarget.serveScript)", policy: policy, tenant: "retail", otherTenant: "none", observer: nil,
            // Generous: this client runs in the test process, whose few threads every suite shares; in the full
            // run an answer can wait there for many seconds (a 20 s tools/list timed out once). A hang still ends the run.
            options: MCPClient.Options(callTimeout: 120, startTimeout: 300),
            subject: Tau2RetailTarget.subject, otherSubject: Tau2RetailTarget.otherSubject)
        try await target.start()
        let repro = TestPaths.temporaryDirectory("tau2-repro").path
        let result = try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: 1, calls: 1, tools: Self.tools, replayDirectory: repro)).run()
        await target.stop()
        #expect(result.errors == 0 && result.inconclusive == 0)

        let verdicts = Self.ruleVerdicts(FuzzReport.junit(result, policy: policy, toolVersion: "test"))
        // The server never checks whose order it is acting on.
        #expect(verdicts["cancel_pending_order/own_order"] == "not enforced", "\(verdicts)")
        // It checks state and the cross-field rules of its own text.
        for rule in ["cancel_pending_order/pending_only", "modify_pending_order_payment/pending_only",
                     "modify_pending_order_payment/different_method", "modify_pending_order_payment/gift_card_covers_total",
                     "exchange_delivered_order_items/delivered_only", "exchange_delivered_order_items/same_count",
                     "exchange_delivered_order_items/items_in_order", "exchange_delivered_order_items/new_items_differ"] {
            #expect(verdicts[rule] == "enforced", "\(rule): \(verdicts[rule] ?? "absent")")
        }
        // Another user's order paid with that user's card: the pair of rules the server checks only
        // against each other.
        #expect(verdicts["exchange_delivered_order_items/own_order"] == "not enforced", "\(verdicts)")
        // Another user's address, and reads of another user's data.
        let gaps = Set(result.findings.filter { $0.kind == .enforcementGap }.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        #expect(gaps.isSuperset(of: ["modify_user_address/tenant", "reads/read_scope", "cancel_pending_order/reason"]), "\(gaps.sorted())")
        // Each finding names the call that shows it and can be replayed.
        #expect(result.findings.allSatisfy { $0.replayFile != nil })
        print("tau2 bare: \(result.calls) calls; rules: \(verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })")
    }

    @Test("behind rollout guard the same adversary finds no enforcement gap",
          .enabled(if: Tau2RetailTarget.available, Tau2RetailTarget.skipMessage), .timeLimit(.minutes(15)))
    func behindTheGuard() async throws {
        let policy = try RolloutFolder(directory: Tau2RetailTarget.policyFolder).loadPolicy()
        let work = TestPaths.temporaryDirectory("tau2-guarded").path
        let serve = "bash \(Tau2RetailTarget.serveScript)"
        let guardCommand = [RolloutBinary.path, "guard", "--dir", Tau2RetailTarget.policyFolder, "--store", work + "/guard.sqlite",
                            "--tenant", "retail", "--actor", "agent-1", "--subject", Tau2RetailTarget.subject, "--", serve].joined(separator: " ")
        let target = MCPTarget(
            command: guardCommand, policy: policy, tenant: "retail", otherTenant: "none", observer: nil,
            options: MCPClient.Options(callTimeout: 120, startTimeout: 300),
            subject: Tau2RetailTarget.subject, otherSubject: Tau2RetailTarget.otherSubject, learnFrom: serve)
        try await target.start()
        let repro = TestPaths.temporaryDirectory("tau2-guarded-repro").path
        let result = try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: 1, calls: 1, tools: Self.tools, replayDirectory: repro)).run()
        await target.stop()
        let gaps = result.findings.filter { $0.kind == .enforcementGap }.map { "\($0.tool)/\($0.attackClass.rawValue): \($0.variant): \($0.observed)" }
        #expect(gaps.isEmpty, "behind the guard: \(gaps)")
        #expect(result.errors == 0 && result.inconclusive == 0)
        // Every rule was tried, and the guard refused each breaking call.
        let verdicts = Self.ruleVerdicts(FuzzReport.junit(result, policy: policy, toolVersion: "test"))
        #expect(verdicts["cancel_pending_order/own_order"] == "enforced" && verdicts["exchange_delivered_order_items/own_order"] == "enforced", "\(verdicts)")
        print("tau2 behind the guard: \(result.calls) calls, \(gaps.count) enforcement gaps")
    }
}
