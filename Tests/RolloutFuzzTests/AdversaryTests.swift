import Foundation
import RolloutCore
import RolloutReports
import RolloutTestSupport
import Testing

import RolloutGuard
@testable import RolloutFuzz

func examplePolicy() throws -> Policy { try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy() }

/// A fuzz run against the built-in guard, its pipeline with the steps `skipping` checking nothing.
func fuzz(_ policy: Policy, skipping: [GuardStep.Name] = [], seed: UInt64 = 1, calls: Int = 600, replayDirectory: String? = nil) async throws -> FuzzResult {
    let pipeline = skipping.reduce(GuardPipeline.standard) { $0.skipping($1) }
    let target = try BuiltinTarget(policy: policy) { environment, stages, clock in
        Guard(policy: policy, stages: stages, environment: environment, clock: clock, pipeline: pipeline)
    }
    return try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: seed, calls: calls, replayDirectory: replayDirectory)).run()
}

@Suite("Fuzz: the adversary against the built-in guard")
struct AdversaryTests {
    @Test("the example policy has no gap: every class passes or does not apply")
    func exampleIsClean() async throws {
        let result = try await fuzz(try examplePolicy())
        #expect(result.findings.isEmpty, "\(result.findings.map { "\($0.tool)/\($0.attackClass): \($0.variant): \($0.observed)" })")
        // Every class on each of the six tools, a leak case per tool, the tools/list and reads suites.
        #expect(result.results.count == 6 * (AttackClass.perTool.count + 1) + 2)
        #expect(result.errors == 0)
        // The attacks really ran: most classes were tried on most tools.
        let passed = result.results.filter { if case .passed = $0.status { true } else { false } }
        #expect(passed.count >= 55)
        #expect(result.calls >= 600)
    }

    @Test("planted weaknesses are found as exactly those policy gaps, named by tool and class")
    func plantedWeaknesses() async throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        let result = try await fuzz(policy)
        let found = Set(result.findings.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        #expect(found == PlantedWeaknesses.expected)
        #expect(result.findings.allSatisfy { $0.kind == .policyGap }, "no enforcement gap: the guard enforces the (weak) policy")
        #expect(Set(SafetyBaseline.gaps(policy).map { "\($0.tool)/\($0.area.rawValue)" }) == PlantedWeaknesses.expected)
    }

    @Test("a tool whose secret fields have rules (a PIN's range, an ssn's pattern, a reference) is attacked with valid secrets, not left inconclusive")
    func typedSecrets() async throws {
        let policy = try Policy.parse("""
            version: 1
            defaults: {reason: required, idempotency: required}
            models:
              Person:
                table: people
                key: id
                tenant_field: tenant_id
                fields:
                  ssn: {type: string, secret: true, pattern: "^[0-9]{3}-[0-9]{2}-[0-9]{4}$"}
                  pin: {type: integer, secret: true, min: 1000, max: 9999}
                  nickname: {type: string, max_length: 50}
                  card_token: {type: string, secret: true, nullable: true, references: Card}
              Card:
                table: cards
                key: code
                tenant_field: tenant_id
                fields:
                  code: {type: string, max_length: 40}
                  label: {type: string, max_length: 20}
            tools:
              people.update: {model: Person, operation: update, writable: [ssn, pin, nickname, card_token], cap: {max: 1000, per: 1h}}
            """)
        let person = try #require(policy.model(named: "Person"))
        for row in DemoDomain.seedRows(model: person, tenants: ["a"], rowsPerTenant: 3) {
            #expect(person.fields.allSatisfy { rule in row[rule.name].map { rule.violation($0) == nil } ?? true }, "\(row)")
        }
        let result = try await fuzz(policy, calls: 1)
        let inconclusive = result.results.filter { if case .inconclusive = $0.status { true } else { false } }
        #expect(inconclusive.isEmpty, "\(inconclusive.first.map { "\($0.status)" } ?? "")")
        #expect(result.results.contains { $0.attackClass == .values && $0.attacks > 0 })
    }

    /// A step of the guard broken on purpose, and the attack class that must notice.
    struct Fault: Sendable, CustomTestStringConvertible {
        var name: String
        var skipped: GuardStep.Name
        var expected: AttackClass
        /// Other classes whose attacks also go through that step.
        var alsoAllowed: Set<AttackClass> = []
        var testDescription: String { name }
    }

    static let faults: [Fault] = [
        Fault(name: "reason check off", skipped: .reason, expected: .reason),
        Fault(name: "idempotency off", skipped: .idempotency, expected: .idempotency),
        Fault(name: "tenant check off", skipped: .tenant, expected: .tenant, alsoAllowed: [.injection, .fields, .unbound, .rollback]),
        Fault(name: "writable check off", skipped: .writable, expected: .fields),
        Fault(name: "value rules off", skipped: .values, expected: .values, alsoAllowed: [.fields, .injection]),
        Fault(name: "caps off", skipped: .caps, expected: .caps),
        Fault(name: "row limits off", skipped: .rows, expected: .rows),
        Fault(name: "dry runs executed", skipped: .dryRun, expected: .dryRun, alsoAllowed: [.rows]),
        Fault(name: "approval off", skipped: .approval, expected: .approval, alsoAllowed: [.injection]),
        Fault(name: "stages ignored", skipped: .stage, expected: .stage),
        Fault(name: "undeclared arguments let through", skipped: .arguments, expected: .unbound, alsoAllowed: [.tenant, .approval]),
    ]

    @Test("a guard broken in one step is caught as an enforcement gap in that step's class", arguments: faults)
    func brokenGuard(_ fault: Fault) async throws {
        let result = try await fuzz(try examplePolicy(), skipping: [fault.skipped], calls: 1)
        let gaps = result.findings.filter { $0.kind == .enforcementGap }
        #expect(gaps.contains { $0.attackClass == fault.expected }, "no \(fault.expected) gap; found \(gaps.map { "\($0.attackClass)" })")
        let allowed = fault.alsoAllowed.union([fault.expected])
        #expect(gaps.allSatisfy { allowed.contains($0.attackClass) }, "\(gaps.map { "\($0.tool)/\($0.attackClass): \($0.variant)" })")
        #expect(result.findings.allSatisfy { $0.kind == .enforcementGap })
    }

    @Test("a tool's factories share their baselines: each is the one a factory of its own makes, whatever the factory that made it first")
    func sharedBaselines() async throws {
        let policy = try examplePolicy()
        let target = try BuiltinTarget(policy: policy)
        try await target.reset()
        for tool in policy.tools where tool.operation != .create {
            let rows = try await target.rows(policy.model(named: tool.model)!) ?? [:]
            func factory(_ label: String) -> CallFactory {
                CallFactory(policy: policy, tool: tool, rows: rows, tenants: target.tenants, keyPrefix: label)
            }
            // Factories of their own keep no memo: each makes every baseline it is asked for.
            var first = factory("first"), second = factory("second")
            first.made = BaselineMemo()
            second.made = first.made
            // The first factory fills the memo in one order, the second reads it in another.
            for index in 0..<50 { _ = first.baseline(index: index) }
            for index in (0..<50).reversed() {
                let shared = second.baseline(index: index), own = factory("own-\(index)").baseline(index: index)
                #expect(shared?.targets == own?.targets && shared?.fields == own?.fields, "\(tool.name) baseline \(index)")
            }
            #expect(second.baseline(index: 0) != nil, "\(tool.name) has a baseline")
        }
    }

    @Test("a baseline made with the guard's arguments is not handed to a factory that sends none, where the approval reads them")
    func baselinesWithoutGuardArguments() async throws {
        var policy = try examplePolicy()
        let i = try #require(policy.tools.firstIndex { $0.name == "orders.update" })
        // Every call that carries a reason waits for a person: sent with the reason, each candidate needs
        // approval and the baseline falls back to the first row; sent without it, the first candidate does.
        policy.tools[i].guardArguments = ["reason"]
        policy.tools[i].approval = ApprovalRule(when: try JsonLogicRule(["!!": [["var": "args.reason"]]]))
        let tool = policy.tools[i]
        let target = try BuiltinTarget(policy: policy)
        try await target.reset()
        let rows = try await target.rows(policy.model(named: tool.model)!) ?? [:]
        func factory(sendingGuardArguments: Bool) -> CallFactory {
            var factory = CallFactory(policy: policy, tool: tool, rows: rows, tenants: target.tenants, keyPrefix: "t")
            factory.sendGuardArguments = sendingGuardArguments
            return factory
        }
        var sending = factory(sendingGuardArguments: true), bare = factory(sendingGuardArguments: false)
        sending.made = BaselineMemo()
        bare.made = sending.made
        let withArguments = sending.baseline(index: 7), without = factory(sendingGuardArguments: false).baseline(index: 7)
        #expect(withArguments?.targets != without?.targets, "the case must tell the two apart")
        #expect(bare.baseline(index: 7)?.targets == without?.targets)
    }

    @Test("the same seed gives the same findings, report and replay files; another seed's random variants differ")
    func deterministic() async throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        func run(_ seed: UInt64) async throws -> (String, [String: String]) {
            let dir = TestPaths.temporaryDirectory("repro").path
            let result = try await fuzz(policy, seed: seed, calls: 1_500, replayDirectory: dir)
            let xml = String(decoding: try JUnitWriter.xml(FuzzReport.junit(result, policy: policy, toolVersion: "test")), as: UTF8.self)
            var files: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
                files[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            }
            return (Self.withoutTimes(xml).replacingOccurrences(of: dir, with: "REPRO"), files)
        }
        let (a, filesA) = try await run(42)
        let (b, filesB) = try await run(42)
        #expect(a == b)
        #expect(filesA == filesB && !filesA.isEmpty)
        let (c, _) = try await run(43)
        #expect(c.contains("fuzz.seed\" value=\"43\""))
    }

    static func withoutTimes(_ xml: String) -> String {
        xml.replacingOccurrences(of: #" time="[0-9.]+""#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #" timestamp="[^"]+""#, with: "", options: .regularExpression)
    }

    @Test("a replay file reproduces its gap, and reports it fixed once the policy is tightened")
    func replay() async throws {
        let weak = try Policy.parse(try PlantedWeaknesses.policyText())
        let dir = TestPaths.temporaryDirectory("repro").path
        let result = try await fuzz(weak, calls: 1, replayDirectory: dir)
        let finding = try #require(result.findings.first { $0.attackClass == .reason })
        let path = try #require(finding.replayFile)
        let file = try ReplayFile.read(path: path)
        #expect(file.tool == "orders.update" && file.kind == .policyGap)
        let again = Adversary(policy: weak, target: try BuiltinTarget(policy: weak), options: FuzzOptions())
        #expect(try await again.replay(file) != nil)
        let fixed = try examplePolicy()
        let onFixed = Adversary(policy: fixed, target: try BuiltinTarget(policy: fixed), options: FuzzOptions())
        #expect(try await onFixed.replay(file) == nil)
    }

    @Test("the fuzz report of a run with gaps passes shared/junit/validate.sh in both profiles",
          .enabled(if: JUnitValidation.available, "validate.sh needs xmllint and junitparser"))
    func reportValidates() async throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        let result = try await fuzz(policy, calls: 1)
        for (profile, name) in [(JUnitWriter.Profile.strict, "strict"), (.github, "github")] {
            let path = TestPaths.temporaryDirectory().appendingPathComponent("fuzz.xml").path
            try JUnitWriter.write(FuzzReport.junit(result, policy: policy, toolVersion: "test", policyFile: "rollout/policy.yaml"), to: path, profile: profile)
            let check = try JUnitValidation.validate(path, profile: name)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            let read = try JUnitReader.read(path: path)
            #expect(read.failures == 5 && read.suites.count == 8, "six tools, the tools/list suite and the reads suite")
            #expect(read.property("policy.digest") == policy.digest)
        }
    }
}

@Suite("Fuzz: oracle and shrinker")
struct OracleTests {
    static let policy: Policy = try! examplePolicy()
    static let tenants = FuzzTenants(own: "a", other: "b")
    static let before: Oracle.Snapshot = ["Order": [1: ["id": 1, "tenant_id": "a", "status": "pending"], 2: ["id": 2, "tenant_id": "b", "status": "pending"]]]

    static func after(_ status: JSONValue, key: JSONValue = 1) -> Oracle.Snapshot {
        var snapshot = before
        snapshot["Order"]![key]!["status"] = status
        return snapshot
    }

    @Test("judging outcomes", arguments: [
        (SafeBehaviour.refused, CallOutcome.Verdict.refused, false, false),
        (.refused, .refused, true, true),       // said no, but a row changed
        (.refused, .accepted, false, true),
        (.refused, .pending, false, true),
        (.notExecuted, .pending, false, false),
        (.notExecuted, .notExecuted, true, true),
        (.noReexecution, .replayed, false, false),
        (.noReexecution, .replayed, true, true),
    ])
    func judge(expectation: SafeBehaviour, verdict: CallOutcome.Verdict, rowChanged: Bool, violated: Bool) {
        let outcome = CallOutcome(verdict: verdict, code: "x", message: "")
        let after = rowChanged ? Self.after("shipped") : Self.before
        let result = Oracle.violation(expectation, outcome: outcome, before: Self.before, after: after, tenants: Self.tenants, policy: Self.policy)
        #expect((result != nil) == violated, "\(String(describing: result))")
    }

    @Test("untouched: only the other tenant's rows count")
    func untouched() {
        let outcome = CallOutcome(verdict: .accepted, code: nil, message: "")
        #expect(Oracle.violation(.untouched(.other), outcome: outcome, before: Self.before, after: Self.after("x"), tenants: Self.tenants, policy: Self.policy) == nil)
        #expect(Oracle.violation(.untouched(.other), outcome: outcome, before: Self.before, after: Self.after("x", key: 2), tenants: Self.tenants, policy: Self.policy) != nil)
    }

    @Test("the shrinker keeps only what the failure needs")
    func shrinks() async {
        let args: JSONValue = ["id": 1, "data": ["status": "x", "notes": "long", "extra": [1, 2, 3, 4]], "reason": "r", "idempotency_key": "k"]
        let smallest = await Shrinker.shrink(args) { candidate in candidate["data"]?["status"] == "x" }
        #expect(smallest == ["data": ["status": "x"]])
    }
}
