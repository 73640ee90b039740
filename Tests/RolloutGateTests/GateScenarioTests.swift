import Foundation
import RolloutCore
import RolloutReports
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutGate

/// A rollout folder with the example policy, one tenant in soft launch since `day0`, an audit store
/// with steady traffic from four weeks before it, and a green fuzz report for the policy.
struct Scenario {
    static let day0 = Timestamp.parse("2026-11-02T09:00:00Z")!
    let folder: RolloutFolder
    let policy: Policy
    let store: AuditStore
    let clock: ManualTime
    let reportPath: String
    let upcoming: Upcoming

    /// `imported`: the steady traffic came in through `rollout audit import` (marked so in each event).
    init(extraEvents: [AuditEvent] = [], withReport: Bool = true, approvedBy: String? = "dev.patel", recordApproval: Bool = true,
         imported: JSONValue? = nil) throws {
        let dir = TestPaths.temporaryDirectory("gate-scenario")
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder + "/policy.yaml", toPath: dir.appendingPathComponent("policy.yaml").path)
        var tenants = """
            # the scenario's tenants; this comment must survive every change
            version: 1
            gates:
              soak: 7d
              min_coverage_days: 5
              min_events: 50
              fuzz_report: reports/fuzz.xml
              approvers: [maria.lopez, dev.patel]
            tenants:
              acme:
                stage: soft   # soft launch
                since: 2026-11-02T09:00:00Z
            history:
              - at: 2026-11-02T09:00:00Z
                tenant: acme
                action: promote
                from: shadow
                to: soft
                by: maria.lopez

            """
        if let approvedBy {
            tenants += """
                  - at: 2026-11-03T09:00:00Z
                    tenant: acme
                    action: approve
                    from: soft
                    to: broad
                    by: \(approvedBy)
                    reason: refunds reconciled for the soft launch

                """
        }
        try tenants.write(to: dir.appendingPathComponent("tenants.yaml"), atomically: true, encoding: .utf8)
        folder = RolloutFolder(directory: dir.path)
        policy = try folder.loadPolicy()
        store = try TestStores.temporarySQLite()
        let start = Scenario.day0.addingTimeInterval(-28 * 86_400)
        var events = AuditTraffic.background(days: 40, start: start).map { event in
            var event = event
            if let imported { event.details["imported"] = imported }
            return event
        } + extraEvents
        // The approval as `rollout approve` records it in the log (unless the scenario wrote it by hand only).
        if let approvedBy, recordApproval { events.append(Self.approvalEvent(by: approvedBy)) }
        events.sort { $0.ts < $1.ts }
        clock = ManualTime(Scenario.day0.addingTimeInterval(7 * 86_400 + 3_600))
        // The log holds what happened up to the clock; the rest is written as the clock reaches it (`day`).
        let now = clock.now()
        try store.append(events.filter { $0.ts <= now })
        upcoming = Upcoming(events.filter { $0.ts > now })
        reportPath = dir.appendingPathComponent("reports/fuzz.xml").path
        if withReport { try Scenario.writeGreenReport(for: policy, to: reportPath) }
    }

    /// The stage event `rollout approve --tenant acme --stage broad` writes for the scenario's approval.
    static func approvalEvent(by: String) -> AuditEvent {
        AuditEvent(ts: Timestamp.parse("2026-11-03T09:00:00Z")!, tenant: "acme", actor: by, tool: StageController.auditTool, operation: "approve",
                   targets: ["*"], reason: "refunds reconciled for the soft launch", decision: "stage_approve", message: "approve acme for broad",
                   details: ["action": "approve", "from": "soft", "to": "broad"])
    }

    var controller: StageController {
        StageController(folder: folder, policy: policy, store: store, clock: clock, fuzzReportPath: reportPath)
    }

    /// Moves the clock to day `d`, writing the traffic of the days it passes.
    func day(_ d: Double) throws {
        clock.set(Scenario.day0.addingTimeInterval(d * 86_400))
        try store.append(upcoming.take(until: clock.now()))
    }

    /// Events not yet written: dated after the clock.
    final class Upcoming: @unchecked Sendable {
        private var events: [AuditEvent]
        init(_ events: [AuditEvent]) { self.events = events }
        func take(until: Date) -> [AuditEvent] {
            let due = events.prefix { $0.ts <= until }
            events.removeFirst(due.count)
            return Array(due)
        }
    }

    func tenants() throws -> TenantsFile { try folder.loadTenants(policy: policy) }

    /// A fuzz report as `rollout fuzz` writes it for `policy`: a suite per tool, every case passed.
    static func writeGreenReport(for policy: Policy, to path: String) throws {
        let suites = policy.tools.map { tool in
            JUnitSuite(name: tool.name, timestamp: day0, properties: [
                JUnitProperty("policy.digest", policy.digest), JUnitProperty("policy.version", String(policy.version)),
            ], cases: ["reason", "idempotency", "tenant_scope"].map { JUnitCase(classname: tool.name, name: $0) })
        }
        // The suites every run writes besides the tools': the server's tool list and the reads.
        let shared = [("tools/list", "undescribed"), ("reads", "read_scope")].map { name, test in
            JUnitSuite(name: name, timestamp: day0, properties: [
                JUnitProperty("policy.digest", policy.digest), JUnitProperty("policy.version", String(policy.version)),
            ], cases: [JUnitCase(classname: name, name: test)])
        }
        try JUnitWriter.write(JUnitReport(name: "rollout fuzz", suites: suites + shared), to: path)
    }

    /// A write without a real reason: the `missing_reason` rule's anomaly.
    static func lazyWrite(at date: Date) -> AuditEvent {
        AuditEvent(ts: date, tenant: "acme", actor: "agent-1", tool: "orders.update", model: "Order", operation: "update",
                   targets: [.number(9001)], rowCount: 1,
                   changes: [RowChange(key: .number(9001), fields: ["status": FieldChange(before: "pending", after: .string("shipped"))])],
                   reason: "n/a", idempotencyKey: "lazy-1", decision: "executed")
    }
}

@Suite("Gates and promotion, with an injected clock")
struct GateScenarioTests {
    func status(_ evaluation: GateEvaluation, _ gate: String) -> GateStatus? {
        evaluation.results.first { $0.gate == gate }?.status
    }

    @Test("a clean week in soft launch with a green fuzz report is promoted to broad, with its evidence recorded")
    func cleanWeekPromotes() throws {
        let s = try Scenario()
        let promotion = try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "clean week")
        #expect(promotion.evaluation.passed, "\(promotion.evaluation.summary)")
        let change = try #require(promotion.change)
        #expect(change.from == .soft && change.to == .broad)
        let file = try s.tenants()
        #expect(file.tenant("acme")?.stage == .broad)
        #expect(file.history.last == change)
        for key in ["policy", "fuzz_report", "anomaly_report", "audit_head"] {
            #expect(change.evidence[key] != nil, "evidence \(key)")
        }
        #expect(change.evidence["policy"] == s.policy.digest)
        // The gate settings the promotion was judged by are part of its evidence: a weakened soak shows.
        let gates = try s.tenants().gates
        #expect(change.evidence["gates"] == gates.digest && change.evidence["gates.soak"] == gates.soak.description)
        #expect(change.evidence["gates.min_events"] == String(gates.minEvents))
        // The audit log has the event, with the same digests, and the chain still verifies.
        let seq = try #require(promotion.auditSeq)
        let event = try #require(try s.store.event(seq: seq))
        #expect(event.tool == StageController.auditTool && event.actor == "maria.lopez" && event.approver == "dev.patel")
        #expect(event.details["evidence"]?["policy"] == .string(s.policy.digest))
        #expect(event.details["evidence"]?["gates"] == .string(gates.digest))
        #expect(try s.store.verify().ok)
        // The comment of the file survived the edit.
        let text = try String(contentsOfFile: s.folder.tenantsPath, encoding: .utf8)
        #expect(text.contains("# the scenario's tenants; this comment must survive every change"))
        #expect(text.contains("stage: broad   # soft launch"))
    }

    @Test("an anomaly on day 5 refuses the promotion and restarts the soak; a clean week after it passes")
    func anomalyRestartsSoak() throws {
        let anomalyAt = Scenario.day0.addingTimeInterval(5 * 86_400 + 3_600 * 4)
        let s = try Scenario(extraEvents: [Scenario.lazyWrite(at: anomalyAt)])
        let refused = try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "try")
        #expect(refused.change == nil && !refused.evaluation.passed)
        #expect(status(refused.evaluation, "anomalies") == .failed)
        #expect(status(refused.evaluation, "soak") == .failed)
        let soak = try #require(refused.evaluation.results.first { $0.gate == "soak" })
        #expect(soak.reason.contains("restarted"), "\(soak.reason)")
        #expect(try s.tenants().tenant("acme")?.stage == .soft)

        // Day 11: the anomaly is still inside the soak window.
        try s.day(11)
        #expect(try !s.controller.gate(tenant: "acme").passed)
        // Seven days after the anomaly, with no other: promoted.
        try s.day(12.5)
        let promoted = try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "a clean week since the anomaly")
        #expect(promoted.evaluation.passed, "\(promoted.evaluation.summary)")
        #expect(try s.tenants().tenant("acme")?.stage == .broad)
    }

    @Test("a policy edit makes the fuzz report stale, and the gate says so")
    func policyEditMakesReportStale() throws {
        let s = try Scenario()
        #expect(try s.controller.gate(tenant: "acme").passed)
        let edited = try String(contentsOfFile: s.folder.policyPath, encoding: .utf8)
            .replacingOccurrences(of: "cap: {max: 200, per: 1h}", with: "cap: {max: 150, per: 1h}")
        try edited.write(toFile: s.folder.policyPath, atomically: true, encoding: .utf8)
        var controller = s.controller
        controller.policy = try s.folder.loadPolicy()
        #expect(controller.policy.digest != s.policy.digest)
        let evaluation = try controller.gate(tenant: "acme")
        let fuzz = try #require(evaluation.results.first { $0.gate == "fuzz" })
        #expect(fuzz.status == .error && fuzz.reason.contains("stale"), "\(fuzz.reason)")
        #expect(!evaluation.passed)
    }

    @Test("a missing fuzz report is an error, never a pass")
    func missingReportIsError() throws {
        let s = try Scenario(withReport: false)
        let evaluation = try s.controller.gate(tenant: "acme")
        #expect(status(evaluation, "fuzz") == .error)
        #expect(!evaluation.passed)
        #expect(try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "x").change == nil)
    }

    @Test("a failing fuzz report fails the gate and names the failing case")
    func failingReportFails() throws {
        let s = try Scenario()
        var report = try JUnitReader.read(path: s.reportPath)
        report.suites[0].cases[1].result = .failure(message: "1 gap", type: "enforcement_gap", body: "")
        try JUnitWriter.write(report, to: s.reportPath)
        let fuzz = try #require(try s.controller.gate(tenant: "acme").results.first { $0.gate == "fuzz" })
        #expect(fuzz.status == .failed && fuzz.reason.contains("\(report.suites[0].name)/idempotency"), "\(fuzz.reason)")
    }

    @Test("a failure taken out of a fuzz report whose totals still count it is an error, never a pass", arguments: ["suite", "root"])
    func editedReport(level: String) throws {
        let s = try Scenario()
        var report = try JUnitReader.read(path: s.reportPath)
        report.suites[0].cases[1].result = .failure(message: "1 gap", type: "enforcement_gap", body: "")
        try JUnitWriter.write(report, to: s.reportPath)
        var text = try String(contentsOfFile: s.reportPath, encoding: .utf8)
        let failure = try #require(text.range(of: #"<failure[^>]*/>|<failure[^>]*>[\s\S]*?</failure>"#, options: .regularExpression))
        text.removeSubrange(failure)
        // The suite's totals set right as well: only the report's own still counts the failure.
        if level == "root", let suiteTotals = text.range(of: #"failures="1""#, options: .backwards) { text.replaceSubrange(suiteTotals, with: #"failures="0""#) }
        try text.write(toFile: s.reportPath, atomically: true, encoding: .utf8)
        let fuzz = try #require(try s.controller.gate(tenant: "acme").results.first { $0.gate == "fuzz" })
        #expect(fuzz.status == .error && fuzz.reason.contains("its totals and its cases disagree"), "\(fuzz.reason)")
    }

    @Test("too little traffic in the soak window is inconclusive")
    func tooLittleTraffic() throws {
        let s = try Scenario()
        try s.day(60)  // the traffic stopped at day 12
        let evaluation = try s.controller.gate(tenant: "acme")
        #expect(status(evaluation, "anomalies") == .inconclusive)
        #expect(!evaluation.passed)
    }

    @Test("the traffic that counts as enough is what guards recorded, of the tool promoted: imported lines and other tools' calls do not", arguments: [
        JSONValue.object(["source": "jsonl"]), .bool(false), .null,
    ])
    func evidenceGuardsRecorded(_ mark: JSONValue) throws {
        let guarded = try Scenario()
        #expect(status(try guarded.controller.gate(tenant: "acme"), "anomalies") == .successful)
        #expect(status(try guarded.controller.gate(tenant: "acme", tool: "orders.update"), "anomalies") == .successful)
        // The steady traffic is all orders.update: a tool with no call of its own has nothing to show.
        let other = try #require(try guarded.controller.gate(tenant: "acme", tool: "customers.set_role").results.first { $0.gate == "anomalies" })
        #expect(other.status == .inconclusive && other.reason.contains("0 events of customers.set_role"), "\(other.reason)")
        // The same lines imported, whatever the mark says, count for nothing.
        let imported = try Scenario(imported: mark)
        let result = try #require(try imported.controller.gate(tenant: "acme").results.first { $0.gate == "anomalies" })
        #expect(result.status == .inconclusive && result.reason.contains("0 events recorded by guards"), "\(result.reason)")
        #expect(try imported.controller.promote(tenant: "acme", by: "maria.lopez", reason: "imported traffic").evaluation.passed == false)
    }

    /// `count` writes of `actor` within a minute from `at`, as a guard records them (`imported`: as an import does).
    static func burst(at: Date, count: Int, actor: String = "agent-9", imported: Bool = false, tag: String) -> [AuditEvent] {
        (0..<count).map { i in
            var event = AuditEvent(ts: at.addingTimeInterval(Double(i)), tenant: "acme", actor: actor, tool: "orders.update", model: "Order",
                                   operation: "update", targets: [.number(Double(i))], rowCount: 1,
                                   changes: [RowChange(key: .number(Double(i)), fields: ["status": FieldChange(before: "pending", after: "refunded")])],
                                   reason: "goodwill refund for ticket \(i)", idempotencyKey: "\(tag)-\(i)", decision: "executed")
            if imported { event.details["imported"] = ["source": "jsonl"] }
            return event
        }
    }

    @Test("imported lines do not teach the anomaly gate's baselines: a guard-recorded burst, repeated daily before in imported lines, still fails it (helper-77)")
    func importsTeachNothing() throws {
        let burstAt = Scenario.day0.addingTimeInterval(5 * 86_400 + 3_600 * 4)
        let burst = Self.burst(at: burstAt, count: 40, tag: "live")
        let alone = try Scenario(extraEvents: burst)
        #expect(status(try alone.controller.gate(tenant: "acme"), "anomalies") == .failed)
        // The same burst, every day of the history and the soak before it, in imported lines.
        let poison = (1...32).flatMap { day in
            Self.burst(at: burstAt.addingTimeInterval(-Double(day) * 86_400), count: 40, imported: true, tag: "old-\(day)")
        }
        let masked = try Scenario(extraEvents: burst + poison)
        let result = try #require(try masked.controller.gate(tenant: "acme").results.first { $0.gate == "anomalies" })
        #expect(result.status == .failed, "\(result.reason)")
        #expect(try masked.controller.promote(tenant: "acme", by: "maria.lopez", reason: "a quiet week").evaluation.passed == false)
    }

    @Test("broad needs an approval, by someone other than the promoter")
    func approvalRules() throws {
        let none = try Scenario(approvedBy: nil)
        #expect(status(try none.controller.gate(tenant: "acme"), "approval") == .failed)
        let own = try Scenario(approvedBy: "maria.lopez")
        let evaluation = try own.controller.promote(tenant: "acme", by: "maria.lopez", reason: "self-approved").evaluation
        #expect(status(evaluation, "approval") == .failed)
        #expect(try own.tenants().tenant("acme")?.stage == .soft)
        // Not on the approvers list: the approval itself is refused.
        #expect(throws: StageMachine.Refusal.self) {
            try none.controller.approve(tenant: "acme", stage: .broad, by: "mallory", reason: "trust me")
        }
    }

    @Test("an approval counts only as rollout approve recorded it, by someone still on the approvers list", arguments: [
        ("written into tenants.yaml by hand, not in the log", "dev.patel", false, "not in the audit log"),
        ("by a person not on gates.approvers", "mallory", true, "gates.approvers lists only maria.lopez, dev.patel"),
    ])
    func approvalProvenance(name: String, by: String, recorded: Bool, says: String) throws {
        let s = try Scenario(approvedBy: by, recordApproval: recorded)
        let result = try #require(try s.controller.gate(tenant: "acme").results.first { $0.gate == "approval" })
        #expect(result.status == .failed && result.reason.contains(says), "\(name): \(result.reason)")
        let evaluation = try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "soak passed").evaluation
        #expect(status(evaluation, "approval") == .failed)
        #expect(try s.tenants().tenant("acme")?.stage == .soft, "not promoted")
    }

    @Test("an approval is for the stage it was given in: after broad and a demotion, a since edited back in tenants.yaml revives neither it nor the soak")
    func staleApproval() throws {
        let s = try Scenario()
        #expect(try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "clean week").evaluation.passed)
        try s.day(8)
        let (demotion, _) = try s.controller.demote(tenant: "acme", by: "maria.lopez", reason: "refund spike")
        #expect(demotion.to == .soft)
        try s.day(9)
        // The file says the soft stage began long ago, as it did the first time.
        let path = s.folder.tenantsPath
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let since = try #require(text.range(of: #"since: \S+"#, options: .regularExpression))
        try text.replacingCharacters(in: since, with: "since: 2026-11-02T09:00:00Z").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try s.tenants().tenant("acme")?.since == Timestamp.parse("2026-11-02T09:00:00Z"))
        let evaluation = try s.controller.gate(tenant: "acme")
        #expect(status(evaluation, "soak") == .failed, "the soak counts from the demotion the log records")
        let approval = try #require(evaluation.results.first { $0.gate == "approval" })
        #expect(approval.status == .failed && approval.reason.contains("given before the last promotion or demotion"), "\(approval.reason)")
    }

    @Test("a tool's gate counts its tenant's recorded demotion too: a since edited back revives neither the tool's soak nor its earlier approval")
    func toolFollowsTenantChanges() throws {
        let s = try Scenario()
        let tool = "orders.bulk_update"
        _ = try s.controller.approve(tenant: "acme", tool: tool, stage: .broad, by: "dev.patel", reason: "bulk cancels reviewed")
        #expect(try s.controller.promote(tenant: "acme", by: "maria.lopez", reason: "clean week").evaluation.passed)
        try s.day(8)
        _ = try s.controller.demote(tenant: "acme", by: "maria.lopez", reason: "refund spike")
        try s.day(9)
        let path = s.folder.tenantsPath
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let since = try #require(text.range(of: #"since: \S+"#, options: .regularExpression))
        try text.replacingCharacters(in: since, with: "since: 2026-11-02T09:00:00Z").write(toFile: path, atomically: true, encoding: .utf8)
        let evaluation = try s.controller.gate(tenant: "acme", tool: tool)
        #expect(status(evaluation, "soak") == .failed, "\(evaluation.summary)")
        #expect(status(evaluation, "approval") == .failed, "\(evaluation.summary)")
    }

    @Test("demote needs no gate and always works; a person's demote stops automated promotion")
    func demoteAndAutomation() throws {
        let s = try Scenario(withReport: false)
        let (change, _) = try s.controller.demote(tenant: "acme", by: "maria.lopez", reason: "refund spike")
        #expect(change.from == .soft && change.to == .shadow)
        try Scenario.writeGreenReport(for: s.policy, to: s.reportPath)
        try s.day(30)
        #expect(throws: StageMachine.Refusal.self) {
            try s.controller.promote(tenant: "acme", by: "ci-bot", automated: true, reason: "nightly")
        }
        let (paused, _) = try s.controller.pause(tenant: "acme", paused: true, by: "ci-bot", automated: true, reason: "alert")
        #expect(paused.action == .pause)
        #expect(try s.tenants().stage(tenant: "acme", tool: "orders.update") == .off)
    }

    @Test("of two promotions decided from the same state, the second to commit is refused and changes nothing")
    func raceIsRefused() throws {
        let s = try Scenario()
        let a = s.controller, b = s.controller
        let snapA = try a.snapshot(tenant: "acme"), snapB = try b.snapshot(tenant: "acme")
        let at = s.clock.now()
        let fileA = try StageMachine.promote(snapA.file, tenant: "acme", tool: nil, to: .broad, by: "maria.lopez", reason: "a", evidence: [:], at: at)
        let fileB = try StageMachine.promote(snapB.file, tenant: "acme", tool: nil, to: .broad, by: "dev.patel", reason: "b", evidence: [:], at: at)
        _ = try a.commit(snapA, updated: fileA, change: fileA.history.last!)
        let before = try String(contentsOfFile: s.folder.tenantsPath, encoding: .utf8)
        let headBefore = try s.store.head()
        #expect(throws: StageConflict.self) {
            _ = try b.commit(snapB, updated: fileB, change: fileB.history.last!)
        }
        #expect(try String(contentsOfFile: s.folder.tenantsPath, encoding: .utf8) == before)
        #expect(try s.store.head() == headBefore)
        #expect(try s.tenants().history.filter { $0.action == .promote && $0.to == .broad }.count == 1)
    }

    @Test("promotions racing on threads: exactly one commits")
    func concurrentPromotions() async throws {
        let s = try Scenario()
        let folder = s.folder, policy = s.policy, path = s.store.path, clock = s.clock, report = s.reportPath
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<4 {
                group.addTask {
                    guard let store = try? AuditStore(path: path) else { return false }
                    let controller = StageController(folder: folder, policy: policy, store: store, clock: clock, fuzzReportPath: report)
                    return (try? controller.promote(tenant: "acme", by: "maria.lopez", reason: "racer \(i)").change) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
        #expect(try s.tenants().history.filter { $0.action == .promote && $0.to == .broad }.count == 1)
        #expect(try s.tenants().tenant("acme")?.stage == .broad)
    }

    @Test("the gate report is JUnit that CI reads: one case per gate, inconclusive as a failure")
    func gateReport() throws {
        let s = try Scenario()
        try s.day(60)
        let evaluation = try s.controller.gate(tenant: "acme")
        let report = GateReport.junit(evaluation, policy: s.policy, toolVersion: "test")
        #expect(report.tests == evaluation.results.count)
        #expect(report.failures == evaluation.results.filter { $0.status == .failed || $0.status == .inconclusive }.count)
        let path = TestPaths.temporaryDirectory("gate-report").appendingPathComponent("gate-acme.xml").path
        try JUnitWriter.write(report, to: path)
        let back = try JUnitReader.read(path: path)
        #expect(back.suites.first?.properties.contains(JUnitProperty("policy.digest", s.policy.digest)) == true)
        if JUnitValidation.available {
            let result = try JUnitValidation.validate(path)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
    }

    @Test("status shows the stage, soak progress, the last anomaly and the last gate verdict")
    func statusBoard() throws {
        let anomalyAt = Scenario.day0.addingTimeInterval(5 * 86_400)
        let s = try Scenario(extraEvents: [Scenario.lazyWrite(at: anomalyAt)])
        _ = try s.controller.gate(tenant: "acme")
        let rows = try StatusBoard.build(tenants: try s.tenants(), tools: s.policy.tools.map(\.name), store: s.store, now: s.clock.now())
        let acme = try #require(rows.first)
        #expect(acme.stage == .soft && acme.next == .broad)
        #expect(acme.gate?.passed == false)
        let last = try #require(acme.lastAnomalyAt)
        #expect(abs(last.timeIntervalSince(anomalyAt)) < 3_600)
        #expect(acme.soakStart == last && !acme.soakComplete)
        #expect(acme.lastEvent != nil)
    }
}

@Suite("Stage machine: a tool's demotion")
struct ToolDemotionTests {
    @Test("a tool demoted to its tenant's stage stays there when the tenant is promoted (automated or not); only a person lifts it (helper-71)",
          arguments: [true, false])
    func pinned(automated: Bool) throws {
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        let file = TenantsFile(tenants: [TenantConfig(id: "acme", stage: .shadow, since: at, tools: ["orders.update": .soft])])
        let demoted = try StageMachine.demote(file, tenant: "acme", tool: "orders.update", to: nil, by: "dev.patel", reason: "wrong refunds", at: at)
        #expect(demoted.tenant("acme")?.tools["orders.update"] == .shadow, "the demotion is kept in the file, not dropped")
        let promoted = try StageMachine.promote(demoted, tenant: "acme", tool: nil, to: .soft, by: automated ? "ci-bot" : "maria.lopez",
                                                automated: automated, reason: "green", evidence: [:], at: at.addingTimeInterval(60))
        #expect(promoted.tenant("acme")?.effectiveStage(tool: "orders.update") == .shadow)
        #expect(promoted.tenant("acme")?.effectiveStage(tool: "refunds.issue") == .soft)
        #expect(throws: StageMachine.Refusal.self) {
            try StageMachine.promote(promoted, tenant: "acme", tool: "orders.update", to: .soft, by: "ci-bot", automated: true, reason: "green", evidence: [:], at: at)
        }
        let lifted = try StageMachine.promote(promoted, tenant: "acme", tool: "orders.update", to: .soft, by: "dev.patel", reason: "fixed", evidence: [:], at: at)
        #expect(lifted.tenant("acme")?.tools["orders.update"] == nil && lifted.tenant("acme")?.effectiveStage(tool: "orders.update") == .soft)
    }

    @Test("a tenant's demotion below a tool a person demoted keeps the tool's entry, lowered: the tenant's later promotions leave it (helper-72)")
    func pinnedThroughTenantDemotion() throws {
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        let file = TenantsFile(tenants: [TenantConfig(id: "acme", stage: .broad, since: at, tools: ["orders.update": .broad])])
        let toolDemoted = try StageMachine.demote(file, tenant: "acme", tool: "orders.update", to: .soft, by: "dev.patel", reason: "wrong refunds", at: at)
        let tenantDemoted = try StageMachine.demote(toolDemoted, tenant: "acme", tool: nil, to: .shadow, by: "ci-bot", automated: true, reason: "anomaly", at: at)
        #expect(tenantDemoted.tenant("acme")?.tools["orders.update"] == .shadow)
        var promoted = tenantDemoted
        for stage in [Stage.soft, .broad] {
            promoted = try StageMachine.promote(promoted, tenant: "acme", tool: nil, to: stage, by: "ci-bot", automated: true, reason: "green", evidence: [:], at: at)
        }
        #expect(promoted.tenant("acme")?.effectiveStage(tool: "orders.update") == .shadow && promoted.tenant("acme")?.stage == .broad)
    }
}
