import Foundation
import GRDB
import RolloutCore
import RolloutTestSupport
import Testing

/// Runs `sql` against a store file, as someone with write access to it would; it waits its turn behind a
/// process that holds the store (a running `serve` records its notifications).
func tamper(_ store: String, _ sql: String, _ arguments: StatementArguments = []) throws {
    var configuration = Configuration()
    configuration.busyMode = .timeout(30)
    let queue = try DatabaseQueue(path: store, configuration: configuration)
    try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
    try queue.close()
}

/// Order 1's notes set to A, then B, then A again in the demo store `common` names: rolling back the first
/// write would silently undo the two after it.
func writeNotesABA(_ common: [String]) throws {
    for (i, notes) in ["A", "B", "A"].enumerated() {
        let call = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"id": 1, "data": {"notes": "\#(notes)"}, "reason": "carrier confirmed pickup", "idempotency_key": "n-\#(i)"}"#] + common)
        #expect(call.status == 0 && call.stdout.hasPrefix("executed"), "\(call.stdout)")
    }
}

/// Order 1's notes in a demo store.
func orderNotes(_ store: String) throws -> String? {
    try DatabaseQueue(path: store).read { db in try String.fetchOne(db, sql: "SELECT notes FROM demo_orders WHERE id = 1") }
}

/// JSON Lines of audit events for imports.
func writeLines(_ lines: [String], name: String = "events.jsonl") throws -> String {
    let path = TestPaths.temporaryDirectory().appendingPathComponent(name).path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A new demo store in a temporary directory: the directory, the store's path, and the CLI's `--dir`/`--store` arguments.
func demoStore() -> (dir: URL, store: String, common: [String]) {
    let dir = TestPaths.temporaryDirectory()
    let store = dir.appendingPathComponent("demo.sqlite").path
    return (dir, store, ["--dir", TestPaths.exampleFolder, "--store", store])
}

/// Queues a refund of `amount` cents for `order` (the example policy asks a person to approve it): exit status 0.
func queueRefund(_ common: [String], order: Int = 2, request: String = "r-1", amount: Int = 60000, extra: [String] = []) throws -> Bool {
    try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
        #"{"order_id": \#(order), "amount_cents": \#(amount), "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "\#(request)"}"#]
        + extra + common).status == 0
}

@Suite("The audit log, the gates and the reports cannot be fooled, and hostile input never crashes them", .serialized)
struct AuditIntegrityTests {
    @Test("editing a column reports and gates read (ts_ms, operation, model) is a broken chain: verify exits 1 naming it", arguments: [
        ("ts_ms", "ts_ms = 0"), ("operation", "operation = 'read'"), ("model", "model = 'Customer'"), ("session", "session = 'other'"),
    ])
    func columnEdits(column: String, assignment: String) throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("a.sqlite").path
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(5), "--store", store]).status == 0)
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store]).status == 0)
        try tamper(store, "UPDATE audit_events SET \(assignment) WHERE seq = 3")
        let result = try RolloutBinary.run(["audit", "verify", "--store", store, "--format", "json"])
        #expect(result.status == 1, "\(result.stdout)")
        let json = try JSONValue.parse(result.stdout)
        #expect(json["break"]?["seq"] == 3 && json["break"]?["problem"] == "column_edited")
        #expect(json["break"]?["detail"]?.stringValue?.contains(column) == true)
    }

    @Test("gate and promote verify the chain: with the anomalous rows deleted, both refuse with the break")
    func gatesVerifyChain() throws {
        let p = try StageProject()
        #expect(try p.run(["fuzz"]).status == 0)
        #expect(try p.run(["audit", "import", try writeEvents(20, tenant: "initech")]).status == 0)
        #expect(try p.run(["gate", "--tenant", "initech"]).status == 0)
        try tamper(p.store, "DELETE FROM audit_events WHERE seq IN (5, 6)")
        let gate = try p.run(["gate", "--tenant", "initech", "--format", "json"])
        #expect(gate.status == 1, "\(gate.stdout)\(gate.stderr)")
        let chain = try JSONValue.parse(gate.stdout)["gates"]?.arrayValue?.first { $0["gate"] == "chain" }
        #expect(chain?["status"] == "failed" && chain?["reason"]?.stringValue?.contains("5...6 are missing") == true, "\(String(describing: chain))")
        let promote = try p.run(["promote", "--tenant", "initech", "--by", "maria.lopez", "--reason", "clean week"])
        #expect(promote.status == 1, "\(promote.stdout)\(promote.stderr)")
        #expect(!(try p.tenantsText().contains("reason: clean week")), "nothing was promoted")
    }

    @Test("gate holds the chain to $ROLLOUT_ANCHOR: the last rows deleted with the head moved back fail its chain gate (helper-72)")
    func gateHoldsTheAnchor() throws {
        let p = try StageProject()
        #expect(try p.run(["audit", "import", try writeEvents(20, tenant: "initech")]).status == 0)
        let anchor = p.root + "/anchor.json"
        #expect(try p.run(["audit", "anchor", "--out", anchor]).status == 0)
        func chainGate() throws -> JSONValue? {
            let gate = try p.run(["gate", "--tenant", "initech", "--format", "json"], environment: ["ROLLOUT_ANCHOR": anchor])
            return try JSONValue.parse(gate.stdout)["gates"]?.arrayValue?.first { $0["gate"] == "chain" }
        }
        let before = try chainGate()
        #expect(before?["status"] == "successful", "\(String(describing: before))")
        try tamper(p.store, "DELETE FROM audit_events WHERE seq > 18")
        try tamper(p.store, "UPDATE chain_head SET seq = 18, hash = (SELECT hash FROM audit_events WHERE seq = 18) WHERE id = 1")
        let chain = try chainGate()
        #expect(chain?["status"] == "failed" && chain?["reason"]?.stringValue?.contains("anchor") == true, "\(String(describing: chain))")
    }

    @Test("an anchor kept outside the store catches the last rows deleted with the head moved back; a signed chain catches a forged tail")
    func anchorsFromTheCommandLine() throws {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("a.sqlite").path
        let key = ["ROLLOUT_CHAIN_KEY": "a long random secret kept in the team's vault"]
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(10), "--store", store], environment: key).status == 0)
        let anchor = dir.appendingPathComponent("anchor.json").path
        #expect(try RolloutBinary.run(["audit", "anchor", "--store", store, "--out", anchor], environment: key).status == 0)
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store, "--anchor", anchor], environment: key).status == 0)
        // Without the key, the anchor of a signed chain is not made (it would be unsigned); one whose signature was
        // taken out with an edit holds nothing.
        let unkeyedAnchor = try RolloutBinary.run(["audit", "anchor", "--store", store, "--out", dir.appendingPathComponent("none.json").path], environment: ["ROLLOUT_CHAIN_KEY": ""])
        #expect(unkeyedAnchor.status == 2 && unkeyedAnchor.stderr.contains("is signed"), "\(unkeyedAnchor.stderr)")
        var unsignedAnchor = try JSONValue.parse(try String(contentsOfFile: anchor, encoding: .utf8)).objectValue!
        #expect(unsignedAnchor.removeValue(forKey: "mac") != nil)
        let stripped = dir.appendingPathComponent("stripped.json").path
        try JSONValue.object(unsignedAnchor).prettyText().write(toFile: stripped, atomically: true, encoding: .utf8)
        let strippedRun = try RolloutBinary.run(["audit", "verify", "--store", store, "--anchor", stripped], environment: key)
        #expect(strippedRun.status == 1 && strippedRun.stdout.contains("carries no signature"), "\(strippedRun.stdout)")
        // Delete the last two rows and move the head back: the chain alone still verifies.
        try tamper(store, "DELETE FROM audit_events WHERE seq > 8")
        try tamper(store, "UPDATE chain_head SET seq = 8, hash = (SELECT hash FROM audit_events WHERE seq = 8) WHERE id = 1")
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store], environment: key).status == 0)
        let anchored = try RolloutBinary.run(["audit", "verify", "--store", store, "--anchor", anchor], environment: key)
        #expect(anchored.status == 1 && anchored.stdout.contains("anchor"), "\(anchored.stdout)")
        // $ROLLOUT_ANCHOR holds verify and the compliance report to it as well (helper-70: both ignored it).
        let anchorEnvironment = key.merging(["ROLLOUT_ANCHOR": anchor]) { given, _ in given }
        let fromEnvironment = try RolloutBinary.run(["audit", "verify", "--store", store], environment: anchorEnvironment)
        #expect(fromEnvironment.status == 1 && fromEnvironment.stdout.contains("anchor"), "\(fromEnvironment.stdout)")
        let report = try RolloutBinary.run(["report", "--from", "2000-01-01", "--to", "2100-01-01", "--no-anomalies", "--out", dir.path + "/report", "--store", store],
                                           cwd: dir.path, environment: anchorEnvironment)
        #expect(report.status == 1 && report.stdout.contains("AUDIT LOG TAMPERED"), "\(report.stdout)\(report.stderr)")
        // A writer without the key cannot add to the signed chain; a verifier with the key sees every row signed.
        let unsigned = try RolloutBinary.run(["audit", "import", try writeEvents(1, name: "more.jsonl"), "--store", store], environment: ["ROLLOUT_CHAIN_KEY": ""])
        #expect(unsigned.status == 2 && unsigned.stderr.contains("ROLLOUT_CHAIN_KEY"), "\(unsigned.stderr)")
        let bad = try RolloutBinary.run(["audit", "verify", "--store", store], environment: ["ROLLOUT_CHAIN_KEY": "a guess"])
        #expect(bad.status == 1 && bad.stdout.contains("signature"))
        // Without the key, a signed chain is not called intact: a rewrite that hashes again would pass.
        let unkeyed = try RolloutBinary.run(["audit", "verify", "--store", store], environment: ["ROLLOUT_CHAIN_KEY": ""])
        #expect(unkeyed.status == 1 && unkeyed.stdout.contains("(key_missing)") && unkeyed.stdout.contains("set ROLLOUT_CHAIN_KEY"), "\(unkeyed.stdout)")
    }

    @Test("the last events of a guard's log deleted with the head moved back: the chain still links, the guard's own ledger names the deleted events")
    func tailDeletedUnderTheLedger() throws {
        let (_, store, common) = demoStore()
        for (key, order) in [("n-1", 1), ("n-2", 2)] {
            #expect(try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                #"{"id": \#(order), "data": {"notes": "leave at the back door"}, "reason": "customer asked by phone", "idempotency_key": "\#(key)"}"#] + common).status == 0)
        }
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store]).status == 0)
        try tamper(store, """
            DELETE FROM audit_events WHERE seq > 1;
            UPDATE chain_head SET seq = 1, hash = (SELECT hash FROM audit_events WHERE seq = 1)
            """)
        let verify = try RolloutBinary.run(["audit", "verify", "--store", store])
        #expect(verify.status == 1 && verify.stdout.contains("guard's ledger") && verify.stdout.contains("the log ends at event 1"), "\(verify.stdout)")
    }

    @Test("four-eyes compares people as they type their names: Maria.Lopez cannot promote what maria.lopez approved")
    func fourEyesStages() throws {
        let p = try StageProject()
        try (try p.tenantsText()).replacingOccurrences(of: "  acme:\n    name: Acme Outfitters\n    stage: soft\n    since: 2026-11-02T09:00:00Z",
                                                      with: "  acme:\n    name: Acme Outfitters\n    stage: soft\n    since: 2026-01-02T09:00:00Z")
            .write(toFile: p.root + "/rollout/tenants.yaml", atomically: true, encoding: .utf8)
        #expect(try p.run(["approve", "--tenant", "acme", "--stage", "broad", "--by", "maria.lopez", "--reason", "two clean weeks"]).status == 0)
        let promote = try p.run(["promote", "--tenant", "acme", "--by", "Maria.Lopez ", "--dry-run", "--format", "json"])
        let approval = try JSONValue.parse(promote.stdout)["gates"]?.arrayValue?.first { $0["gate"] == "approval" }
        #expect(approval?["status"] == "failed", "the approver cannot be the promoter, however the name is typed: \(String(describing: approval))")
        let other = try p.run(["promote", "--tenant", "acme", "--by", "dev.patel", "--dry-run", "--format", "json"])
        let approvedByOther = try JSONValue.parse(other.stdout)["gates"]?.arrayValue?.first { $0["gate"] == "approval" }
        #expect(approvedByOther?["status"] == "successful", "\(String(describing: approvedByOther))")
        // And an approver list matches the same way.
        #expect(try p.run(["approve", "--tenant", "acme", "--stage", "broad", "--by", "ＤＥＶ.PATEL", "--reason", "checked the refunds"]).status == 0)
    }

    @Test("four-eyes on a queued write: Agent-1 cannot approve agent-1's own write")
    func fourEyesWrites() throws {
        let dir = TestPaths.temporaryDirectory()
        let common = ["--dir", TestPaths.exampleFolder, "--store", dir.appendingPathComponent("demo.sqlite").path]
        let pending = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"order_id": 2, "amount_cents": 90000, "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "r-1"}"#] + common)
        #expect(pending.status == 0, "\(pending.stdout)\(pending.stderr)")
        let own = try RolloutBinary.run(["approve", "1", "--by", " Agent-1"] + common)
        #expect(own.status == 1 && own.stdout.contains("cannot approve it"), "\(own.stdout)")
    }

    /// An edit of the approvals table (not chained) against the chained pending event it must match.
    struct ApprovalEdit: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        /// `rollout call`'s extra arguments when the request is asked.
        var extra: [String] = []
        var says = "no longer matches its pending event"
        var testDescription: String { name }
    }

    @Test("a queued approval whose row was edited does not run: its arguments, its expiry, the user it was asked for, its tool's name upstream",
          arguments: [
              ApprovalEdit(name: "arguments 60000 → 500000", sql: "UPDATE approvals SET arguments = replace(arguments, '60000', '500000')"),
              ApprovalEdit(name: "expiry a day later", sql: "UPDATE approvals SET expires_ms = expires_ms + 86400000", says: "after the 4h its tool allows"),
              ApprovalEdit(name: "the subject removed", sql: "UPDATE approvals SET subject = NULL", extra: ["--subject", "maria.lopez"]),
              ApprovalEdit(name: "another subject", sql: "UPDATE approvals SET subject = 'someone.else'", extra: ["--subject", "maria.lopez"]),
              ApprovalEdit(name: "a subject added", sql: "UPDATE approvals SET subject = 'someone.else'"),
              // Equal to Swift's `==`, another name to the upstream: compared by bytes.
              ApprovalEdit(name: "the subject respelled, the Kelvin sign for its K", sql: "UPDATE approvals SET subject = char(8490) || 'im.lee'",
                           extra: ["--subject", "Kim.lee"]),
              ApprovalEdit(name: "the upstream's tool name set to a tool no policy describes", sql: "UPDATE approvals SET wire_tool = 'run_sql'",
                           says: "would call 'run_sql' on the upstream, which is not refunds.issue's name there"),
              ApprovalEdit(name: "the upstream's tool name set to another write tool", sql: "UPDATE approvals SET wire_tool = 'orders.update'",
                           says: "would call 'orders.update' on the upstream"),
          ])
    func editedApproval(_ edit: ApprovalEdit) throws {
        let (_, store, common) = demoStore()
        #expect(try queueRefund(common, extra: edit.extra))
        try tamper(store, edit.sql)
        func refunds() throws -> Int? { try DatabaseQueue(path: store).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM demo_refunds") } }
        let before = try refunds()
        let approved = try RolloutBinary.run(["approve", "1", "--by", "dev.patel"] + common)
        #expect(approved.status == 1 && approved.stdout.contains(edit.says), "\(approved.stdout)\(approved.stderr)")
        #expect(try refunds() == before, "nothing ran")
    }

    /// How a decided approval is made to look pending again: (name, how it was decided, the edit, the approval then asked).
    static let revivals: [(String, String, String, Int, String)] = [
        ("executed, status set back", "approve", "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1", 1,
         "was already decided: event 2"),
        ("denied, status set back", "deny", "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1", 1,
         "was already decided: event 2"),
        ("executed, status set back with its expiry passed", "approve",
         "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL, expires_ms = 1000 WHERE id = 1", 1,
         "was already decided: event 2"),
        ("executed, copied into a new row", "approve", """
            INSERT INTO approvals (created_ms, expires_ms, tenant, actor, session, tool, wire_tool, arguments, args_digest, status, pending_seq, backend, subject)
            SELECT created_ms, expires_ms, tenant, actor, session, tool, wire_tool, arguments, args_digest, 'pending', pending_seq, backend, subject FROM approvals WHERE id = 1
            """, 2, "was already decided: event 2"),
        ("executed, status set back and the deciding event deleted", "approve",
         "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1; DELETE FROM audit_events WHERE seq = 2", 1,
         "the audit log after pending event 1 does not hold (the chain's head is event 2, but the log ends at event 1"),
        ("executed, status set back and the deciding event's approver column emptied", "approve",
         "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1; UPDATE audit_events SET approver = NULL WHERE seq = 2", 1,
         "the audit log after pending event 1 does not hold (event 2: column approver is null"),
        ("denied, status set back and the deciding event moved to another tenant", "deny",
         "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1; UPDATE audit_events SET tenant = 'globex' WHERE seq = 2", 1,
         "the audit log after pending event 1 does not hold (event 2: column tenant is"),
        ("executed, status set back and the pending event's body replaced by one that is no event", "approve",
         #"UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1; UPDATE audit_events SET body = '{"seq":1}' WHERE seq = 1"#, 1,
         "approval 1's pending event 1 cannot be read"),
    ]

    @Test("a decided approval made pending again in the table does not run: the chained decision settled its pending event", arguments: revivals)
    func revivedApproval(name: String, decided: String, sql: String, asked: Int, says: String) throws {
        let (_, store, common) = demoStore()
        #expect(try queueRefund(common))
        let first = try RolloutBinary.run([decided, "1", "--by", "dev.patel", "--reason", "checked against the carrier's report"] + common)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        func refunds() throws -> Int? { try DatabaseQueue(path: store).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM demo_refunds") } }
        let before = try refunds()
        try tamper(store, sql)
        let again = try RolloutBinary.run(["approve", "\(asked)", "--by", "maria.lopez"] + common)
        #expect(again.status == 1 && again.stdout.contains(says), "\(again.stdout)\(again.stderr)")
        #expect(try refunds() == before, "nothing ran again")
    }

    @Test("with an anchor (--anchor or ROLLOUT_ANCHOR), an approval decided at the end of the log, then cut off with the head moved back, does not run again",
          arguments: [true, false])
    func anchoredApproval(byOption: Bool) throws {
        let (dir, store, common) = demoStore()
        #expect(try queueRefund(common))
        #expect(try RolloutBinary.run(["approve", "1", "--by", "dev.patel", "--reason", "checked against the carrier's report"] + common).status == 0)
        let anchorFile = dir.appendingPathComponent("anchor.json").path
        #expect(try RolloutBinary.run(["audit", "anchor", "--out", anchorFile, "--store", store]).status == 0)
        func refunds() throws -> Int? { try DatabaseQueue(path: store).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM demo_refunds") } }
        let before = try refunds()
        // The decision cut off the end of the log, the head moved back: a chain that holds, one event long.
        try tamper(store, """
            UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1;
            DELETE FROM audit_events WHERE seq > 1;
            UPDATE chain_head SET seq = 1, hash = (SELECT hash FROM audit_events WHERE seq = 1)
            """)
        let again = byOption
            ? try RolloutBinary.run(["approve", "1", "--by", "maria.lopez", "--anchor", anchorFile] + common)
            : try RolloutBinary.run(["approve", "1", "--by", "maria.lopez"] + common, environment: ["ROLLOUT_ANCHOR": anchorFile])
        #expect(again.status == 1 && again.stdout.contains("the anchor names event 2, and the log ends at event 1"), "\(again.stdout)\(again.stderr)")
        #expect(try refunds() == before, "nothing ran again")
    }

    @Test("an imported event is not a write a guard ran: no rollback restores what it claims, no approval runs from it")
    func importedEventsAreNotGuardWrites() throws {
        let (_, store, common) = demoStore()
        #expect(try queueRefund(common))
        func one<T: DatabaseValueConvertible>(_ sql: String) throws -> T? { try DatabaseQueue(path: store).read { db in try T.fetchOne(db, sql: sql) } }
        let pendingTs: String = try #require(try one("SELECT ts FROM audit_events WHERE seq = 1"))
        let digest: String = try #require(try one("SELECT json_extract(body, '$.details.args_digest') FROM audit_events WHERE seq = 1"))
        let role: String? = try one("SELECT role FROM demo_customers WHERE id = 1")
        // A line claiming a write the guard ran (an admin demoted), and one claiming the pending request,
        // even one that says it was not imported.
        let lines = try writeLines([
            #"{"ts":"\#(pendingTs)","tenant":"acme","actor":"agent-1","tool":"customers.set_role","model":"Customer","operation":"update","targets":[1],"fields_changed":{"role":{"before":"admin","after":"\#(role ?? "")"}},"reason":"demoted by mistake, ticket 12","idempotency_key":"x1","decision":"executed","backend":"builtin"}"#,
            #"{"ts":"\#(pendingTs)","tenant":"acme","actor":"agent-1","tool":"refunds.issue","model":"Refund","operation":"create","decision":"pending_approval","backend":"builtin","details":{"args_digest":"\#(digest)","imported":null}}"#,
        ])
        #expect(try RolloutBinary.run(["audit", "import", lines] + common).status == 0)
        let marks: [String] = try DatabaseQueue(path: store).read { db in
            try String.fetchAll(db, sql: "SELECT json_extract(body, '$.details.imported') FROM audit_events WHERE seq IN (2, 3) ORDER BY seq")
        }
        #expect(marks == ["events.jsonl", "events.jsonl"])

        let rollback = try RolloutBinary.run(["audit", "rollback", "2", "--by", "dev.patel", "--reason", "undo the agent's role change, ticket 881"] + common)
        #expect(rollback.status == 1 && rollback.stdout.contains("event 2 was imported (events.jsonl), not written by a guard"), "\(rollback.stdout)\(rollback.stderr)")
        #expect(try one("SELECT role FROM demo_customers WHERE id = 1") == role, "nothing restored")

        try tamper(store, "UPDATE approvals SET pending_seq = 3 WHERE id = 1")
        let refunds: Int? = try one("SELECT count(*) FROM demo_refunds")
        let approved = try RolloutBinary.run(["approve", "1", "--by", "dev.patel"] + common)
        #expect(approved.status == 1 && approved.stdout.contains("points at event 3, which was imported"), "\(approved.stdout)\(approved.stderr)")
        #expect(try one("SELECT count(*) FROM demo_refunds") == refunds, "nothing ran")
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store]).status == 0)
    }

    @Test("an imported line naming a command with its digest starts nothing: not when it is rolled back, nor when an approval is pointed at it")
    func importedCommandStartsNothing() throws {
        let (dir, store, common) = demoStore()
        #expect(try queueRefund(common))
        // A command of the line's own, and the backend name its digest makes: what a guard started from a bare command records.
        let marker = dir.appendingPathComponent("ran.txt").path
        let command = JSONValue.array(["sh", "-c", "echo ran >> '\(marker)'"].map(JSONValue.string))
        let backend = "command:" + command.canonicalDigest.prefix(16)
        let details = JSONValue.object(["command": command]).canonicalText
        let lines = try writeLines([
            #"{"ts":"2026-12-05T10:00:00.000Z","tenant":"acme","actor":"agent-2","tool":"orders.update","model":"Order","operation":"update","targets":[1],"fields_changed":{"status":{"before":"pending","after":"shipped"}},"reason":"carrier confirmed pickup, ticket 9","idempotency_key":"k-evil","decision":"executed","backend":"\#(backend)","details":\#(details)}"#,
            #"{"ts":"2026-12-05T10:00:00.000Z","tenant":"acme","actor":"agent-1","tool":"refunds.issue","model":"Refund","operation":"create","decision":"pending_approval","backend":"\#(backend)","details":\#(details)}"#,
        ])
        #expect(try RolloutBinary.run(["audit", "import", lines] + common).status == 0)
        let rollback = try RolloutBinary.run(["audit", "rollback", "2", "--by", "maria.lopez", "--reason", "undo this imported write, ticket 881"] + common)
        #expect(rollback.status == 1 && rollback.stdout.contains("event 2 was imported"), "\(rollback.stdout)\(rollback.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the line's command did not run")

        try tamper(store, "UPDATE approvals SET pending_seq = 3, backend = ? WHERE id = 1", [backend])
        let approved = try RolloutBinary.run(["approve", "1", "--by", "dev.patel"] + common)
        #expect(approved.status == 1 && approved.stdout.hasPrefix("approval_refused"), "\(approved.stdout)\(approved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the line's command did not run")
        let tail = try RolloutBinary.run(["audit", "tail", "--store", store])
        #expect(tail.stdout.contains("rollback_refused") && tail.stdout.contains("approval_refused"), "both refusals recorded: \(tail.stdout)")
    }

    @Test("a decided approval made pending again in the table is not denied: the chain settled it, and its key keeps its answer")
    func revivedApprovalNotDenied() throws {
        let (_, store, common) = demoStore()
        let call = ["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--format", "json", "--args",
                    #"{"order_id": 2, "amount_cents": 60000, "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "r-1"}"#] + common
        #expect(try RolloutBinary.run(call).status == 0)
        let approved = try RolloutBinary.run(["approve", "1", "--by", "dev.patel", "--reason", "checked against the carrier's report"] + common)
        #expect(approved.status == 0 && approved.stdout.hasPrefix("executed"), "\(approved.stdout)\(approved.stderr)")
        try tamper(store, "UPDATE approvals SET status = 'pending', result_seq = NULL, decided_by = NULL WHERE id = 1")
        let denied = try RolloutBinary.run(["deny", "1", "--by", "maria.lopez", "--reason", "not needed after all"] + common)
        #expect(denied.status == 1 && denied.stdout.contains("was already decided: event 2 (executed)"), "\(denied.stdout)\(denied.stderr)")
        let retry = try RolloutBinary.run(call)
        #expect(retry.stdout.contains("\"executed\"") && !retry.stdout.contains("approval_denied"), "\(retry.stdout)\(retry.stderr)")
    }

    @Test("a key's ledger row pointed back at an earlier event of its key (a refused approval before the approved write ran) is not replayed: the retry is in doubt (helper-83)")
    func keyPointedBack() throws {
        let (_, store, common) = demoStore()
        #expect(try queueRefund(common))
        #expect(try RolloutBinary.run(["approve", "1", "--by", "agent-1"] + common).status == 1, "the asker cannot approve")
        #expect(try RolloutBinary.run(["approve", "1", "--by", "dev.patel", "--reason", "checked against the carrier's report"] + common).stdout.hasPrefix("executed"))
        try tamper(store, #"UPDATE idempotency SET audit_seq = 2, decision = 'approval_refused', result = '{"audit_id":2,"decision":"approval_refused","message":"refused","ok":false}'"#)
        let retry = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"order_id": 2, "amount_cents": 60000, "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "r-1"}"#] + common)
        #expect(retry.stdout.hasPrefix("in_doubt"), "\(retry.stdout)\(retry.stderr)")
    }

    @Test("a denial pointed at another write's pending event (the approvals row edited) is refused: that write stays open, nobody's denial recorded against it (helper-81)")
    func denialOfAnotherWrite() throws {
        let (_, store, common) = demoStore()
        #expect(try queueRefund(common, order: 2, request: "r-1") && queueRefund(common, order: 3, request: "r-2"))
        try tamper(store, "UPDATE approvals SET pending_seq = (SELECT pending_seq FROM approvals WHERE id = 2) WHERE id = 1")
        let denied = try RolloutBinary.run(["deny", "1", "--by", "maria.lopez", "--reason", "not needed after all"] + common)
        #expect(denied.status == 1 && denied.stdout.contains("does not match its pending event"), "\(denied.stdout)\(denied.stderr)")
        let denials: Int? = try DatabaseQueue(path: store).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE decision = 'approval_denied'") }
        #expect(denials == 0)
        let approved = try RolloutBinary.run(["approve", "2", "--by", "dev.patel", "--reason", "checked against the carrier's report"] + common)
        #expect(approved.status == 0 && approved.stdout.hasPrefix("executed"), "the other write is still open: \(approved.stdout)\(approved.stderr)")
    }

    @Test("a write rolled back once is not rolled back again when its row is deleted from the rollbacks table: the chain's rollback refuses it (helper-81)")
    func rollbackTwiceByTheTable() throws {
        let (_, store, common) = demoStore()
        #expect(try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"id": 1, "data": {"notes": "A"}, "reason": "carrier confirmed pickup", "idempotency_key": "n-1"}"#] + common).status == 0)
        let first = try RolloutBinary.run(["audit", "rollback", "1", "--by", "dev.patel", "--reason", "the customer kept the parcel, ticket 881"] + common)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        // The row gets the write's value back outside rollout, and the table forgets the rollback.
        try tamper(store, "UPDATE demo_orders SET notes = 'A' WHERE id = 1; DELETE FROM rollbacks")
        let again = try RolloutBinary.run(["audit", "rollback", "1", "--by", "dev.patel", "--reason", "the customer kept the parcel, ticket 881"] + common)
        #expect(again.status == 1 && again.stdout.contains("already has a rollback (event 2)"), "\(again.stdout)\(again.stderr)")
        #expect(try orderNotes(store) == "A", "what was written since stays")
    }

    @Test("a key's answer edited in the idempotency table is not replayed: the retry is in doubt, never told an executed write failed (helper-81)", arguments: [
        ("", "replayed"),
        (#"UPDATE idempotency SET result = '{"ok":false,"decision":"upstream_refused","message":"the upstream said no"}'"#, "in_doubt"),
        ("UPDATE idempotency SET result = json_set(result, '$.ok', json('false'))", "in_doubt"),
        ("UPDATE idempotency SET decision = 'reason_required'", "in_doubt"),
        ("UPDATE idempotency SET audit_seq = 2", "in_doubt"),
        ("UPDATE idempotency SET (audit_seq, decision, result) = (SELECT audit_seq, decision, result FROM idempotency WHERE key = 'n-2')", "in_doubt"),
        (#"UPDATE idempotency SET result = '{"ok":true,"content":[{"type":"text","text":"Error: nothing was written; send it again under a new key"}]}'"#, "in_doubt"),
    ])
    func editedKeyAnswer(edit: String, answer: String) throws {
        let (_, store, common) = demoStore()
        let call = ["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                    #"{"id": 1, "data": {"notes": "A"}, "reason": "carrier confirmed pickup", "idempotency_key": "n-1"}"#] + common
        #expect(try RolloutBinary.run(call).stdout.hasPrefix("executed"))
        // A second event for audit_seq to point at: another key's write.
        #expect(try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"id": 2, "data": {"notes": "B"}, "reason": "carrier confirmed pickup", "idempotency_key": "n-2"}"#] + common).stdout.hasPrefix("executed"))
        if !edit.isEmpty { try tamper(store, edit + " WHERE key = 'n-1'") }
        let retry = try RolloutBinary.run(call)
        #expect(retry.stdout.hasPrefix(answer), "\(retry.stdout)\(retry.stderr)")
        #expect(try orderNotes(store) == "A")
    }

    @Test("an imported line saying later writes were rolled back does not clear the way for a rollback that would undo them")
    func importedRollbacksCancelNothing() throws {
        let (_, store, common) = demoStore()
        try writeNotesABA(common)
        let lines = try writeLines([2, 3].map {
            #"{"ts":"2026-11-30T05:00:00Z","tenant":"acme","actor":"agent-1","tool":"orders.update","model":"Order","decision":"rolled_back","details":{"rollback_of":\#($0)}}"#
        })
        #expect(try RolloutBinary.run(["audit", "import", lines] + common).status == 0)
        let rollback = try RolloutBinary.run(["audit", "rollback", "1", "--by", "dev.patel", "--reason", "undo the first note, ticket 881"] + common)
        #expect(rollback.status == 1 && rollback.stdout.contains("Order 1 changed since: event 2 wrote it again"), "\(rollback.stdout)\(rollback.stderr)")
        #expect(try orderNotes(store) == "A")
    }

    /// Order 1's notes set to A, B, A in a new demo store, the store then edited with `edit`, and the first
    /// write rolled back: its result, and the store.
    static func rollBackFirstNote(after edit: String, format: String = "text") throws -> (ProcessResult, String) {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("demo.sqlite").path
        let common = ["--dir", TestPaths.exampleFolder, "--store", store]
        try writeNotesABA(common)
        try tamper(store, edit)
        return (try RolloutBinary.run(["audit", "rollback", "1", "--by", "dev.patel", "--reason", "undo the first note, ticket 881", "--format", format] + common), store)
    }

    @Test("a later write hidden by an edited column (its model, decision or tenant) does not clear the way for a rollback", arguments: [
        "UPDATE audit_events SET model = 'Customer' WHERE seq IN (2, 3)",
        "UPDATE audit_events SET decision = 'refused' WHERE seq IN (2, 3)",
        "UPDATE audit_events SET tenant = 'globex' WHERE seq IN (2, 3)",
    ])
    func hiddenLaterWrites(edit: String) throws {
        let (rollback, store) = try Self.rollBackFirstNote(after: edit)
        #expect(rollback.status == 1 && rollback.stdout.contains("the audit log after event 1 does not hold (event 2: column"), "\(rollback.stdout)\(rollback.stderr)")
        #expect(try orderNotes(store) == "A")
    }

    @Test("a write whose stored body no longer reads as an event is not rolled back: refused and audited, under its row's tenant", arguments: [
        #"UPDATE audit_events SET body = '{"seq":1}' WHERE seq = 1"#,
        "UPDATE audit_events SET body = 'not json' WHERE seq = 1",
        "UPDATE audit_events SET body = x'7b7d00ff' WHERE seq = 1",
    ])
    func unreadableRollback(edit: String) throws {
        let (rollback, store) = try Self.rollBackFirstNote(after: edit, format: "json")
        #expect(rollback.status == 1, "\(rollback.stdout)\(rollback.stderr)")
        let decision = try JSONValue.parse(rollback.stdout)
        #expect(decision["decision"] == "rollback_refused")
        #expect(decision["message"]?.stringValue?.hasPrefix("event 1 cannot be read (") == true, "\(rollback.stdout)")
        #expect(try orderNotes(store) == "A", "nothing was restored")
        let recorded = try DatabaseQueue(path: store).read { db in
            try Row.fetchOne(db, sql: "SELECT tenant, decision, json_extract(body, '$.details.rollback_of') AS of, json_extract(body, '$.backend') AS backend FROM audit_events WHERE seq = ?",
                             arguments: [decision["audit_id"]?.intValue ?? -1])
        }
        let tenant: String? = recorded?["tenant"], decided: String? = recorded?["decision"], of: Int? = recorded?["of"], backend: String? = recorded?["backend"]
        #expect(tenant == "acme" && decided == "rollback_refused" && of == 1)
        #expect(backend == nil, "no backend ran it")
    }

    @Test("a dry run counts only when its chained event shows it: a dry_runs row added by hand, or pointing at another dry run, clears no write",
          arguments: [
              ("a row added by hand, pointing at the first event", "INSERT INTO dry_runs (tenant, tool, effect_digest, created_ms, audit_seq) VALUES ('acme', 'orders.bulk_update', '%DIGEST%', %NOW%, 1)"),
              ("a real dry run's row given this write's digest", "UPDATE dry_runs SET effect_digest = '%DIGEST%'"),
              ("a row pointing past the head", "INSERT INTO dry_runs (tenant, tool, effect_digest, created_ms, audit_seq) VALUES ('acme', 'orders.bulk_update', '%DIGEST%', %NOW%, 99)"),
          ])
    func forgedDryRun(name: String, sql: String) throws {
        let dir = TestPaths.temporaryDirectory()
        func bulk(_ ids: [Int], key: String, dryRun: Bool = false, store: String) throws -> String {
            let call = try RolloutBinary.run(["call", "orders.bulk_update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                #"{"ids": \#(ids), "data": {"status": "cancelled"}, "reason": "carrier lost the whole pallet", "idempotency_key": "\#(key)", "dry_run": \#(dryRun)}"#,
                "--dir", TestPaths.exampleFolder, "--store", store, "--format", "json"])
            return try JSONValue.parse(call.stdout)["decision"]?.stringValue ?? call.stdout + call.stderr
        }
        func latestBinding(_ store: String) throws -> String? {
            try DatabaseQueue(path: store).read { db in
                try String.fetchOne(db, sql: "SELECT effect_digest FROM dry_runs ORDER BY created_ms DESC, rowid DESC LIMIT 1")
            }
        }
        let store = dir.appendingPathComponent("demo.sqlite").path
        #expect(try bulk([1], key: "s-1", dryRun: true, store: store) == "dry_run", "the store exists, with its key")
        // The binding is anyone's to compute who holds the store (its key is in it): the same dry run in a copy.
        let copy = dir.appendingPathComponent("copy.sqlite").path
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: store + suffix) {
            try FileManager.default.copyItem(atPath: store + suffix, toPath: copy + suffix)
        }
        #expect(try bulk([1, 2, 3, 4, 5, 6], key: "x-1", dryRun: true, store: copy) == "dry_run")
        let digest = try #require(try latestBinding(copy))
        // A real dry run of another set of rows, so that its row exists to be retargeted.
        #expect(try bulk([1, 2, 3, 4, 5, 7], key: "d-1", dryRun: true, store: store) == "dry_run")
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        try tamper(store, sql.replacingOccurrences(of: "%DIGEST%", with: digest).replacingOccurrences(of: "%NOW%", with: now))
        #expect(try bulk([1, 2, 3, 4, 5, 6], key: "b-1", store: store) == "dry_run_required", "\(name)")
        // The real thing still clears it, and its binding was the forged one: only the chained event told them apart.
        #expect(try bulk([1, 2, 3, 4, 5, 6], key: "d-2", dryRun: true, store: store) == "dry_run")
        #expect(try latestBinding(store) == digest)
        #expect(try bulk([1, 2, 3, 4, 5, 6], key: "b-2", store: store) == "executed")
    }

    @Test("secrets never leave the store in clear: approvals, export, tail; an import without a policy is refused unless said")
    func secrets() throws {
        let dir = TestPaths.temporaryDirectory()
        let folder = dir.appendingPathComponent("rollout").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var policy = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    writable: [status, notes, shipping_address]\n", with: "    writable: [status, notes, shipping_address, payment_token]\n")
        try policy.write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder + "/tenants.yaml", toPath: folder + "/tenants.yaml")
        let store = dir.appendingPathComponent("demo.sqlite").path
        let common = ["--dir", folder, "--store", store]
        let queued = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"id": 1, "data": {"status": "refunded", "payment_token": "tok_live_4242"}, "reason": "customer returned the parcel", "idempotency_key": "k-1"}"#] + common)
        #expect(queued.status == 0, "\(queued.stdout)\(queued.stderr)")
        let approvals = try RolloutBinary.run(["approvals"] + common)
        #expect(!approvals.stdout.contains("tok_live_4242") && approvals.stdout.contains("hmac:"), "\(approvals.stdout)")

        let records = try writeLines([
            #"{"ts":"2026-11-20T10:00:00Z","tenant":"acme","actor":"ormai","tool":"db.update","decision":"allowed","reason":"fix","api_key":"sk-live-1234","details":{"password":"hunter2"}}"#,
        ])
        #expect(try RolloutBinary.run(["audit", "import", records] + common).status == 0)
        let export = try RolloutBinary.run(["audit", "export"] + common)
        let tail = try RolloutBinary.run(["audit", "tail", "--format", "json"] + common)
        for output in [export.stdout, tail.stdout, approvals.stdout] {
            #expect(!output.contains("sk-live-1234") && !output.contains("hunter2") && !output.contains("tok_live_4242"))
        }
        #expect(try DatabaseQueue(path: store).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE body LIKE '%sk-live-1234%'") } == 0,
                "stored marked, not only printed marked")
        // Outside a project folder the policy's secret fields are unknown: refused, unless the user says so.
        let elsewhere = TestPaths.temporaryDirectory().path
        let refused = try RolloutBinary.run(["audit", "import", records, "--store", store], cwd: elsewhere)
        #expect(refused.status == 2 && refused.stderr.contains("--no-policy"), "\(refused.stderr)")
        #expect(try RolloutBinary.run(["audit", "import", records, "--store", store, "--no-policy"], cwd: elsewhere).status == 0)
    }

    @Test("the compliance report escapes hostile text from imported records and forbids every script but its own")
    func reportEscapes() throws {
        let p = try StageProject()
        let today = Timestamp.day(Date())
        let records = try writeLines([
            #"{"ts":"\#(today)T10:00:00Z","tenant":"acme","actor":"x","tool":"orders.update","decision":"rolled_back","reason":"<b>undo</b>","details":{"rollback_of":"<script>alert(1)</script>"}}"#,
            #"{"ts":"\#(today)T10:00:01Z","tenant":"acme","actor":"x","tool":"orders.update","decision":"rolled_back","reason":"<img src=x onerror=alert(2)>","details":{"rollback_of":"1"}}"#,
        ])
        #expect(try p.run(["audit", "import", records]).status == 0)
        let tomorrow = Timestamp.day(Date().addingTimeInterval(86_400))
        let result = try p.run(["report", "--from", today, "--to", tomorrow, "--out", p.root + "/out"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let html = try String(contentsOfFile: p.root + "/out/report.html", encoding: .utf8)
        #expect(!html.contains("<script>alert") && !html.contains("<img src=x"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && html.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(html.contains("http-equiv=\"Content-Security-Policy\"") && html.contains("default-src 'none'"))
        #expect(html.components(separatedBy: "<script>").count == 2, "one script: the page's own")
    }

    @Test("hostile numbers and dates are bad input naming line and field, never a crash", arguments: [
        (#"{"ts":"2026-11-20T10:00:00Z","tenant":"a","tool":"t","decision":"allowed","row_count":1e300}"#, "row_count"),
        (#"{"ts":"2026-02-31T10:00:00Z","tenant":"a","tool":"t","decision":"allowed"}"#, "ts"),
        (#"{"ts":"2026-11-20T10:00:00+99:99","tenant":"a","tool":"t","decision":"allowed"}"#, "ts"),
    ])
    func hostileRecords(line: String, field: String) throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("a.sqlite").path
        let file = try writeLines([#"{"ts":"2026-11-20T09:00:00Z","tenant":"a","tool":"t","decision":"allowed"}"#, line])
        let result = try RolloutBinary.run(["audit", "import", file, "--store", store])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(":2: \(field):"), "\(result.stderr)")
    }

    @Test("a record's own seq of 1e300 is ignored, not trusted: the store numbers events itself")
    func hugeSeq() throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("a.sqlite").path
        let file = try writeLines([#"{"seq":1e300,"ts":"2026-11-20T09:00:00Z","tenant":"a","tool":"t","decision":"allowed"}"#])
        #expect(try RolloutBinary.run(["audit", "import", file, "--store", store]).status == 0)
        #expect(try verifiedCount(store) == (true, 1))
    }

    @Test("a YAML alias bomb is refused at once, not expanded")
    func aliasBomb() throws {
        let dir = TestPaths.temporaryDirectory().path
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...7 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        try (lines.joined(separator: "\n") + "\nversion: 1\n").write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
        let started = Date()
        let result = try RolloutBinary.run(["lint", dir])
        #expect(result.status == 2 || result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect((result.stdout + result.stderr).contains("expands to more than"))
        // Expanded, the bomb is 10^8 nodes: minutes and gigabytes. A minute bounds the refusal with room for a busy machine.
        #expect(Date().timeIntervalSince(started) < 60)
    }

    @Test("four imports into one new store at once: every one succeeds, one chain")
    func concurrentFirstOpen() throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("new.sqlite").path
        let files = try (0..<4).map { try writeEvents(50, name: "e\($0).jsonl") }
        let statuses = StatusList()
        let group = DispatchGroup()
        for file in files {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                statuses.add((try? RolloutBinary.run(["audit", "import", file, "--store", store], environment: ["ROLLOUT_BUSY_TIMEOUT": "30"]).status) ?? -1)
            }
        }
        group.wait()
        #expect(statuses.all == [0, 0, 0, 0])
        #expect(try verifiedCount(store) == (true, 200))
    }

    @Test("a full disk during an export is an error with exit 3, never a crash; a read-only store still verifies",
          .enabled(if: SmallDisk.available, SmallDisk.skipMessage))
    func fullAndReadOnlyDisks() throws {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("a.sqlite").path
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(8_000), "--store", store]).status == 0)
        let disk = try SmallDisk(megabytes: 1)
        defer { disk.remove() }
        let export = try RolloutBinary.run(["audit", "export", "--store", store, "--out", disk.path + "/out.jsonl"])
        #expect(export.status == 3 && export.stderr.contains("cannot write"), "\(export.status) \(export.stderr)")

        let copy = disk.path + "/copy.sqlite"
        try? FileManager.default.removeItem(atPath: disk.path + "/out.jsonl")
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(5, name: "small.jsonl"), "--store", copy]).status == 0)
        #expect(try Subprocess.run(["mount", "-o", "remount,ro", disk.path]).status == 0)
        let verify = try RolloutBinary.run(["audit", "verify", "--store", copy])
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok: 5 events"), "\(verify.stdout)\(verify.stderr)")
        #expect(try Subprocess.run(["mount", "-o", "remount,rw", disk.path]).status == 0)

        // A store copied while in use, with its write-ahead log: on a read-only disk the log cannot be read,
        // and the file alone is an older state. Refused, never verified as the chain (found by a review).
        let livePath = dir.appendingPathComponent("live.sqlite").path
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(5, name: "live.jsonl"), "--store", livePath]).status == 0)
        var configuration = Configuration()
        configuration.journalMode = .wal
        let live = try DatabaseQueue(path: livePath, configuration: configuration)
        try live.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS scratch (x)") }  // a frame in the log, still open
        let inUse = disk.path + "/in-use.sqlite"
        try FileManager.default.copyItem(atPath: livePath, toPath: inUse)
        try FileManager.default.copyItem(atPath: livePath + "-wal", toPath: inUse + "-wal")
        try live.close()
        #expect(try Subprocess.run(["mount", "-o", "remount,ro", disk.path]).status == 0)
        let stale = try RolloutBinary.run(["audit", "verify", "--store", inUse])
        #expect(stale.status != 0 && stale.stderr.contains("write-ahead log"), "\(stale.status) \(stale.stdout)\(stale.stderr)")
    }
}

final class StatusList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int32] = []
    func add(_ s: Int32) { lock.withLock { items.append(s) } }
    var all: [Int32] { lock.withLock { items } }
}
