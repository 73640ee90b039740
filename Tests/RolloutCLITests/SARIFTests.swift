import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// `--format sarif` for lint and fuzz: valid SARIF 2.1.0 (checked against the official schema with
/// PyPI jsonschema), with what GitHub code scanning needs: a driver name, a rule per result, a message,
/// and a location in the repository with a start line.
@Suite("SARIF for code scanning")
struct SARIFTests {
    /// The checks code scanning makes, beyond the schema.
    static func checkForCodeScanning(_ log: JSONValue, root: String) {
        let run = log["runs"]?[0]
        #expect(log["version"] == "2.1.0")
        #expect(run?["tool"]?["driver"]?["name"]?.stringValue?.isEmpty == false)
        let ruleIDs = Set((run?["tool"]?["driver"]?["rules"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        for result in run?["results"]?.arrayValue ?? [] {
            #expect(result["ruleId"]?.stringValue.map(ruleIDs.contains) == true, "\(result["ruleId"] ?? .null)")
            #expect(result["message"]?["text"]?.stringValue?.isEmpty == false)
            let location = result["locations"]?[0]?["physicalLocation"]
            let uri = location?["artifactLocation"]?["uri"]?.stringValue ?? ""
            #expect(!uri.hasPrefix("/") && !uri.hasPrefix("file:"), "relative to the repository: \(uri)")
            #expect(FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(uri)), "\(uri) exists")
            #expect((location?["region"]?["startLine"]?.intValue ?? 0) >= 1)
        }
    }

    @Test("lint --format sarif: errors and policy gaps at their file and line; the human lines go to standard error",
          .enabled(if: SARIFValidation.available, "needs python3 with jsonschema"))
    func lint() throws {
        let root = TestPaths.temporaryDirectory().path
        let dir = root + "/rollout"
        #expect(try RolloutBinary.run(["init", dir]).status == 0)
        // One error (a field that is not writable) and the starter's policy gaps, if any.
        let policy = dir + "/policy.yaml"
        try (try String(contentsOfFile: policy, encoding: .utf8)).replacingOccurrences(of: "writable: [status, notes]", with: "writable: [status, notes, tenant_id]")
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let result = try RolloutBinary.run(["lint", "--dir", "rollout", "--format", "sarif"], cwd: root)
        #expect(result.status == 1)
        let path = root + "/lint.sarif"
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try SARIFValidation.validate(path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let log = try JSONValue.parse(result.stdout)
        Self.checkForCodeScanning(log, root: root)
        let results = log["runs"]?[0]?["results"]?.arrayValue ?? []
        let error = try #require(results.first { $0["level"] == "error" })
        #expect(error["ruleId"] == "lint.invalid" && error["locations"]?[0]?["physicalLocation"]?["artifactLocation"]?["uri"] == "rollout/policy.yaml")
        #expect(error["message"]?["text"]?.stringValue?.contains("tenant_id") == true)
        #expect(result.stderr.contains("policy.yaml:"), "the human lines on standard error")
    }

    @Test("fuzz --format sarif: each finding at its tool's entry in the policy, enforcement gaps as errors",
          .enabled(if: SARIFValidation.available && TinyServer.available, "needs python3 with jsonschema"))
    func fuzz() throws {
        let root = TestPaths.temporaryDirectory().path
        try FileManager.default.copyItem(atPath: TinyServer.policyFolder, toPath: root + "/policy")
        let result = try RolloutBinary.run(
            ["fuzz", "--dir", "policy", "--mcp", "python3 \(TinyServer.script)", "--calls", "1", "--format", "sarif",
             "--junit", root + "/fuzz.xml", "--repro-dir", root + "/repro"], cwd: root)
        #expect(result.status == 1, "\(result.stderr)")
        let path = root + "/fuzz.sarif"
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try SARIFValidation.validate(path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let log = try JSONValue.parse(result.stdout)
        Self.checkForCodeScanning(log, root: root)
        let results = log["runs"]?[0]?["results"]?.arrayValue ?? []
        #expect(!results.isEmpty)
        let reason = try #require(results.first { $0["ruleId"] == "fuzz.reason" })
        #expect(reason["level"] == "error" && reason["message"]?["text"]?.stringValue?.contains("items.create") == true)
        // The line is the tool's entry in the policy file.
        let policyLines = try String(contentsOfFile: root + "/policy/policy.yaml", encoding: .utf8).components(separatedBy: "\n")
        let line = reason["locations"]?[0]?["physicalLocation"]?["region"]?["startLine"]?.intValue ?? 0
        #expect(line >= 1 && line <= policyLines.count && policyLines[line - 1].contains("items."), "line \(line): \(line >= 1 && line <= policyLines.count ? policyLines[line - 1] : "")")
        #expect(result.stderr.contains("enforcement gaps"), "the summary on standard error")
    }
}
