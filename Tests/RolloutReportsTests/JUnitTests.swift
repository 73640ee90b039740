import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutReports

@Suite("JUnit XML: writer, reader, and real consumers")
struct JUnitTests {
    /// Messages a fuzzer really produces: markup, CDATA terminators, control characters, ANSI colour, non-ASCII.
    static let nastyTexts = [
        "amount <0 & > 10000000 \"quoted\" 'single'",
        "payload contains ]]> and <![CDATA[ x ]]>",
        "control \u{01}\u{02}\u{1B}[31mred\u{1B}[0m bell\u{07} nul\u{00} end",
        "naïve ユニコード Ω ≠ ✓ 😀 \u{FFFE}",
        "multi\nline\r\nwith\ttabs",
    ]

    static func sampleReport(_ text: String) -> JUnitReport {
        let time = Date(timeIntervalSince1970: 1_764_000_000)
        let suite = JUnitSuite(
            name: "orders.update \(text)", timestamp: time, hostname: "ci",
            properties: [JUnitProperty("seed", "42"), JUnitProperty("note", text)],
            cases: [
                JUnitCase(classname: "orders.update", name: "reason", time: 0.0123),
                JUnitCase(classname: "orders.update", name: "fields \(text)", time: 1.5,
                          result: .failure(message: "gap: \(text)", type: "enforcement_gap", body: "details: \(text)\nreplay: reports/fuzz/repro/x.json"),
                          file: "rollout/policy.yaml", line: 12, systemOut: text),
                JUnitCase(classname: "orders.update", name: "errored", result: .error(message: text, type: "target_error", body: text)),
                JUnitCase(classname: "orders.update", name: "skipped", result: .skipped(message: text)),
            ])
        return JUnitReport(name: "rollout fuzz", suites: [suite, JUnitSuite(name: "empty", timestamp: time)])
    }

    @Test("reports with hostile text pass shared/junit/validate.sh in both profiles",
          .enabled(if: JUnitValidation.available, "validate.sh needs xmllint and junitparser (see .ci/run)"),
          arguments: nastyTexts)
    func validates(text: String) throws {
        let dir = TestPaths.temporaryDirectory()
        for (profile, name) in [(JUnitWriter.Profile.strict, "strict"), (.github, "github")] {
            let path = dir.appendingPathComponent("\(name).xml").path
            try JUnitWriter.write(Self.sampleReport(text), to: path, profile: profile)
            let result = try JUnitValidation.validate(path, profile: name)
            #expect(result.status == 0, "\(name): \(result.stdout)\n\(result.stderr)")
        }
    }

    @Test("the surefire profile: one TEST-<suite>.xml per suite, each valid against Maven's surefire 3.0.2 schema",
          .enabled(if: Subprocess.available("xmllint"), "needs xmllint (libxml2-utils)"), arguments: nastyTexts)
    func surefire(text: String) throws {
        let dir = TestPaths.temporaryDirectory().appendingPathComponent("surefire").path
        var report = Self.sampleReport(text)
        report.suites.append(JUnitSuite(name: "tools/list", timestamp: Date(timeIntervalSince1970: 1_764_000_000),
                                        cases: [JUnitCase(classname: "tools/list", name: "undescribed")]))
        try JUnitWriter.write(report, to: dir, profile: .surefire)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.count == 3 && files.allSatisfy { $0.hasPrefix("TEST-") && $0.hasSuffix(".xml") }, "\(files)")
        #expect(files.contains("TEST-tools_list.xml"))
        let schema = TestPaths.shared.appendingPathComponent("junit/surefire-test-report.xsd").path
        for file in files {
            let result = try Subprocess.run(["xmllint", "--noout", "--schema", schema, dir + "/" + file])
            #expect(result.status == 0, "\(file): \(result.stderr)")
            let xml = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            #expect(xml.contains("<testsuite ") && !xml.contains("<testsuites") && !xml.contains("hostname="))
        }
        // What Maven's own readers take back: the same cases, through a reader of this project.
        let back = try JUnitReader.read(path: dir + "/TEST-empty.xml")
        #expect(back.suites.count == 1 && back.suites[0].name == "empty")
        // A second write replaces the folder's reports, never mixes two runs.
        try JUnitWriter.write(JUnitReport(name: "again", suites: [JUnitSuite(name: "only", timestamp: Date())]), to: dir, profile: .surefire)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["TEST-only.xml"])
    }

    @Test("the writer's output reads back to the same cases", arguments: nastyTexts)
    func roundTrip(text: String) throws {
        let report = Self.sampleReport(text)
        let read = try JUnitReader.parse(try JUnitWriter.xml(report, profile: .github))
        #expect(read.suites.count == 2)
        #expect(read.tests == 4 && read.failures == 1 && read.errors == 1 && read.skipped == 1)
        #expect(read.property("seed") == "42")
        let failure = read.suites[0].cases[1]
        #expect(failure.line == 12 && failure.file == "rollout/policy.yaml")
        guard case .failure(let message, let type, let body) = failure.result else {
            Issue.record("expected a failure")
            return
        }
        #expect(type == "enforcement_gap")
        #expect(!message.contains("\n"))
        #expect(body.hasPrefix(message), "the body repeats the message for GitLab")
        #expect(body.contains("replay: reports/fuzz/repro/x.json"))
        // Text survives except what XML 1.0 forbids.
        #expect(read.property("note") == XMLText.clean(text))
    }

    @Test("times have three decimals, never an exponent", arguments: [
        (0.0, "0.000"), (0.0004, "0.000"), (0.0005, "0.001"), (1.5, "1.500"), (1e-9, "0.000"), (123456.789, "123456.789"),
        (-1.0, "0.000"), (Double.nan, "0.000"),
    ])
    func times(seconds: Double, text: String) {
        #expect(JUnitWriter.formatTime(seconds) == text)
    }

    @Test("the reader accepts the shared samples, nested and single-suite ones included",
          .enabled(if: TestPaths.sharedAvailable, "shared/junit/samples is not there"), arguments: ["portable.xml", "github.xml", "single-suite.xml", "rich.xml"])
    func readsSamples(name: String) throws {
        let path = TestPaths.shared.appendingPathComponent("junit/samples/\(name)").path
        try #require(FileManager.default.fileExists(atPath: path), "shared/junit/samples is not there")
        let report = try JUnitReader.read(path: path)
        #expect(report.tests > 0)
        #expect(report.suites.allSatisfy { !$0.name.isEmpty })
    }

    @Test("a report that is not XML is a clear error")
    func notXML() {
        #expect(throws: JUnitReader.ReadError.self) { try JUnitReader.parse(Data("not <xml".utf8)) }
        #expect(throws: JUnitReader.ReadError.self) { try JUnitReader.parse(Data("<html/>".utf8)) }
    }
}
