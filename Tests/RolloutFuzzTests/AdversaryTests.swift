import Foundation
import RolloutCore
import RolloutReports
import RolloutTestSupport
import Testing

@_spi(FaultInjection) import RolloutGuard
@testable import RolloutFuzz

func examplePolicy() throws -> Policy { try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy() }

func fuzz(_ policy: Policy, faults: GuardFaults = [], seed: UInt64 = 1, calls: Int = 600, replayDirectory: String? = nil) throws -> FuzzResult {
    let target = try BuiltinTarget(policy: policy) { environment, stages, clock in
        Guard(policy: policy, stages: stages, environment: environment, clock: clock, faults: faults)
    }
    return try Adversary(policy: policy, target: target, options: FuzzOptions(seed: seed, calls: calls, replayDirectory: replayDirectory)).run()
}

@Suite("Fuzz: the adversary against the built-in guard")
struct AdversaryTests {
    @Test("the example policy has no gap: every class passes or does not apply")
    func exampleIsClean() throws {
        let result = try fuzz(try examplePolicy())
        #expect(result.findings.isEmpty, "\(result.findings.map { "\($0.tool)/\($0.attackClass): \($0.variant): \($0.observed)" })")
        #expect(result.results.count == 6 * AttackClass.allCases.count)
        #expect(result.errors == 0)
        // The attacks really ran: most classes were tried on most tools.
        let passed = result.results.filter { if case .passed = $0.status { true } else { false } }
        #expect(passed.count >= 55)
        #expect(result.calls >= 600)
    }

    @Test("planted weaknesses are found as exactly those policy gaps, named by tool and class")
    func plantedWeaknesses() throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        let result = try fuzz(policy)
        let found = Set(result.findings.map { "\($0.tool)/\($0.attackClass.rawValue)" })
        #expect(found == PlantedWeaknesses.expected)
        #expect(result.findings.allSatisfy { $0.kind == .policyGap }, "no enforcement gap: the guard enforces the (weak) policy")
        #expect(Set(SafetyBaseline.gaps(policy).map { "\($0.tool)/\($0.area.rawValue)" }) == PlantedWeaknesses.expected)
    }

    /// A step of the guard broken on purpose, and the attack class that must notice.
    struct Fault: Sendable, CustomTestStringConvertible {
        var name: String
        var faults: GuardFaults
        var expected: AttackClass
        /// Other classes whose attacks also go through that step.
        var alsoAllowed: Set<AttackClass> = []
        var testDescription: String { name }
    }

    static let faults: [Fault] = [
        Fault(name: "reason check off", faults: .skipReasonCheck, expected: .reason),
        Fault(name: "idempotency key not required", faults: .skipIdempotencyRequirement, expected: .idempotency),
        Fault(name: "idempotency ledger ignored", faults: .skipIdempotencyLedger, expected: .idempotency),
        Fault(name: "tenant check off", faults: .skipTenantCheck, expected: .tenant, alsoAllowed: [.injection, .fields]),
        Fault(name: "writable check off", faults: .skipWritableCheck, expected: .fields),
        Fault(name: "value rules off", faults: .skipValueCheck, expected: .values, alsoAllowed: [.fields, .injection]),
        Fault(name: "caps off", faults: .skipCaps, expected: .caps),
        Fault(name: "row limits off", faults: .skipRowLimits, expected: .rows),
        Fault(name: "approval off", faults: .skipApproval, expected: .approval, alsoAllowed: [.injection]),
        Fault(name: "stages ignored", faults: .ignoreStages, expected: .stage),
    ]

    @Test("a guard broken in one step is caught as an enforcement gap in that step's class", arguments: faults)
    func brokenGuard(_ fault: Fault) throws {
        let result = try fuzz(try examplePolicy(), faults: fault.faults, calls: 1)
        let gaps = result.findings.filter { $0.kind == .enforcementGap }
        #expect(gaps.contains { $0.attackClass == fault.expected }, "no \(fault.expected) gap; found \(gaps.map { "\($0.attackClass)" })")
        let allowed = fault.alsoAllowed.union([fault.expected])
        #expect(gaps.allSatisfy { allowed.contains($0.attackClass) }, "\(gaps.map { "\($0.tool)/\($0.attackClass): \($0.variant)" })")
        #expect(result.findings.allSatisfy { $0.kind == .enforcementGap })
    }

    @Test("the same seed gives the same findings, report and replay files; another seed's random variants differ")
    func deterministic() throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        func run(_ seed: UInt64) throws -> (String, [String: String]) {
            let dir = TestPaths.temporaryDirectory("repro").path
            let result = try fuzz(policy, seed: seed, calls: 1_500, replayDirectory: dir)
            let xml = String(decoding: try JUnitWriter.xml(FuzzReport.junit(result, policy: policy, toolVersion: "test")), as: UTF8.self)
            var files: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
                files[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            }
            return (Self.withoutTimes(xml).replacingOccurrences(of: dir, with: "REPRO"), files)
        }
        let (a, filesA) = try run(42)
        let (b, filesB) = try run(42)
        #expect(a == b)
        #expect(filesA == filesB && !filesA.isEmpty)
        let (c, _) = try run(43)
        #expect(c.contains("fuzz.seed\" value=\"43\""))
    }

    static func withoutTimes(_ xml: String) -> String {
        xml.replacingOccurrences(of: #" time="[0-9.]+""#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #" timestamp="[^"]+""#, with: "", options: .regularExpression)
    }

    @Test("a replay file reproduces its gap, and reports it fixed once the policy is tightened")
    func replay() throws {
        let weak = try Policy.parse(try PlantedWeaknesses.policyText())
        let dir = TestPaths.temporaryDirectory("repro").path
        let result = try fuzz(weak, calls: 1, replayDirectory: dir)
        let finding = try #require(result.findings.first { $0.attackClass == .reason })
        let path = try #require(finding.replayFile)
        let file = try ReplayFile.read(path: path)
        #expect(file.tool == "orders.update" && file.kind == .policyGap)
        let again = Adversary(policy: weak, target: try BuiltinTarget(policy: weak), options: FuzzOptions())
        #expect(try again.replay(file) != nil)
        let fixed = try examplePolicy()
        let onFixed = Adversary(policy: fixed, target: try BuiltinTarget(policy: fixed), options: FuzzOptions())
        #expect(try onFixed.replay(file) == nil)
    }

    @Test("the fuzz report of a run with gaps passes shared/junit/validate.sh in both profiles",
          .enabled(if: JUnitValidation.available, "validate.sh needs xmllint and junitparser"))
    func reportValidates() throws {
        let policy = try Policy.parse(try PlantedWeaknesses.policyText())
        let result = try fuzz(policy, calls: 1)
        for (profile, name) in [(JUnitWriter.Profile.strict, "strict"), (.github, "github")] {
            let path = TestPaths.temporaryDirectory().appendingPathComponent("fuzz.xml").path
            try JUnitWriter.write(FuzzReport.junit(result, policy: policy, toolVersion: "test", policyFile: "rollout/policy.yaml"), to: path, profile: profile)
            let check = try JUnitValidation.validate(path, profile: name)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            let read = try JUnitReader.read(path: path)
            #expect(read.failures == 4 && read.suites.count == 6)
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
    func shrinks() {
        let args: JSONValue = ["id": 1, "data": ["status": "x", "notes": "long", "extra": [1, 2, 3, 4]], "reason": "r", "idempotency_key": "k"]
        let smallest = Shrinker.shrink(args) { candidate in candidate["data"]?["status"] == "x" }
        #expect(smallest == ["data": ["status": "x"]])
    }
}
