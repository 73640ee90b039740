import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

import RolloutGuard
@testable import RolloutFuzz

/// The fuzzer reads the built-in guard's audit log for secrets in the clear: a guard over an in-memory
/// environment once logged a `secret: true` field not named like a credential, and no oracle looked.
@Suite("Fuzz: secrets the audit log holds in the clear are leak findings")
struct SecretLogOracleTests {
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Person:
            table: people
            key: id
            tenant_field: tenant_id
            fields:
              ssn: {type: string, secret: true, nullable: true, pattern: "^[0-9]{3}-[0-9]{2}-[0-9]{4}$", max_length: 11}
              pin: {type: integer, secret: true, min: 1000, max: 9999}
              nickname: {type: string, max_length: 50}
        tools:
          people.update:
            model: Person
            operation: update
            writable: [ssn, nickname, pin]
            cap: {max: 1000, per: 1h}
        """

    /// A built-in target whose guard runs the policy without its `secret: true` marks (so it logs what the
    /// fuzzer's policy says is secret, as the guard over `InMemoryEnvironment()` did before e21fcaf), or the
    /// policy itself.
    static func target(leaky: Bool) throws -> (Policy, BuiltinTarget) {
        let policy = try Policy.parse(policyText)
        let guardPolicy = leaky ? try Policy.parse(policyText.replacingOccurrences(of: "secret: true, ", with: "")) : policy
        return (policy, try BuiltinTarget(policy: guardPolicy))
    }

    static func leakFindings(_ result: FuzzResult) -> [Finding] {
        result.findings.filter { $0.attackClass == .leak }
    }

    @Test("a guard that logs a secret field in the clear is found, named by field and place, the value not shown; the fixed guard is clean")
    func foundAndClean() async throws {
        let (policy, leaky) = try Self.target(leaky: true)
        let dir = TestPaths.temporaryDirectory("secret-repro").path
        let people = try #require(policy.model(named: "Person"))
        let seeded = try #require(try await leaky.rows(people)).values.flatMap { row in [row["ssn"], row["pin"]].compactMap { $0.map { $0.stringValue ?? $0.canonicalText } } }
        #expect(seeded.count == 96)
        let run = try await Adversary(policy: policy, target: leaky, options: FuzzOptions(seed: 7, calls: 50, replayDirectory: dir)).run()
        #expect(!run.results.contains { if case .inconclusive = $0.status { true } else { false } }, "a valid call has valid secrets")
        let found = Self.leakFindings(run)
        let finding = try #require(found.first { $0.variant == "the audit log holds ssn in the clear" }, "\(found.map(\.variant))")
        #expect(finding.tool == "people.update" && finding.rule == Adversary.secretRule)
        #expect(finding.observed.contains("unredacted at changes[0].fields.ssn."), "\(finding.observed)")
        #expect(!seeded.contains { finding.observed.contains($0) }, "\(finding.observed)")

        // Its replay file (written redacted) reproduces it on the leaky guard, and finds it gone on the fixed one.
        let file = try ReplayFile.read(path: try #require(finding.replayFile))
        let replayText = try String(contentsOfFile: finding.replayFile!, encoding: .utf8)
        #expect(!seeded.contains { replayText.contains("\"\($0)\"") } && !replayText.contains("fuzz-secret"))
        let (_, again) = try Self.target(leaky: true)
        #expect(try await Adversary(policy: policy, target: again, options: FuzzOptions()).replay(file) != nil)
        let (_, fixed) = try Self.target(leaky: false)
        #expect(try await Adversary(policy: policy, target: fixed, options: FuzzOptions()).replay(file) == nil)

        let clean = Self.leakFindings(try await Adversary(policy: policy, target: fixed, options: FuzzOptions(seed: 7, calls: 50)).run())
        #expect(clean.isEmpty, "\(clean.map(\.observed))")
    }

    /// An event as the log would hold it: `fields_changed`, a reason, a message.
    static func event(ssnAfter: JSONValue, reason: String = "the customer asked", message: String? = nil, seq: Int64 = 3) -> AuditEvent {
        var event = AuditEvent(seq: seq, ts: Date(timeIntervalSince1970: 0), tenant: "tenant-a", actor: "fuzz-agent", tool: "people.update", targets: [1], decision: "executed")
        event.changes = [RowChange(key: 1, fields: ["ssn": FieldChange(before: "secret-tenant-a-1", after: ssnAfter)])]
        event.reason = reason
        event.message = message
        return event
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var sent: JSONValue
        var event: AuditEvent
        var found: String?
        var testDescription: String { name }
    }

    static let marked = JSONValue.string("hmac:0123456789ab")
    static let rows: Oracle.Snapshot = ["Person": [1: ["id": 1, "tenant_id": "tenant-a", "ssn": "secret-tenant-a-1", "pin": 4821, "nickname": "al"]]]

    static let cases: [Case] = [
        Case(name: "marks everywhere", sent: ["data": ["ssn": "fuzz-secret-1"]],
             event: { var e = event(ssnAfter: marked); e.changes = [RowChange(key: 1, fields: ["ssn": FieldChange(before: marked, after: marked)])]; return e }(),
             found: nil),
        Case(name: "the sent value in the clear", sent: ["data": ["ssn": "fuzz-secret-1"]],
             event: { var e = event(ssnAfter: "fuzz-secret-1"); e.changes = [RowChange(key: 1, fields: ["ssn": FieldChange(before: marked, after: "fuzz-secret-1")])]; return e }(),
             found: "changes[0].fields.ssn.after"),
        Case(name: "the row's value in the clear", sent: ["data": ["nickname": "alfie"]], event: event(ssnAfter: marked), found: "changes[0].fields.ssn.before"),
        Case(name: "a message that quotes the sent value", sent: ["data": ["ssn": "123-45-6789x"]],
             event: { var e = event(ssnAfter: marked); e.changes = []; e.message = "ssn: \"123-45-6789x\" does not match ^[0-9-]+$"; return e }(),
             found: "message"),
        Case(name: "a value the call also sent in its reason is the reason's", sent: ["data": ["ssn": "fuzz-secret-1"], "reason": "set ssn to fuzz-secret-1"],
             event: { var e = event(ssnAfter: marked, reason: "set ssn to fuzz-secret-1"); e.changes = []; return e }(),
             found: nil),
        Case(name: "a short value is not looked for", sent: ["data": ["ssn": "abc"]],
             event: { var e = event(ssnAfter: "abc", reason: "abc"); e.changes = []; return e }(),
             found: nil),
        Case(name: "a member named like a credential", sent: ["data": ["nickname": "al"], "api_key": "fuzz-key-0042"],
             event: { var e = event(ssnAfter: marked); e.changes = []; e.details = ["upstream": ["api_key": "fuzz-key-0042"]]; return e }(),
             found: "details.upstream.api_key"),
        Case(name: "a PIN under its own name", sent: ["data": ["nickname": "al"]],
             event: { var e = event(ssnAfter: marked); e.changes = [RowChange(key: 1, fields: ["pin": FieldChange(before: 4821, after: marked)])]; return e }(),
             found: "changes[0].fields.pin.before"),
        Case(name: "the PIN's digits as a sequence number or another field's value are not it", sent: ["data": ["nickname": "4821"]],
             event: { var e = event(ssnAfter: marked, reason: "4821", seq: 4821); e.changes = [RowChange(key: 1, fields: ["nickname": FieldChange(before: "al", after: "4821")])]; return e }(),
             found: nil),
    ]

    @Test("the oracle reads an event's leaves and messages for known secrets", arguments: cases)
    func oracle(_ c: Case) throws {
        let policy = try Policy.parse(Self.policyText)
        var oracle = SecretLogOracle(policy: policy, rows: Self.rows)
        oracle.noteSent(c.sent)
        #expect(oracle.clearSecrets(in: c.event).first?.path == c.found)
    }

    @Test("what earlier calls sent is forgotten when the log is reset; the rows' values are not")
    func forget() throws {
        var oracle = SecretLogOracle(policy: try Policy.parse(Self.policyText), rows: Self.rows)
        oracle.noteSent(["data": ["ssn": "fuzz-secret-1"]])
        let sentInClear: AuditEvent = { var e = Self.event(ssnAfter: "fuzz-secret-1"); e.changes = [RowChange(key: 1, fields: ["ssn": FieldChange(before: Self.marked, after: "fuzz-secret-1")])]; return e }()
        #expect(!oracle.clearSecrets(in: sentInClear).isEmpty)
        oracle.forgetSent()
        #expect(oracle.clearSecrets(in: sentInClear).isEmpty)
        #expect(oracle.clearSecrets(in: Self.event(ssnAfter: Self.marked)).first?.path == "changes[0].fields.ssn.before")
    }

    @Test("values that are not secrets elsewhere are not looked for: one a non-secret field of the rows also holds, a policy name, a key")
    func notSecretsElsewhere() throws {
        let policy = try Policy.parse(Self.policyText)
        let rows: Oracle.Snapshot = ["Person": [
            1: ["id": 1, "tenant_id": "tenant-a", "ssn": "shared-value-1", "nickname": "shared-value-1", "pin": 4821],
            2: ["id": 2, "tenant_id": "tenant-a", "ssn": "only-secret-22", "nickname": "bo", "pin": 4822],
        ]]
        var oracle = SecretLogOracle(policy: policy, rows: rows)
        oracle.noteSent(["data": ["ssn": "nickname"]])
        var event = Self.event(ssnAfter: Self.marked, reason: "nickname", message: "nickname changed")
        event.changes = [RowChange(key: 1, fields: ["nickname": FieldChange(before: "shared-value-1", after: "al")])]
        #expect(oracle.clearSecrets(in: event).isEmpty)
        event.changes = [RowChange(key: 2, fields: ["nickname": FieldChange(before: "only-secret-22", after: "al")])]
        #expect(oracle.clearSecrets(in: event).first?.field == "ssn")
    }

    @Test("a replay fills a mark with a valid value, the marker text, or a number out of the rule's range")
    func unmaskVariants() throws {
        let oracle = SecretLogOracle(policy: try Policy.parse(Self.policyText), rows: [:])
        let sent: JSONValue = ["data": ["pin": Self.marked]]
        let valid = try #require(oracle.unmasked(sent, variant: 0)["data"]?["pin"]?.doubleValue)
        #expect(valid >= 1000 && valid <= 9999)
        #expect(oracle.unmasked(sent, variant: 1)["data"]?["pin"] == "fuzz-secret-replay-1")
        #expect((oracle.unmasked(sent, variant: 2)["data"]?["pin"]?.doubleValue ?? 0) > 9999)
    }

    @Test("a replay's redaction marks under secret names become values again, others stay")
    func unmasked() throws {
        let policy = try Policy.parse(Self.policyText)
        let oracle = SecretLogOracle(policy: policy, rows: [:])
        let out = oracle.unmasked(["api_key": Self.marked, "data": ["ssn": Self.marked, "nickname": Self.marked], "reason": "r"])
        #expect(out["api_key"] == "fuzz-secret-replay-1", "a credential-named member without a rule gets the marker")
        let ssn = try #require(out["data"]?["ssn"])
        #expect(!Redactor.isRedacted(ssn) && policy.model(named: "Person")?.field("ssn")?.violation(ssn) == nil, "\(ssn): valid for the ssn's pattern")
        #expect(out["data"]?["nickname"] == Self.marked && out["reason"] == "r")
    }
}
