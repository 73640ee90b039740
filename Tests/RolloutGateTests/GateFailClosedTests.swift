import Foundation
import RolloutCore
import RolloutReports
import RolloutStore
import Testing

@testable import RolloutGate

/// What an adversarial review of `rollout promote` found passing where a gate must block: reports that
/// say too little, a demotion that left a tool live, a tenant typed in another Unicode form, traffic
/// dated after now, and a soak window with no traffic at all.
@Suite("Gates fail closed")
struct GateFailClosedTests {
    /// A change to the scenario's green fuzz report, and the fuzz gate's verdict on it.
    struct ReportCase: CustomTestStringConvertible, Sendable {
        var name: String
        var tool: String?
        var expected: GateStatus
        var edit: @Sendable (inout JUnitReport, Policy) -> Void
        var testDescription: String { name }
    }

    static func sharedSuite(_ name: String, _ policy: Policy, failing: Bool) -> JUnitSuite {
        var testCase = JUnitCase(classname: name, name: name == "reads" ? "read_scope" : "undescribed")
        if failing { testCase.result = .failure(message: "1 gap", type: "enforcement_gap", body: "") }
        return JUnitSuite(name: name, timestamp: Scenario.day0, properties: [
            JUnitProperty("policy.digest", policy.digest), JUnitProperty("policy.version", String(policy.version)),
        ], cases: [testCase])
    }

    static func replace(_ report: inout JUnitReport, with suite: JUnitSuite) {
        report.suites.removeAll { $0.name == suite.name }
        report.suites.append(suite)
    }

    static let reportCases: [ReportCase] = [
        ReportCase(name: "green, with the shared suites", expected: .successful) { _, _ in },
        ReportCase(name: "a report without its reads suite", expected: .inconclusive) { report, _ in
            report.suites.removeAll { $0.name == "reads" }
        },
        ReportCase(name: "a report without its tools/list suite, for one tool", tool: "orders.update", expected: .inconclusive) { report, _ in
            report.suites.removeAll { $0.name == "tools/list" }
        },
        ReportCase(name: "a tool's suite that does not name its policy", expected: .error) { report, _ in
            report.suites[1].properties.removeAll { $0.name == "policy.digest" }
        },
        ReportCase(name: "a suite made for another policy version", expected: .error) { report, _ in
            report.suites[2].properties = report.suites[2].properties.map { $0.name == "policy.version" ? JUnitProperty("policy.version", "999") : $0 }
        },
        ReportCase(name: "a gap in the reads suite", expected: .failed) { report, policy in
            replace(&report, with: sharedSuite("reads", policy, failing: true))
        },
        ReportCase(name: "a gap in the reads suite, for one tool", tool: "orders.update", expected: .failed) { report, policy in
            replace(&report, with: sharedSuite("reads", policy, failing: true))
        },
        ReportCase(name: "an undescribed tool answered, for one tool", tool: "orders.update", expected: .failed) { report, policy in
            replace(&report, with: sharedSuite("tools/list", policy, failing: true))
        },
        ReportCase(name: "every case of a tool skipped", expected: .inconclusive) { report, _ in
            for i in report.suites[0].cases.indices { report.suites[0].cases[i].result = .skipped(message: "the target has no rows of the caller's tenant for this model") }
        },
        ReportCase(name: "a tool's suite with no case", expected: .inconclusive) { report, _ in
            report.suites[0].cases = []
        },
        ReportCase(name: "only the leak case passed", tool: "orders.update", expected: .inconclusive) { report, _ in
            let i = report.suites.firstIndex { $0.name == "orders.update" }!
            for j in report.suites[i].cases.indices { report.suites[i].cases[j].result = .skipped(message: "does not apply") }
            report.suites[i].cases.append(JUnitCase(classname: "orders.update", name: "leak"))
        },
    ]

    @Test("the fuzz gate passes only a report that tested every tool moved, for this policy, with no gap anywhere it concerns", arguments: reportCases)
    func fuzzReport(_ c: ReportCase) throws {
        let s = try Scenario()
        var report = try JUnitReader.read(path: s.reportPath)
        c.edit(&report, s.policy)
        try JUnitWriter.write(report, to: s.reportPath)
        let fuzz = try #require(try s.controller.gate(tenant: "acme", tool: c.tool).results.first { $0.gate == "fuzz" })
        #expect(fuzz.status == c.expected, "\(fuzz.reason)")
    }

    /// A scenario with acme at `stage` and these tools promoted on their own (orders.update at broad among them).
    static func acme(at stage: String, tools: [String]) throws -> Scenario {
        let s = try Scenario()
        let path = s.folder.tenantsPath
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let listed = tools.map { "      \($0)\n" }.joined()
        try text.replacingOccurrences(of: "    stage: soft   # soft launch\n", with: "    stage: \(stage)\n    tools:\n\(listed)")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try s.tenants().stage(tenant: "acme", tool: "orders.update") == .broad)
        return s
    }

    @Test("a tenant's demotion lowers the tools promoted on their own above it: to off, no tool stays live")
    func demotionIsACeiling() throws {
        let s = try Self.acme(at: "soft   # soft launch", tools: ["orders.update: broad", "refunds.issue: shadow"])

        let (soft, _) = try s.controller.demote(tenant: "acme", to: .shadow, by: "maria.lopez", reason: "refund spike")
        #expect(soft.evidence[StageMachine.loweredTools] == "orders.update from broad")
        #expect(try s.tenants().stage(tenant: "acme", tool: "orders.update") == .shadow)
        #expect(try s.tenants().stage(tenant: "acme", tool: "refunds.issue") == .shadow)

        let (off, seq) = try s.controller.demote(tenant: "acme", to: .off, by: "maria.lopez", reason: "incident: all writes off")
        #expect(off.evidence[StageMachine.loweredTools] == "refunds.issue from shadow")
        for tool in s.policy.tools { #expect(try s.tenants().stage(tenant: "acme", tool: tool.name) == .off, "\(tool.name)") }
        // The change names what it lowered in the log too.
        let event = try #require(try s.store.event(seq: seq))
        #expect(event.details["evidence"]?[StageMachine.loweredTools] == "refunds.issue from shadow")
    }

    @Test("a tenant already at the stage asked for (or off) is still demoted when a tool of its stands above it; with none, it is refused")
    func demotionAtTheTarget() throws {
        let s = try Self.acme(at: "off", tools: ["orders.update: broad"])

        // `off` asked for, and no stage named (the one below off): both bring the tool down.
        let (change, _) = try s.controller.demote(tenant: "acme", to: nil, by: "maria.lopez", reason: "incident: all writes off")
        #expect(change.evidence[StageMachine.loweredTools] == "orders.update from broad")
        for tool in s.policy.tools { #expect(try s.tenants().stage(tenant: "acme", tool: tool.name) == .off, "\(tool.name)") }
        // Nothing left above: a demotion to where it stands is refused, as before.
        #expect(throws: StageMachine.Refusal.self) { try s.controller.demote(tenant: "acme", to: nil, by: "maria.lopez", reason: "again") }
        #expect(throws: StageMachine.Refusal.self) { try s.controller.demote(tenant: "acme", to: .off, by: "maria.lopez", reason: "again") }
    }

    @Test("a tenant typed in another Unicode form is recorded, and looked up in the log, as tenants.yaml spells it")
    func tenantSpelling() throws {
        let s = try Scenario()
        let path = s.folder.tenantsPath
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "tenants:\n  acme:\n", with: "tenants:\n  \(nfc):\n    stage: shadow\n  acme:\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (change, seq) = try s.controller.demote(tenant: nfd, by: "maria.lopez", reason: "check")
        #expect(Array(change.tenant.utf8) == Array(nfc.utf8))
        let event = try #require(try s.store.event(seq: seq))
        #expect(Array(event.tenant.utf8) == Array(nfc.utf8))
        let recorded = try #require(try s.tenants().history.last)
        #expect(Array(recorded.tenant.utf8) == Array(nfc.utf8))
        let evaluation = try s.controller.gate(tenant: nfd)
        #expect(Array(evaluation.tenant.utf8) == Array(nfc.utf8))
    }

    @Test("traffic dated after this host's time is an error of the anomaly gate, never left out of the window")
    func futureTraffic() throws {
        let ahead = try Scenario()
        try ahead.store.append([Scenario.lazyWrite(at: ahead.clock.now().addingTimeInterval(3 * 3_600))])
        let anomalies = try #require(try ahead.controller.gate(tenant: "acme").results.first { $0.gate == "anomalies" })
        #expect(anomalies.status == .error && anomalies.reason.contains("a clock is wrong"), "\(anomalies.reason)")
        // Within the tolerance between hosts' clocks, the event is judged (and here, an anomaly).
        let close = try Scenario()
        try close.store.append([Scenario.lazyWrite(at: close.clock.now().addingTimeInterval(60))])
        let judged = try #require(try close.controller.gate(tenant: "acme").results.first { $0.gate == "anomalies" })
        #expect(judged.status == .failed, "\(judged.reason)")
    }

    @Test("a soak window without traffic is inconclusive, even when the settings ask for none")
    func noTraffic() throws {
        let s = try Scenario()
        let path = s.folder.tenantsPath
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "min_coverage_days: 5", with: "min_coverage_days: 0").replacingOccurrences(of: "min_events: 50", with: "min_events: 0")
            .write(toFile: path, atomically: true, encoding: .utf8)
        try s.day(60)  // the traffic stopped at day 12
        let anomalies = try #require(try s.controller.gate(tenant: "acme").results.first { $0.gate == "anomalies" })
        #expect(anomalies.status == .inconclusive && anomalies.reason.contains("0 events"), "\(anomalies.reason)")
    }
}
