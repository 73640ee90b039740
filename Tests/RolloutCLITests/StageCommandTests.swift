import Foundation
import RolloutCore
import RolloutReports
import RolloutStore
import RolloutTestSupport
import Testing

/// A copy of the example folder in a fresh working directory, with its own store and reports.
struct StageProject {
    let root: String
    let store: String

    /// `sharing`: another project whose audit store this one writes too, as a second host would.
    init(sharing other: StageProject? = nil) throws {
        root = TestPaths.temporaryDirectory("stage-cli").path
        store = other?.store ?? root + "/audit.sqlite"
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: root + "/rollout")
        try? FileManager.default.removeItem(atPath: root + "/rollout/examples")
        // The store the guards would have made: stage commands change stages only in a store that is there.
        if other == nil { _ = try AuditStore(path: store, create: true) }
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let takesStore = ["gate", "promote", "demote", "pause", "resume", "approve", "status", "audit", "score", "report", "call"].contains(arguments[0])
        return try RolloutBinary.run(arguments + (takesStore ? ["--store", store] : []), cwd: root, environment: environment)
    }

    func tenantsText() throws -> String { try String(contentsOfFile: root + "/rollout/tenants.yaml", encoding: .utf8) }
}

@Suite("rollout gate, promote, demote, pause, approve, status, flags: end to end")
struct StageCommandTests {
    @Test("flags export without its audit store is refused (a pause made from another host lives there), unless asked for by --without-store")
    func flagsNeedTheStore() throws {
        let p = try StageProject()
        // acme paused from another host: in the store only.
        let other = try StageProject(sharing: p)
        #expect(try other.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident"]).status == 0)

        let missing = try p.run(["flags", "export", "--out", "-"])
        #expect(missing.status == 2 && missing.stderr.contains("no audit store at") && missing.stderr.contains("--without-store"), "\(missing.stderr)")
        let alone = try p.run(["flags", "export", "--out", "-", "--without-store"])
        #expect(alone.status == 0 && alone.stdout.contains("\"acme\""), "\(alone.stderr)")
        let both = try p.run(["flags", "export", "--out", "-", "--without-store", "--store", p.store])
        #expect(both.status == 2 && both.stderr.contains("give one of them") && both.stdout.isEmpty, "\(both.stderr)")
        let withStore = try p.run(["flags", "export", "--out", "-", "--store", p.store])
        #expect(withStore.status == 0 && !withStore.stdout.contains("\"acme\""), "paused acme is off: \(withStore.stdout)")
        let status = try RolloutBinary.run(["status"], cwd: p.root)
        #expect(status.stdout.contains("no audit store at"), "\(status.stdout)")
    }

    @Test("flags export verifies the store's chain first: a pause whose event and row were deleted does not turn its tenant back on (helper-77)")
    func flagsOverABrokenChain() throws {
        let p = try StageProject()
        #expect(try p.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        #expect(try p.run(["pause", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 43"]).status == 0)
        let paused = try p.run(["flags", "export", "--out", "-", "--store", p.store])
        #expect(paused.status == 0 && !paused.stdout.contains("\"acme\""), "\(paused.stdout)")
        try TestStores.edit(p.store, """
            DELETE FROM audit_events WHERE decision = 'stage_pause' AND tenant = 'acme';
            DELETE FROM tenant_pauses WHERE tenant = 'acme';
            """)
        let export = try p.run(["flags", "export", "--out", "-", "--store", p.store])
        #expect(export.status == 1 && export.stdout.isEmpty && export.stderr.contains("hash chain breaks"), "\(export.stdout)\(export.stderr)")
    }

    @Test("a stage command rewriting the flags lifts nothing but its own change on a broken chain: a pause deleted from the log stays off (helper-78)")
    func stageCommandsOverABrokenChain() throws {
        let p = try StageProject()
        let other = try StageProject(sharing: p)
        let flags = p.root + "/rollout/flags.flagd.json"
        // Paused from another host: in the shared store only, not in this host's tenants.yaml.
        #expect(try other.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        #expect(try p.run(["flags", "export", "--store", p.store]).status == 0)
        func stages() throws -> FlagdExport.Stages? {
            FlagdExport.stages(of: try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: flags))))
        }
        #expect(try stages()?["orders.update"]?["acme"] == nil && stages()?["orders.update"]?["globex"] == .shadow)
        try TestStores.edit(p.store, """
            DELETE FROM audit_events WHERE decision = 'stage_pause' AND tenant = 'acme';
            DELETE FROM tenant_pauses WHERE tenant = 'acme';
            """)
        // Another tenant's demotion rewrites the file: acme would rise from the store's (emptied) pauses.
        let demote = try p.run(["demote", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 43"])
        #expect(demote.status == 0 && demote.stderr.contains("kept acme/customers.set_role") && demote.stderr.contains("acme/orders.update") && demote.stderr.contains("hash chain breaks"), "\(demote.stderr)")
        #expect(try stages()?["orders.update"]?["acme"] == nil, "acme turned back on")
        #expect(try stages()?["orders.update"]?["globex"] == nil, "the demotion itself is written")
    }

    @Test("with an anchor (--anchor or ROLLOUT_ANCHOR), a pause cut off the log's tail with the head moved back is a broken chain to a stage command: its tenant stays off; without one, the shorter chain holds",
          arguments: ["--anchor", "ROLLOUT_ANCHOR", "none"])
    func anchoredStageCommand(anchorGiven: String) throws {
        let p = try StageProject()
        let other = try StageProject(sharing: p)
        let flags = p.root + "/rollout/flags.flagd.json"
        #expect(try other.run(["pause", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 41"]).status == 0)
        #expect(try other.run(["resume", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 41 closed"]).status == 0)
        #expect(try other.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        #expect(try p.run(["flags", "export", "--store", p.store]).status == 0)
        func stages() throws -> FlagdExport.Stages? {
            FlagdExport.stages(of: try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: flags))))
        }
        #expect(try stages()?["orders.update"]?["acme"] == nil && stages()?["orders.update"]?["globex"] == .shadow)
        let anchorFile = p.root + "/anchor.json"
        #expect(try p.run(["audit", "anchor", "--out", anchorFile]).status == 0)
        // The pause cut off the end of the log and the head moved back: a chain that holds, one event shorter.
        try TestStores.edit(p.store, """
            DELETE FROM audit_events WHERE decision = 'stage_pause' AND tenant = 'acme';
            DELETE FROM tenant_pauses WHERE tenant = 'acme';
            UPDATE chain_head SET seq = (SELECT max(seq) FROM audit_events), hash = (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1);
            """)
        let arguments = ["demote", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 43"]
        let demote = switch anchorGiven {
        case "--anchor": try p.run(arguments + ["--anchor", anchorFile])
        case "ROLLOUT_ANCHOR": try p.run(arguments, environment: ["ROLLOUT_ANCHOR": anchorFile])
        default: try p.run(arguments)
        }
        #expect(demote.status == 0, "\(demote.stdout)\(demote.stderr)")
        #expect(try stages()?["orders.update"]?["globex"] == nil, "the demotion itself is written")
        if anchorGiven == "none" {
            // What the anchor is for: without it, nothing tells the cut-off chain from a short one.
            #expect(try stages()?["orders.update"]?["acme"] != nil)
        } else {
            #expect(demote.stderr.contains("kept acme/") && demote.stderr.contains("acme/orders.update") && demote.stderr.contains("(anchor)"), "\(demote.stderr)")
            #expect(try stages()?["orders.update"]?["acme"] == nil, "acme turned back on")
        }
    }

    @Test("who paused is the chain's word: a bot written into the pause table by hand does not lift a person's pause (helper-79)")
    func pauseTableActorEdited() throws {
        let p = try StageProject()
        #expect(try p.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        try TestStores.edit(p.store, "UPDATE tenant_pauses SET automated = 1, by_actor = 'alertbot' WHERE tenant = 'acme'")
        let other = try StageProject(sharing: p)
        let resume = try other.run(["resume", "--tenant", "acme", "--by", "alertbot", "--automated", "--reason", "auto resume"])
        #expect(resume.status == 1 && resume.stderr.contains("maria.lopez"), "\(resume.stdout)\(resume.stderr)")
    }

    @Test("a resume over a broken chain is refused: a person's pause taken out of the log is not laundered by a bot's pause and resume (helper-79)")
    func resumeOverABrokenChain() throws {
        let p = try StageProject()
        let other = try StageProject(sharing: p)
        #expect(try other.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        try TestStores.edit(p.store, "DELETE FROM audit_events WHERE seq = 1; DELETE FROM tenant_pauses;")
        #expect(try p.run(["pause", "--tenant", "acme", "--by", "alertbot", "--automated", "--reason", "bot pause"]).status == 0)
        let resume = try p.run(["resume", "--tenant", "acme", "--by", "alertbot", "--automated", "--reason", "bot resume"])
        #expect(resume.status != 0 && resume.stderr.contains("hash chain breaks"), "\(resume.stdout)\(resume.stderr)")
        #expect(try p.tenantsText().contains("paused: true"))
    }

    @Test("over an intact chain a pause lifted on another host rises in this host's flags with the next stage command, as before")
    func liftedElsewhereRises() throws {
        let p = try StageProject()
        let other = try StageProject(sharing: p)
        let flags = p.root + "/rollout/flags.flagd.json"
        #expect(try other.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42"]).status == 0)
        #expect(try p.run(["flags", "export", "--store", p.store]).status == 0)
        #expect(try !String(contentsOfFile: flags, encoding: .utf8).contains("\"acme\""))
        #expect(try other.run(["resume", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident 42 over"]).status == 0)
        let demote = try p.run(["demote", "--tenant", "globex", "--by", "maria.lopez", "--reason", "incident 43"])
        #expect(demote.status == 0 && !demote.stderr.contains("kept"), "\(demote.stderr)")
        let written = FlagdExport.stages(of: try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: flags))))
        #expect(written?["orders.update"]?["acme"] == .soft && written?["orders.update"]?["globex"] == nil, "\(String(describing: written))")
    }

    @Test("a stage command where no store is makes none and changes nothing: a store made there would hold no other host's pause, and the flags written from it would lift one")
    func stageCommandsNeedTheStore() throws {
        let p = try StageProject()
        let before = try p.tenantsText()
        let elsewhere = p.root + "/not-the-guards.sqlite"
        for command in [["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident"],
                        ["demote", "--tenant", "acme", "--by", "maria.lopez", "--reason", "incident"],
                        ["promote", "--tenant", "acme", "--by", "maria.lopez", "--reason", "clean"]] {
            let run = try RolloutBinary.run(command + ["--store", elsewhere], cwd: p.root)
            #expect(run.status == 2 && run.stderr.contains("no store at"), "\(command[0]): \(run.status) \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: elsewhere), "\(command[0]) made a store")
        }
        #expect(try p.tenantsText() == before)
        #expect(!FileManager.default.fileExists(atPath: p.root + "/rollout/flags.flagd.json"))
    }

    @Test("a tenant given in another Unicode form than tenants.yaml's is refused by call and guard before anything runs")
    func tenantSpelledOtherwise() throws {
        let p = try StageProject()
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        try (try p.tenantsText()).replacingOccurrences(of: "\nhistory:\n", with: "  \(nfc):\n    stage: off\n\nhistory:\n")
            .write(toFile: p.root + "/rollout/tenants.yaml", atomically: true, encoding: .utf8)
        let demo = p.root + "/demo.sqlite"
        let args = #"{"id": 1, "data": {"notes": "x"}, "reason": "carrier confirmed pickup", "idempotency_key": "u-1"}"#
        let other = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", nfd, "--actor", "agent-1", "--store", demo, "--args", args], cwd: p.root)
        #expect(other.status == 2 && other.stderr.contains("another Unicode form"), "\(other.status) \(other.stderr)")
        let same = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", nfc, "--actor", "agent-1", "--store", demo, "--args", args], cwd: p.root)
        #expect(!same.stderr.contains("another Unicode form"), "\(same.stderr)")
        let guarded = try RolloutBinary.run(["guard", "--tenant", nfd, "--actor", "agent-1", "--store", p.store, "--", "true"], cwd: p.root)
        #expect(guarded.status == 2 && guarded.stderr.contains("another Unicode form"), "\(guarded.status) \(guarded.stderr)")
    }

    @Test("gate and promote say on standard error what in tenants.yaml weakens the gates, as lint does")
    func weakGatesAreSaid() throws {
        let p = try StageProject()
        let path = p.root + "/rollout/tenants.yaml"
        try (try p.tenantsText()).replacingOccurrences(of: "soak: 7d ", with: "soak: 1h ").replacingOccurrences(of: "min_events: 50 ", with: "min_events: 0  ")
            .replacingOccurrences(of: "min_coverage_days: 5 ", with: "min_coverage_days: 0 ")
            .write(toFile: path, atomically: true, encoding: .utf8)
        for command in [["gate", "--tenant", "acme"], ["promote", "--tenant", "acme", "--dry-run"]] {
            let run = try p.run(command)
            #expect(run.status == 1, "\(run.stderr)")
            for field in ["gates.soak", "gates.min_events", "gates.min_coverage_days"] {
                #expect(run.stderr.contains("tenants.yaml:") && run.stderr.contains("warning: \(field)"), "\(command[0]): \(run.stderr)")
            }
        }
        // The example's own (its log is imported) is named too; a file that weakens nothing gets no such line.
        let plain = try StageProject()
        #expect(try plain.run(["gate", "--tenant", "acme"]).stderr.contains("warning: gates.imported_evidence"))
        try (try plain.tenantsText()).replacingOccurrences(of: "  imported_evidence: true\n", with: "")
            .write(toFile: plain.root + "/rollout/tenants.yaml", atomically: true, encoding: .utf8)
        let gate = try plain.run(["gate", "--tenant", "acme"])
        #expect(!gate.stderr.contains("warning: gates."), "\(gate.stderr)")
        // Its imported traffic then counts for nothing.
        #expect(gate.status == 1 && gate.stdout.contains("recorded by guards (imported ones do not count)"), "\(gate.stdout)")
    }

    @Test("with the chain key the fuzz report is signed, and the gate takes no report edited or written without the key")
    func signedFuzzReport() throws {
        let key = ["ROLLOUT_CHAIN_KEY": "a long random secret kept in the team's vault"]
        let p = try StageProject()
        func fuzzGate(_ environment: [String: String]) throws -> JSONValue? {
            let gate = try p.run(["gate", "--tenant", "initech", "--format", "json"], environment: environment)
            return try JSONValue.parse(gate.stdout)["gates"]?.arrayValue?.first { $0["gate"] == "fuzz" }
        }
        #expect(try p.run(["fuzz"]).status == 0)
        #expect(try fuzzGate(key)?["reason"]?.stringValue?.contains("is not signed") == true, "a report made without the key")
        #expect(try p.run(["fuzz"], environment: key).status == 0)
        #expect(try fuzzGate(key)?["status"] == "successful")
        // Any word of its verdict changed (here the seed it ran with) no longer matches its signature.
        let path = p.root + "/reports/fuzz.xml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: #"name="fuzz.seed" value="1""#, with: #"name="fuzz.seed" value="2""#).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: path, encoding: .utf8) != text)
        let edited = try fuzzGate(key)
        #expect(edited?["status"] == "error" && edited?["reason"]?.stringValue?.contains("signature does not match") == true, "\(String(describing: edited))")
    }

    @Test("without a fuzz report the gate is an error: exit 1 and a JUnit report that says so")
    func gateWithoutReport() throws {
        let p = try StageProject()
        let result = try p.run(["gate", "--tenant", "initech", "--format", "json"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        #expect(json["passed"] == false && json["next"] == "shadow")
        #expect(json["gates"]?[0]?["gate"] == "chain" && json["gates"]?[0]?["status"] == "successful")
        #expect(json["gates"]?[1]?["gate"] == "fuzz" && json["gates"]?[1]?["status"] == "error")
        let xml = try String(contentsOfFile: p.root + "/reports/gate-initech.xml", encoding: .utf8)
        #expect(xml.contains("<error") && xml.contains("no fuzz report"))
        if JUnitValidation.available { #expect(try JUnitValidation.validate(p.root + "/reports/gate-initech.xml").status == 0) }
    }

    @Test("fuzz, gate, promote with its record, lint, status: the whole loop through the binary")
    func promoteLoop() throws {
        let p = try StageProject()
        #expect(try p.run(["fuzz"]).status == 0)
        #expect(try p.run(["gate", "--tenant", "initech"]).status == 0)
        // A promotion is made by someone, by name.
        #expect(try p.run(["promote", "--tenant", "initech"], environment: ["ROLLOUT_ACTOR": ""]).status == 2)
        #expect(try p.run(["promote", "--tenant", "nobody", "--by", "maria.lopez"]).status == 2)
        #expect(try p.run(["promote", "--tenant", "initech", "--to", "soft", "--by", "maria.lopez"]).status == 2)
        let before = try p.tenantsText()
        #expect(try p.run(["promote", "--tenant", "initech", "--dry-run"]).status == 0)
        #expect(try p.tenantsText() == before)

        let promoted = try p.run(["promote", "--tenant", "initech", "--by", "maria.lopez", "--reason", "fuzz report green", "--format", "json"])
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        #expect(try JSONValue.parse(promoted.stdout)["promoted"] == true)
        let after = try p.tenantsText()
        #expect(after.contains("to: shadow\n    by: maria.lopez\n    reason: fuzz report green\n    evidence:"))
        #expect(after.contains("# who may approve a promotion to broad"), "comments survive")
        let tail = try p.run(["audit", "tail", "--format", "json"])
        #expect(tail.stdout.contains("rollout.stage") && tail.stdout.contains("stage_promote"))
        #expect(try p.run(["audit", "verify"]).status == 0)

        // The flags file follows the stages once it exists; lint catches one left behind.
        #expect(try p.run(["flags", "export", "--store", p.store]).status == 0)
        #expect(try p.run(["lint"]).status == 0)
        #expect(try p.run(["demote", "--tenant", "acme", "--by", "maria.lopez", "--reason", "refund spike"]).status == 0)
        #expect(try p.run(["lint"]).status == 0, "promote/demote keep the flags file in step")
        let tenants = try p.tenantsText()
        try tenants.replacingOccurrences(of: "stage: shadow\n    since: 2026-11-16", with: "stage: soft\n    since: 2026-11-16")
            .write(toFile: p.root + "/rollout/tenants.yaml", atomically: true, encoding: .utf8)
        let lint = try p.run(["lint"])
        #expect(lint.status == 1 && lint.stdout.contains("flags.flagd.json") && lint.stdout.contains("rollout flags export"), "\(lint.stdout)")

        let status = try p.run(["status", "--format", "json"])
        #expect(status.status == 0)
        let rows = try JSONValue.parse(status.stdout)["tenants"]?.arrayValue ?? []
        #expect(rows.map { $0["tenant"]?.stringValue } == ["acme", "globex", "initech"])
        #expect(rows[2]["stage"] == "shadow" && rows[0]["stage"] == "shadow")
        // The last verdict recorded for initech is its promotion's; nobody ran the gate for acme.
        #expect(rows[2]["gate"]?["passed"] == true && rows[2]["gate"]?["next"] == "shadow", "\(rows[2])")
        #expect(rows[0]["gate"] == .null)
        let table = try p.run(["status"])
        #expect(table.stdout.hasPrefix("TENANT") && table.stdout.contains("initech"))
    }

    @Test("the kill switch: pause turns every tool off, an automated actor cannot lift a person's pause")
    func pauseResume() throws {
        let p = try StageProject()
        #expect(try p.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "agent looping"]).status == 0)
        #expect(try p.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "again"]).status == 1)
        let status = try JSONValue.parse(try p.run(["status", "--format", "json"]).stdout)
        let acme = try #require(status["tenants"]?[0])
        #expect(acme["paused"] == true && acme["tools"]?.objectValue?.values.allSatisfy { $0 == "off" } == true)
        #expect(try p.run(["resume", "--tenant", "acme", "--by", "ci-bot", "--automated", "--reason", "auto"]).status == 1)
        #expect(try p.run(["resume", "--tenant", "acme", "--by", "maria.lopez", "--reason", "fixed"]).status == 0)
        #expect(try p.run(["approve", "--tenant", "acme", "--stage", "broad", "--by", "dev.patel"]).status == 2, "a stage approval needs a reason")
        #expect(try p.run(["approve", "--tenant", "acme", "--stage", "broad", "--by", "dev.patel", "--reason", "clean fortnight"]).status == 0)
        #expect(try p.tenantsText().contains("action: approve"))
    }

    @Test("a pause on one host stops the guards of every host that writes the store; any host resumes it, a bot cannot")
    func pauseAcrossHosts() throws {
        let a = try StageProject()
        let b = try StageProject(sharing: a)  // another host: its own tenants.yaml, the same store
        func update(_ p: StageProject, _ key: String) throws -> ProcessResult {
            try p.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                       #"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "\#(key)"}"#])
        }
        #expect(try update(b, "k-1").stdout.hasPrefix("executed"))
        let queued = try b.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                                #"{"order_id": 2, "amount_cents": 90000, "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "r-1"}"#])
        #expect(queued.stdout.hasPrefix("pending_approval"), "\(queued.stdout)\(queued.stderr)")

        #expect(try a.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "agent looping"]).status == 0)
        let bFile = try b.tenantsText()
        #expect(!bFile.contains("paused: true"), "host B's file is not edited")
        // Host B's guard, its approvals and its gates obey the store; its status says paused.
        let refused = try update(b, "k-2")
        #expect(refused.status == 1 && refused.stdout.hasPrefix("tool_disabled") && refused.stdout.contains("paused by maria.lopez"),
                "\(refused.stdout)\(refused.stderr)")
        let approved = try b.run(["approve", "1", "--by", "dev.patel"])
        #expect(approved.status == 1 && approved.stdout.contains("paused"), "\(approved.stdout)\(approved.stderr)")
        let status = try JSONValue.parse(try b.run(["status", "--format", "json"]).stdout)
        #expect(status["tenants"]?[0]?["paused"] == true)
        #expect(try b.run(["promote", "--tenant", "acme", "--by", "maria.lopez", "--reason", "go"]).status == 1)
        // Host B's flags say off for acme as host A's do (its file paused), and lint agrees with them.
        let flags = ["flags", "export", "--out", "-", "--store", a.store]
        #expect(try b.run(flags).stdout == a.run(flags).stdout)
        #expect(try b.run(["flags", "export", "--store", a.store]).status == 0)
        let lint = try b.run(["lint", "--store", a.store])
        #expect(lint.status == 0 && !lint.stdout.contains("out of date"), "\(lint.stdout)")
        // A bot pausing again on host B does not make the person's pause a bot's, which a bot could lift.
        #expect(try b.run(["pause", "--tenant", "acme", "--by", "ci-bot", "--automated", "--reason", "health check failed"]).status == 0)
        #expect(try b.run(["resume", "--tenant", "acme", "--by", "ci-bot", "--automated", "--reason", "health check ok"]).status == 1)
        #expect(try update(b, "k-2b").stdout.hasPrefix("tool_disabled"))
        // Resumed from host B (whose file was never paused): a bot cannot lift a person's pause, a person can.
        #expect(try b.run(["resume", "--tenant", "acme", "--by", "ci-bot", "--automated", "--reason", "auto"]).status == 1)
        #expect(try b.run(["resume", "--tenant", "acme", "--by", "dev.patel", "--reason", "loop fixed"]).status == 0)
        #expect(try b.run(["resume", "--tenant", "acme", "--by", "dev.patel", "--reason", "again"]).status == 1)
        #expect(try update(b, "k-3").stdout.hasPrefix("executed"))
        // Host A's own file still says paused until a person resumes there too.
        #expect(try update(a, "k-4").stdout.hasPrefix("tool_disabled"))
        #expect(try a.run(["resume", "--tenant", "acme", "--by", "maria.lopez", "--reason", "loop fixed"]).status == 0)
        #expect(try update(a, "k-5").stdout.hasPrefix("executed"))
        // Paused in host A's file only (by hand, or before this version): pausing again records it in the store.
        let path = a.root + "/rollout/tenants.yaml"
        #expect(try a.tenantsText().contains("    paused: false\n"))
        try (try a.tenantsText()).replacingOccurrences(of: "    paused: false\n", with: "    paused: true\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try update(b, "k-6").stdout.hasPrefix("executed"))
        #expect(try a.run(["pause", "--tenant", "acme", "--by", "maria.lopez", "--reason", "again"]).status == 0)
        #expect(try update(b, "k-7").stdout.hasPrefix("tool_disabled"))
    }

    @Test("the exported flags, evaluated by OpenFeature's flagd provider, give rollout's stage for every tenant and tool",
          .enabled(if: FlagdPeer.available, FlagdPeer.skipMessage))
    func flagdProviderAgrees() throws {
        let p = try StageProject()
        // Soft, shadow and off, a tool of its own, a paused tenant.
        #expect(try p.run(["demote", "--tenant", "acme", "--tool", "orders.delete", "--to", "off", "--by", "maria.lopez", "--reason", "deletes wait"]).status == 0)
        #expect(try p.run(["pause", "--tenant", "globex", "--by", "maria.lopez", "--reason", "investigating"]).status == 0)
        #expect(try p.run(["flags", "export", "--store", p.store]).status == 0)

        let status = try JSONValue.parse(try p.run(["status", "--format", "json"]).stdout)
        var expected: [String: String] = [:]
        var queries: [JSONValue] = []
        for row in status["tenants"]?.arrayValue ?? [] {
            let tenant = row["tenant"]!.stringValue!
            for (tool, stage) in row["tools"]?.objectValue ?? [:] {
                expected["\(tenant) write-tool.\(tool)"] = stage.stringValue
                queries.append(["tenant": .string(tenant), "flag": .string("write-tool.\(tool)")])
            }
        }
        for tool in ["orders.update", "orders.delete"] {
            expected["nobody write-tool.\(tool)"] = "off"
            queries.append(["tenant": "nobody", "flag": .string("write-tool.\(tool)")])
        }
        #expect(expected.values.contains("soft") && expected.values.contains("shadow") && expected.values.contains("off"))
        let result = try Subprocess.run([FlagdPeer.python, FlagdPeer.script, "--schema", TestPaths.shared.appendingPathComponent("flagd").path,
                                         p.root + "/rollout/flags.flagd.json", JSONValue.array(queries).canonicalText])
        #expect(result.status == 0, "\(result.stderr)")
        let out = try JSONValue.parse(result.stdout)
        #expect(out["schema_errors"]?.arrayValue?.isEmpty == true, "\(out["schema_errors"] ?? .null)")
        let answers = out["answers"]?.arrayValue ?? []
        #expect(answers.count == queries.count)
        for answer in answers {
            let key = "\(answer["tenant"]?.stringValue ?? "") \(answer["flag"]?.stringValue ?? "")"
            #expect(answer["error"] == .null, "\(key): \(answer)")
            #expect(answer["value"]?.stringValue == expected[key], "\(key): flagd says \(answer["value"] ?? .null)")
        }
    }
}
