import Crypto
import Foundation
import RolloutAnomaly
import RolloutCore
import RolloutReports
import RolloutStore

/// Evaluates the gates for a tenant's (or one tool's) next stage (DESIGN.md, "Stages, flags and
/// gates"): the fuzz report must exist, be green and have been made for the current policy; the soak
/// window must have had enough traffic and no anomaly; the stage must have lasted the soak, counted
/// again from the last anomaly; `broad` needs a person's recorded approval.
public struct GateEvaluator {
    public var policy: Policy
    public var tenants: TenantsFile
    public var store: AuditStore
    /// Where the fuzz report is (gates.fuzz_report resolved against the project directory).
    public var fuzzReportPath: String
    public var clock: any TimeSource
    /// Record the scoring verdict so that `rollout status` can show it.
    public var recordScore = true

    public init(policy: Policy, tenants: TenantsFile, store: AuditStore, fuzzReportPath: String, clock: any TimeSource = SystemTime()) {
        self.policy = policy
        self.tenants = tenants
        self.store = store
        self.fuzzReportPath = fuzzReportPath
        self.clock = clock
    }

    /// Every gate for the next stage (or for `to`, which must be the next stage). `promoter`, when
    /// known, is who will promote: the approval for `broad` must come from someone else.
    public func evaluate(tenant: String, tool: String? = nil, to: Stage? = nil, promoter: String? = nil) throws -> GateEvaluation {
        let now = clock.now()
        let (config, current) = try StageMachine.current(tenants, tenant: tenant, tool: tool)
        var evaluation = GateEvaluation(tenant: tenant, tool: tool, current: current, next: nil, at: now, results: [])
        if let tool, policy.tool(named: tool) == nil {
            evaluation.results = [GateResult(gate: "stage", status: .error, reason: "\(tool) is not a write tool of the policy")]
            return evaluation
        }
        if config.paused {
            evaluation.results = [GateResult(gate: "stage", status: .error, reason: "tenant \(tenant) is paused; `rollout resume` first")]
            return evaluation
        }
        let next: Stage
        do {
            next = try StageMachine.target(from: current, to: to)
        } catch {
            evaluation.results = [GateResult(gate: "stage", status: .error, reason: "\(error)")]
            return evaluation
        }
        evaluation.next = next
        // Every gate reads the audit log: a log that no longer verifies fails them all. Leaving `off` needs the
        // fuzz report besides: a tool that is off has no traffic to judge.
        var results = [try chainGate(), fuzzGate(tool: tool)]
        if next >= .soft {
            let (anomalies, lastAnomaly) = try anomalyGate(tenant: tenant, tool: tool, now: now)
            results.append(anomalies)
            // Read once for the soak and the approval: every stage event of the tenant.
            let lastChange = try lastStageChange(tenant: tenant, tool: tool)
            results.append(soakGate(tenant: tenant, tool: tool, now: now, lastAnomaly: lastAnomaly, lastChange: lastChange))
            if next == .broad { results.append(try approvalGate(tenant: tenant, tool: tool, promoter: promoter, lastChange: lastChange)) }
        }
        evaluation.results = results
        evaluation.context = ["policy": policy.digest, "policy_version": String(policy.version), "audit_head": try store.head().hash]
            .merging(tenants.gates.evidence) { a, _ in a }
        return evaluation
    }

    /// The audit chain, whole: every event as written, every column as hashed, the head where it was
    /// (and, with ROLLOUT_CHAIN_KEY, every signature). Anomaly and soak verdicts over an edited log would
    /// mean nothing.
    func chainGate() throws -> GateResult {
        // Held to the store's anchor when given ($ROLLOUT_ANCHOR): with the key alone, a tail cut off with the head
        // moved back verifies.
        let check = try store.verify(key: ChainKey.fromEnvironment, anchor: store.anchor)
        let evidence = ["audit_head": check.head.hash, "audit_events": String(check.checked)]
        guard let broken = check.firstBreak else {
            return GateResult(gate: "chain", status: .successful,
                              reason: "\(check.checked) events verified\(check.signaturesChecked ? ", signatures included" : ""); head #\(check.head.seq)",
                              evidence: evidence)
        }
        return GateResult(gate: "chain", status: .failed,
                          reason: "the audit log is broken at event \(broken.seq) (\(broken.problem.rawValue)): \(broken.detail); no gate can be judged on it until it is restored",
                          evidence: evidence)
    }

    /// The fuzz report: present, readable, made for this policy (digest and version), covering every
    /// tool (or `tool`), with no failure or error for them.
    func fuzzGate(tool: String?) -> GateResult {
        let gate = "fuzz"
        guard let data = FileManager.default.contents(atPath: fuzzReportPath) else {
            return GateResult(gate: gate, status: .error, reason: "no fuzz report at \(fuzzReportPath): run `rollout fuzz` for this policy")
        }
        let digest = "sha256:" + SHA256.hash(data: data).hexString
        let report: JUnitReport
        do {
            report = try JUnitReader.parse(data, path: fuzzReportPath)
        } catch {
            return GateResult(gate: gate, status: .error, reason: "the fuzz report cannot be read: \(error)")
        }
        let evidence = ["fuzz_report": digest]
        // With the chain key, only a report `rollout fuzz` signed with it counts: a report's text has no key.
        if let key = ChainKey.fromEnvironment, let problem = FuzzReportSignature.problem(report, key: key) {
            return GateResult(gate: gate, status: .error, reason: problem, evidence: evidence)
        }
        // Every suite says which policy it was made for: a suite that does not cannot be counted for this one.
        let unmarked = report.suites.filter { s in s.properties.first { $0.name == "policy.digest" } == nil }.map(\.name)
        if !unmarked.isEmpty {
            return GateResult(gate: gate, status: .error,
                              reason: "the fuzz report does not say which policy suite\(unmarked.count == 1 ? "" : "s") \(unmarked.prefix(5).joined(separator: ", ")) \(unmarked.count == 1 ? "was" : "were") made for; run `rollout fuzz` again",
                              evidence: evidence)
        }
        let digests = Set(report.suites.compactMap { s in s.properties.first { $0.name == "policy.digest" }?.value })
        guard digests.count == 1, let made = digests.first else {
            return GateResult(gate: gate, status: .error,
                              reason: digests.isEmpty ? "the fuzz report does not say which policy it was made for" : "the fuzz report's suites were made for \(digests.count) different policies",
                              evidence: evidence)
        }
        guard made == policy.digest else {
            return GateResult(gate: gate, status: .error,
                              reason: "the fuzz report is stale: it was made for policy \(made.prefix(19))…, the policy is now \(policy.digest.prefix(19))…; run `rollout fuzz` again",
                              evidence: evidence)
        }
        let versions = Set(report.suites.map { s in s.properties.first { $0.name == "policy.version" }?.value })
        if versions != [String(policy.version)] {
            let said = versions.map { $0 ?? "none" }.sorted().joined(separator: ", ")
            return GateResult(gate: gate, status: .error, reason: "the fuzz report was made for policy version \(said), the policy is version \(policy.version)", evidence: evidence)
        }
        let wanted = tool.map { [$0] } ?? policy.tools.map(\.name)
        let covered = Set(report.suites.map(\.name))
        let missing = wanted.filter { !covered.contains($0) }
        if !missing.isEmpty {
            return GateResult(gate: gate, status: .inconclusive, reason: "the fuzz report does not cover \(missing.joined(separator: ", "))", evidence: evidence)
        }
        // The tools moved, and what concerns every tool: the server's tool list (an undescribed write tool that
        // answered) and the reads (another tenant's row shown). A gap in either is a gap for any promotion.
        let shared: Set<String> = ["tools/list", "reads"]
        // Every run of `rollout fuzz` writes both: a report without one was cut, and shows nothing about it.
        let absent = shared.subtracting(covered).sorted()
        if !absent.isEmpty {
            return GateResult(gate: gate, status: .inconclusive,
                              reason: "the fuzz report has no \(absent.joined(separator: " or ")) suite, which every run of `rollout fuzz` writes: run it again",
                              evidence: evidence)
        }
        let suites = report.suites.filter { wanted.contains($0.name) || shared.contains($0.name) }
        let failures = suites.reduce(0) { $0 + $1.failures }, errors = suites.reduce(0) { $0 + $1.errors }
        if failures + errors > 0 {
            let failing = suites.flatMap { s in s.cases.compactMap { c -> String? in
                if case .passed = c.result { return nil }
                if case .skipped = c.result { return nil }
                return "\(c.classname)/\(c.name)"
            } }
            return GateResult(gate: gate, status: .failed,
                              reason: "the fuzz report has \(failures) failure\(failures == 1 ? "" : "s") and \(errors) error\(errors == 1 ? "" : "s"): \(failing.prefix(5).joined(separator: ", "))\(failing.count > 5 ? ", …" : "")",
                              evidence: evidence)
        }
        // A tool no attack passed on was not tested: every case skipped (no rows to write, nothing that applied),
        // or none at all. No gap found is then no evidence. `leak` judges what other attacks' calls brought
        // back, and passes with none.
        let untested = suites.filter { suite in
            wanted.contains(suite.name) && !suite.cases.contains { c in
                guard case .passed = c.result else { return false }
                return c.name != "leak"
            }
        }.map(\.name)
        if !untested.isEmpty {
            return GateResult(gate: gate, status: .inconclusive,
                              reason: "the fuzz report has no passed attack on \(untested.joined(separator: ", ")) (every case skipped, or none): not tested, so not shown safe",
                              evidence: evidence)
        }
        let cases = suites.reduce(0) { $0 + $1.cases.count }
        return GateResult(gate: gate, status: .successful, reason: "\(cases) cases over \(wanted.count) tool\(wanted.count == 1 ? "" : "s"), no gap, for this policy", evidence: evidence)
    }

    /// Zero anomalies over the soak window, with enough traffic to judge. Every event of the tenant is judged
    /// (an anomaly of any tool holds the promotion back); the traffic that counts as enough is what guards
    /// recorded, of `tool` alone when one is promoted, never imported lines.
    func anomalyGate(tenant: String, tool: String?, now: Date) throws -> (GateResult, Date?) {
        let soak = tenants.gates.soak
        // The window ends now: events dated later would be left out of it, unjudged. A guard's clock ahead, or
        // this host's behind, is a clock to mend before any verdict on the traffic.
        let latest = try store.lastEventTime(tenant: tenant)
        if let last = latest, last > now.addingTimeInterval(Self.clockTolerance) {
            return (GateResult(gate: "anomalies", status: .error,
                               reason: "the audit log holds events of \(tenant) dated up to \(Timestamp.formatSeconds(last)), after this host's time (\(Timestamp.formatSeconds(now))): a clock is wrong, here or on a guard's host, and traffic dated in the future would not be judged"),
                    nil)
        }
        // An event a little ahead (within the tolerance) is judged too: the window (its end exclusive) ends after it.
        let until = latest.map { max(now, $0.addingTimeInterval(0.001)) } ?? now
        var options = ScoreOptions(tenants: [tenant], until: until, window: soak)
        options.reasonRules(from: policy)
        // What counts as traffic is what is judged: imported lines must not teach the baselines either.
        options.guardedOnly = !tenants.gates.importedEvidence
        let score = try AnomalyScorer.score(store, options: options).first
        let anomalies = score?.anomalies ?? []
        let (events, activeDays) = try store.guardedTraffic(tenant: tenant, tool: tool, from: options.from, to: until,
                                                            includingImported: tenants.gates.importedEvidence)
        let last = anomalies.max { $0.end < $1.end }
        if recordScore {
            try store.recordScoreRun(ScoreRun(tenant: tenant, at: now, from: options.from, until: until, events: score?.events ?? 0, activeDays: score?.activeDays ?? 0,
                                              anomalies: anomalies.count, lastAnomalyAt: last?.end, lastAnomaly: last?.message))
        }
        let report: JSONValue = .array(anomalies.map { $0.json })
        let evidence = ["anomaly_report": "sha256:" + report.canonicalDigest, "soak_events": String(events), "soak_active_days": String(activeDays)]
        if let last {
            return (GateResult(gate: "anomalies", status: .failed,
                               reason: "\(anomalies.count) anomal\(anomalies.count == 1 ? "y" : "ies") in the last \(soak); the latest: \(last.message)",
                               evidence: evidence), last.end)
        }
        let g = tenants.gates
        let scope = (tool.map { " of \($0)" } ?? "")
            + (g.importedEvidence ? " (imported ones counted: gates.imported_evidence)" : " recorded by guards (imported ones do not count)")
        // No traffic proves nothing, whatever the settings allow.
        if events == 0 || activeDays < g.minCoverageDays || events < g.minEvents {
            return (GateResult(gate: "anomalies", status: .inconclusive,
                               reason: "too little traffic to judge: \(events) events\(scope) on \(activeDays) days in the last \(soak) (needs \(max(g.minEvents, 1)) event\(max(g.minEvents, 1) == 1 ? "" : "s") on \(g.minCoverageDays) days)",
                               evidence: evidence), nil)
        }
        // An anomaly older than the window is older than the soak: it no longer restarts anything.
        return (GateResult(gate: "anomalies", status: .successful, reason: "no anomaly; \(events) events\(scope) over \(activeDays) days", evidence: evidence), nil)
    }

    /// How far a tenant's latest event may be dated after this host's time: clocks of hosts differ a little.
    public static let clockTolerance: TimeInterval = 300

    /// Time in the stage at least the soak, counted again from the last anomaly.
    /// `lastChange`: the last promotion or demotion the log records (`lastStageChange`).
    func soakGate(tenant: String, tool: String?, now: Date, lastAnomaly: Date?, lastChange: AuditEvent?) -> GateResult {
        let soak = tenants.gates.soak
        guard let declared = StageMachine.since(tenants, tenant: tenant, tool: tool) else {
            return GateResult(gate: "soak", status: .inconclusive, reason: "tenants.yaml does not say since when the stage holds")
        }
        // The file's `since` is the file's word: the last stage change the log records counts when later.
        let since = max(declared, lastChange?.ts ?? declared)
        let start = max(since, lastAnomaly ?? since)
        let elapsed = now.timeIntervalSince(start)
        let spent = TimeSpan.describe(seconds: elapsed)
        let restarted = start > since ? "; the soak restarted at the anomaly of \(Timestamp.formatSeconds(start))" : ""
        if elapsed >= soak.timeInterval {
            return GateResult(gate: "soak", status: .successful, reason: "\(spent) in the stage since \(Timestamp.formatSeconds(start)) (soak \(soak))")
        }
        return GateResult(gate: "soak", status: .failed, reason: "\(spent) of the \(soak) soak\(restarted)")
    }

    /// A recorded approval by a person, after the stage began, and not by the one who promotes.
    func approvalGate(tenant: String, tool: String?, promoter: String?, lastChange: AuditEvent?) throws -> GateResult {
        let since = StageMachine.since(tenants, tenant: tenant, tool: tool)
        let toolOption = tool.map { " --tool \($0)" } ?? ""
        guard let approval = StageMachine.approval(tenants, tenant: tenant, tool: tool, stage: .broad, since: since) else {
            let who = tenants.gates.approvers.isEmpty ? "a person" : "one of \(tenants.gates.approvers.joined(separator: ", "))"
            return GateResult(gate: "approval", status: .failed,
                              reason: "broad needs an approval by \(who): `rollout approve --tenant \(tenant)\(toolOption) --stage broad --by NAME --reason ...`")
        }
        let evidence = ["approved_by": approval.by]
        // An approver taken off the list no longer counts, as `rollout approve` would not take them now.
        if !tenants.gates.approvers.isEmpty, !tenants.gates.approvers.contains(where: { PersonIdentity.same($0, approval.by) }) {
            return GateResult(gate: "approval", status: .failed,
                              reason: "\(approval.by) approved it, and gates.approvers lists only \(tenants.gates.approvers.joined(separator: ", ")): ask one of them",
                              evidence: evidence)
        }
        // tenants.yaml is a file: the approval counts only as `rollout approve` recorded it in the chained log.
        guard try recordedApproval(approval, tenant: tenant, tool: tool, after: lastChange) else {
            return GateResult(gate: "approval", status: .failed,
                              reason: "the approval by \(approval.by) at \(Timestamp.formatSeconds(approval.at)) is not in the audit log as given in the current stage (`rollout approve` records every approval there; one written into tenants.yaml by hand, or given before the last promotion or demotion, does not count). Approve with `rollout approve --tenant \(tenant)\(toolOption) --stage broad`",
                              evidence: evidence)
        }
        if let promoter, PersonIdentity.couldBeSame(promoter, approval.by) {
            return GateResult(gate: "approval", status: .failed,
                              reason: "\(promoter) approved this promotion and cannot also make it: another person promotes, or another approves",
                              evidence: evidence)
        }
        return GateResult(gate: "approval", status: .successful, reason: "approved by \(approval.by) at \(Timestamp.formatSeconds(approval.at)): \(approval.reason ?? "")",
                          evidence: evidence)
    }

    /// Whether the log holds the stage event `rollout approve` wrote for `approval` (its second, tenant,
    /// person, tool and stage), written by rollout (not imported), after the last promotion or demotion
    /// the log records (an approval is for the stage it was given in: a `since` edited back in the file
    /// does not revive one given before).
    func recordedApproval(_ approval: StageChange, tenant: String, tool: String?, after lastChange: AuditEvent?) throws -> Bool {
        let events = try store.stageEvents(ComplianceScope(from: approval.at, to: approval.at.addingTimeInterval(1), tenants: [tenant]))
        let recorded = events.last { event in
            event.decision == "stage_\(StageChange.Action.approve.rawValue)" && !event.isImported && event.tenant == tenant && event.actor == approval.by
                && event.details["to"] == .string(Stage.broad.rawValue) && event.details["tool"]?.stringValue == tool
        }
        guard let recorded else { return false }
        return lastChange.map { $0.seq < recorded.seq } ?? true
    }

    /// The last promotion or demotion the log records (written by rollout) of the tenant, or for a tool of
    /// its tool or of the whole tenant, whichever is later: a tool's stage follows its tenant's changes too.
    func lastStageChange(tenant: String, tool: String?) throws -> AuditEvent? {
        let changes = Set([StageChange.Action.promote, .demote].map { "stage_\($0.rawValue)" })
        let all = try store.stageEvents(ComplianceScope(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 253_402_300_799), tenants: [tenant]))
        return all.last { event in
            let changed = event.details["tool"]?.stringValue
            return changes.contains(event.decision) && !event.isImported && event.tenant == tenant && (changed == nil || changed == tool)
        }
    }
}
