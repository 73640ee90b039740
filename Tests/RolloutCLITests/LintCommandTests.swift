import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// The `rollout` binary as a user runs it: exit statuses, output on each stream.
@Suite("rollout lint and init, end to end")
struct LintCommandTests {
    @Test("lint on the example folder exits 0")
    func exampleIsClean() throws {
        let result = try RolloutBinary.run(["lint", TestPaths.exampleFolder])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("0 errors"))
    }

    @Test("three planted mistakes are all printed with file:line:column and field path; exit 1")
    func plantedMistakes() throws {
        let dir = TestPaths.temporaryDirectory()
        let policyPath = dir.appendingPathComponent("policy.yaml").path
        var text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "cap: {max: 100, per: 1h}", with: "cap: {max: 100, per: 1 hour}")
        text = text.replacingOccurrences(of: "writable: [status, notes, shipping_address]", with: "writable: [status, notes, tenant_id]")
        text = text.replacingOccurrences(of: #"{"var": "after.amount_cents"}"#, with: #"{"var": "order.amount_cents"}"#)
        try text.write(toFile: policyPath, atomically: true, encoding: .utf8)

        let result = try RolloutBinary.run(["lint", dir.path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(result.stdout)")
        for path in ["tools.orders.update.cap.per", "tools.orders.update.writable[2]", "tools.refunds.issue.approval.when"] {
            let line = lines.first { $0.contains(path) }
            #expect(line != nil, "missing \(path) in \(result.stdout)")
            // file:line:column: error: path: message
            #expect(line?.range(of: #"^.+policy\.yaml:\d+:\d+: error: "#, options: .regularExpression) != nil)
        }

        let json = try RolloutBinary.run(["lint", dir.path, "--format", "json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"errors\": 3"))
    }

    @Test("lint --junit writes a report that names each file")
    func junit() throws {
        let dir = TestPaths.temporaryDirectory()
        let out = dir.appendingPathComponent("lint.xml").path
        let result = try RolloutBinary.run(["lint", TestPaths.exampleFolder, "--junit", out])
        #expect(result.status == 0)
        let xml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(xml.contains("policy.yaml") && xml.contains("tenants.yaml") && xml.contains("failures=\"0\""))
        if JUnitValidation.available {
            #expect(try JUnitValidation.validate(out).status == 0)
        }
    }

    @Test("unreadable input exits 2; a usage error exits 2")
    func badInput() throws {
        #expect(try RolloutBinary.run(["lint", "/nonexistent/folder"]).status == 2)
        let dir = TestPaths.temporaryDirectory()
        try "version: 1\nmodels: [unclosed\n".write(toFile: dir.path + "/policy.yaml", atomically: true, encoding: .utf8)
        let syntax = try RolloutBinary.run(["lint", dir.path])
        #expect(syntax.status == 2)
        #expect(syntax.stdout.contains("policy.yaml:"))
        #expect(try RolloutBinary.run(["lint", "--no-such-flag"]).status == 2)
    }

    @Test("init writes a starter that lint accepts, and will not overwrite it")
    func initThenLint() throws {
        let dir = TestPaths.temporaryDirectory().appendingPathComponent("rollout").path
        #expect(try RolloutBinary.run(["init", dir]).status == 0)
        #expect(try RolloutBinary.run(["lint", dir]).status == 0)
        let again = try RolloutBinary.run(["init", dir])
        #expect(again.status == 2)
        #expect(again.stderr.contains("--force"))
    }

    @Test("init --from-mcp describes every tool the server lists, marks its guesses, and passes lint",
          .enabled(if: TinyServer.available, "python3 is missing"))
    func initFromMCP() throws {
        let dir = TestPaths.temporaryDirectory().appendingPathComponent("rollout").path
        let made = try RolloutBinary.run(["init", "--from-mcp", "python3 \(TinyServer.script)", dir], environment: ["TINY_TOOLS": "realistic"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("lines marked REVIEW"))
        let lint = try RolloutBinary.run(["lint", "--dir", dir])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        let policy = try RolloutFolder(directory: dir).loadPolicy()
        // Every tool the server lists is either a write tool or a read: nothing is left undescribed.
        let listed = ["items.create", "items.update", "items.delete", "items.get", "items.list", "refunds.issue", "run_sql", "orderArchive",
                      "get_or_purge_order", "execute", "admin.query", "db.raw", "shell", "flush_cache", "impersonate"]
        for tool in listed {
            #expect(!policy.entries(forWireName: tool).isEmpty || policy.read(forWireName: tool) != nil, "\(tool) is not described")
        }
        // Writes are suggested cautiously: a write verb anywhere makes a write; reads are the plain lookups.
        #expect(!policy.entries(forWireName: "get_or_purge_order").isEmpty)
        #expect(!policy.entries(forWireName: "items.update").isEmpty && policy.read(forWireName: "items.get") != nil)
        let text = try String(contentsOfFile: dir + "/policy.yaml", encoding: .utf8)
        #expect(text.contains("REVIEW: suggested write") && text.contains("REVIEW: suggested read"))
        // A server that cannot start is a clear error, and nothing is written.
        let broken = TestPaths.temporaryDirectory().appendingPathComponent("rollout").path
        let missing = try RolloutBinary.run(["init", "--from-mcp", "/nonexistent/server", "--start-timeout", "5s", broken])
        #expect(missing.status != 0)
        #expect(!FileManager.default.fileExists(atPath: broken + "/policy.yaml"))
    }

    @Test("gate settings that weaken the gates are warned about, with file, line and field")
    func weakGates() throws {
        let dir = TestPaths.temporaryDirectory().appendingPathComponent("rollout").path
        #expect(try RolloutBinary.run(["init", dir]).status == 0)
        let path = dir + "/tenants.yaml"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "soak: 7d", with: "soak: 1m").replacingOccurrences(of: "min_coverage_days: 5", with: "min_coverage_days: 0")
            .replacingOccurrences(of: "min_events: 50", with: "min_events: 0")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let lint = try RolloutBinary.run(["lint", "--dir", dir])
        #expect(lint.status == 0, "warnings only: \(lint.stdout)")
        for field in ["gates.soak", "gates.min_events", "gates.min_coverage_days"] {
            #expect(lint.stdout.contains("tenants.yaml:") && lint.stdout.contains("warning: \(field):"), "\(field): \(lint.stdout)")
        }
    }
}
