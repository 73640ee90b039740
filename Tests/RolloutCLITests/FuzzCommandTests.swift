import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@Suite("rollout fuzz, end to end")
struct FuzzCommandTests {
    @Test("on the example folder: exit 0, and the report passes validate.sh")
    func example() throws {
        let dir = TestPaths.temporaryDirectory()
        let report = dir.appendingPathComponent("fuzz.xml").path
        let result = try RolloutBinary.run(["fuzz", "--dir", TestPaths.exampleFolder, "--junit", report, "--repro-dir", dir.appendingPathComponent("repro").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("0 enforcement gaps, 0 policy gaps"))
        if JUnitValidation.available {
            let check = try JUnitValidation.validate(report)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }

    @Test("--junit-profile surefire: --junit is a folder of TEST-<tool>.xml files Maven's schema accepts",
          .enabled(if: Subprocess.available("xmllint"), "needs xmllint"))
    func surefire() throws {
        let dir = TestPaths.temporaryDirectory()
        let reports = dir.appendingPathComponent("surefire-reports").path
        let result = try RolloutBinary.run(["fuzz", "--dir", TestPaths.exampleFolder, "--junit", reports, "--junit-profile", "surefire",
                                            "--calls", "1", "--repro-dir", dir.appendingPathComponent("repro").path])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: reports).sorted()
        #expect(files.contains("TEST-orders.update.xml") && files.contains("TEST-reads.xml"), "\(files)")
        let schema = TestPaths.shared.appendingPathComponent("junit/surefire-test-report.xsd").path
        for file in files {
            let check = try Subprocess.run(["xmllint", "--noout", "--schema", schema, reports + "/" + file])
            #expect(check.status == 0, "\(file): \(check.stderr)")
        }
        #expect(try RolloutBinary.run(["fuzz", "--junit-profile", "maven"]).status == 2)
    }

    @Test("planted weaknesses: exit 1, exactly those policy gaps, replay files that reproduce")
    func weaknesses() throws {
        let folder = try PlantedWeaknesses.folder()
        let dir = TestPaths.temporaryDirectory()
        let repro = dir.appendingPathComponent("repro").path
        let result = try RolloutBinary.run(["fuzz", "--dir", folder, "--junit", dir.appendingPathComponent("fuzz.xml").path, "--repro-dir", repro, "--format", "json"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("\"enforcement_gaps\": 0"))
        let json = try JSONValue.parse(result.stdout)
        let found = Set((json["findings"]?.arrayValue ?? []).compactMap { f in
            f["tool"]?.stringValue.flatMap { tool in f["class"]?.stringValue.map { "\(tool)/\($0)" } }
        })
        #expect(found == PlantedWeaknesses.expected)
        let files = try FileManager.default.contentsOfDirectory(atPath: repro).sorted()
        #expect(!files.isEmpty)
        let replay = try RolloutBinary.run(["fuzz", "--dir", folder, "--replay", repro + "/" + files[0]])
        #expect(replay.status == 1 && replay.stdout.hasPrefix("reproduced"))
        let fixed = try RolloutBinary.run(["fuzz", "--dir", TestPaths.exampleFolder, "--replay", repro + "/" + files[0]])
        #expect(fixed.status == 0 && fixed.stdout.hasPrefix("fixed"), "\(fixed.stdout)")
    }

    @Test("bad options are usage errors")
    func usage() throws {
        #expect(try RolloutBinary.run(["fuzz", "--dir", TestPaths.exampleFolder, "--tool", "no.such.tool"]).status == 2)
        #expect(try RolloutBinary.run(["fuzz", "--time", "soon"]).status == 2)
        #expect(try RolloutBinary.run(["fuzz", "--dir", TestPaths.exampleFolder, "--replay", "/nonexistent.json"]).status == 2)
    }
}
