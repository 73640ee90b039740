import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// A copy of the example folder in a fresh working directory, with its own store and reports.
struct StageProject {
    let root: String
    var store: String { root + "/audit.sqlite" }

    init() throws {
        root = TestPaths.temporaryDirectory("stage-cli").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: root + "/rollout")
        try? FileManager.default.removeItem(atPath: root + "/rollout/examples")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let takesStore = ["gate", "promote", "demote", "pause", "resume", "approve", "status", "audit", "score", "report", "call"].contains(arguments[0])
        return try RolloutBinary.run(arguments + (takesStore ? ["--store", store] : []), cwd: root, environment: environment)
    }

    func tenantsText() throws -> String { try String(contentsOfFile: root + "/rollout/tenants.yaml", encoding: .utf8) }
}

@Suite("rollout gate, promote, demote, pause, approve, status, flags: end to end")
struct StageCommandTests {
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
        #expect(try p.run(["flags", "export"]).status == 0)
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

    @Test("the exported flags, evaluated by OpenFeature's flagd provider, give rollout's stage for every tenant and tool",
          .enabled(if: FlagdPeer.available, FlagdPeer.skipMessage))
    func flagdProviderAgrees() throws {
        let p = try StageProject()
        // Soft, shadow and off, a tool of its own, a paused tenant.
        #expect(try p.run(["demote", "--tenant", "acme", "--tool", "orders.delete", "--to", "off", "--by", "maria.lopez", "--reason", "deletes wait"]).status == 0)
        #expect(try p.run(["pause", "--tenant", "globex", "--by", "maria.lopez", "--reason", "investigating"]).status == 0)
        #expect(try p.run(["flags", "export"]).status == 0)

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
