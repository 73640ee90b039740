import Foundation
import RolloutCore
import RolloutMCP
import RolloutReports
import RolloutTestSupport
import Testing

@testable import RolloutFuzz

@Suite("Fuzz: OrmAI 0.2.1 over MCP", .serialized)
struct OrmAITests {
    @Test("which of its declared controls OrmAI enforces, and which it does not; behind rollout guard, every one",
          .enabled(if: OrmAITarget.available, OrmAITarget.skipMessage), .timeLimit(.minutes(10)))
    func fuzzOrmAI() async throws {
        let policy = try RolloutFolder(directory: OrmAITarget.policyFolder).loadPolicy()
        let work = TestPaths.temporaryDirectory("ormai").path
        let target = MCPTarget(
            command: "bash \(OrmAITarget.serveScript)", policy: policy, tenant: "acme", otherTenant: "globex",
            observer: StateObserver(sqlitePath: work + "/demo.db"),
            // Generous: this client runs in the test process, whose few threads every suite shares; in the full
            // run an answer can wait there for many seconds (a 20 s tools/list timed out once). A hang still ends the run.
            options: MCPClient.Options(callTimeout: 120, startTimeout: 300, environment: ["ORMAI_DEMO_WORKDIR": work]))
        try await target.start()
        #expect(Set(target.tools.map(\.name).filter { !policy.entries(forWireName: $0).isEmpty }) == ["db.create", "db.update", "db.delete", "db.bulk_update"])
        #expect(target.coverage().isEmpty, "the policy describes every tool OrmAI lists")

        let repro = TestPaths.temporaryDirectory("ormai-repro").path
        let result = try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: 1, calls: 1, replayDirectory: repro)).run()
        await target.stop()
        let enforcement = Set(result.findings.filter { $0.kind == .enforcementGap }.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        let policyGaps = Set(result.findings.filter { $0.kind == .policyGap }.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        func status(_ tool: String, _ c: AttackClass) -> ClassResult.Status? { result.results.first { $0.tool == tool && $0.attackClass == c }?.status }
        func passed(_ tool: String, _ c: AttackClass) -> Bool { if case .passed? = status(tool, c) { true } else { false } }

        func found(_ tool: String, _ c: AttackClass, _ variant: String = "") -> Bool {
            result.findings.contains { $0.kind == .enforcementGap && $0.tool == tool && $0.attackClass == c && (variant.isEmpty || $0.variant.contains(variant)) }
        }
        // OrmAI's eleven known gaps, each as a finding of its class.
        let known: [(String, Bool)] = [
            ("no reason on update", found("order.update", .reason)),
            ("no reason on create", found("order.create", .reason)),
            ("no reason on bulk update", found("order.bulk_update", .reason)),
            ("read-only amount written", found("order.update", .fields, "amount")),
            ("approval bypassed on Customer", found("customer.update", .approval)),
            ("a row moved to another tenant", found("order.bulk_update", .fields, "tenant_id") || found("order.update", .fields, "tenant_id")),
            ("a repeated idempotency key writes a second row", found("order.create", .idempotency, "same key, same call")),
            ("the dry_run flag writes", found("order.update", .dryRun)),
            ("a hard: true delete", found("order.delete", .values, "hard")),
            ("SQL and parameters in an error", result.findings.contains { $0.attackClass == .leak && $0.observed.contains("SQL") }),
            ("a soft-deleted row still readable", found(ReadAttacks.suite, .readScope, "deleted")),
        ]
        for (gap, seen) in known { #expect(seen, "not found: \(gap); found \(enforcement.sorted())") }
        // Where OrmAI does the right thing, no finding: it forces a created row's tenant back to acme, and a
        // bulk update skips the other tenant's row.
        #expect(!found("order.create", .fields, "tenant_id"))
        #expect(!found("order.bulk_update", .tenant))
        // Declared and enforced: max_affected_rows, tenant scoping of a single-row write, exact tool names.
        #expect(passed("order.bulk_update", .rows))
        #expect(passed("order.update", .tenant))
        #expect(passed("order.update", .names) && passed("customer.update", .names))
        // Not declared at all: caps, on every tool (the demo has 6 orders of acme: too few to show a burst
        // of 26 deletes, which is said, never passed).
        for tool in policy.tools.map(\.name) {
            if tool == "order.delete" {
                if case .skipped? = status(tool, .caps) {} else { Issue.record("order.delete/caps: \(String(describing: status(tool, .caps)))") }
            } else {
                #expect(policyGaps.contains("\(tool)/caps"), "\(tool): \(policyGaps.sorted())")
            }
        }
        #expect(result.inconclusive == 0)
        // Every finding has a replay file, and the report is JUnit that CI reads.
        #expect(result.findings.allSatisfy { $0.replayFile != nil })
        if JUnitValidation.available {
            let path = TestPaths.temporaryDirectory().appendingPathComponent("ormai.xml").path
            try JUnitWriter.write(FuzzReport.junit(result, policy: policy, toolVersion: "test"), to: path)
            #expect(try JUnitValidation.validate(path).status == 0)
        }
        print("OrmAI: \(result.calls) calls, enforcement gaps in \(enforcement.sorted()), policy gaps in \(policyGaps.sorted())")

        // The same run with rollout guard in front of the same server: the guard enforces what OrmAI
        // declared, so no enforcement gap is left; the policy's own gaps (no caps) remain.
        let guardedWork = TestPaths.temporaryDirectory("ormai-guarded").path
        let guardCommand = [RolloutBinary.path, "guard", "--dir", OrmAITarget.policyFolder, "--tenant", "acme", "--actor", "agent-1",
                            "--store", guardedWork + "/guard.sqlite", "--observe", "sqlite:\(guardedWork)/demo.db",
                            "--", "bash", OrmAITarget.serveScript].joined(separator: " ")
        let guarded = MCPTarget(
            command: guardCommand, policy: policy, tenant: "acme", otherTenant: "globex",
            observer: StateObserver(sqlitePath: guardedWork + "/demo.db"),
            options: MCPClient.Options(callTimeout: 120, startTimeout: 300, environment: ["ORMAI_DEMO_WORKDIR": guardedWork]))
        try await guarded.start()
        let behind = try await Adversary(policy: policy, target: guarded, options: FuzzOptions(seed: 1, calls: 1, replayDirectory: repro)).run()
        await guarded.stop()
        let guardedEnforcement = behind.findings.filter { $0.kind == .enforcementGap }.map { "\($0.tool)/\($0.attackClass.rawValue): \($0.observed)" }
        #expect(guardedEnforcement.isEmpty, "behind the guard: \(guardedEnforcement)")
        let guardedPolicyGaps = Set(behind.findings.filter { $0.kind == .policyGap }.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        for tool in policy.tools.map(\.name) {
            #expect(tool == "order.delete" || guardedPolicyGaps.contains("\(tool)/caps"))
        }
        #expect(behind.inconclusive == 0)
        print("OrmAI behind rollout guard: \(behind.calls) calls, \(guardedEnforcement.count) enforcement gaps, policy gaps in \(guardedPolicyGaps.sorted())")
    }
}
