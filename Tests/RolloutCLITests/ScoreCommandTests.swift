import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@Suite("rollout score, end to end")
struct ScoreCommandTests {
    /// Ten days of steady writes as JSON Lines, with a planted duplicate write on the last day when asked.
    static func events(planted: Bool) -> String {
        let start = Timestamp.parse("2026-11-01T00:00:00Z")!
        var lines: [String] = []
        for i in 0..<(10 * 288) {
            let ts = Timestamp.format(start.addingTimeInterval(Double(i) * 300 + 11))
            lines.append(#"{"ts":"\#(ts)","tenant":"acme","actor":"agent-\#(i % 2)","tool":"orders.update","targets":[\#(i % 400)],"row_count":1,"fields_changed":{"status":{"before":"a","after":"s\#(i)"}},"reason":"carrier update from the tracking feed","idempotency_key":"k-\#(i)","decision":"executed","approver":null}"#)
        }
        if planted {
            for (n, key) in ["dup-1", "dup-2"].enumerated() {
                let ts = Timestamp.format(start.addingTimeInterval(9.5 * 86_400 + Double(n) * 60))
                lines.append(#"{"ts":"\#(ts)","tenant":"acme","actor":"agent-1","tool":"orders.update","targets":[7777],"row_count":1,"fields_changed":{"status":{"before":"a","after":"refunded"}},"reason":"customer ticket 8812 asks for it","idempotency_key":"\#(key)","decision":"executed","approver":null}"#)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A new folder with a store into which each of `files` (JSON Lines texts) was imported in turn.
    static func importedStore(_ files: String...) throws -> (dir: URL, store: String) {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("audit.sqlite").path
        for (i, text) in files.enumerated() {
            let file = dir.appendingPathComponent("events-\(i).jsonl").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try RolloutBinary.run(["audit", "import", file, "--store", store]).status == 0)
        }
        return (dir, store)
    }

    /// One line dated `ts`, keyed `key`.
    static func line(_ ts: String, key: String) -> String {
        #"{"ts":"\#(ts)","tenant":"acme","actor":"agent-1","tool":"orders.update","row_count":1,"reason":"carrier update from the tracking feed","idempotency_key":"\#(key)","decision":"executed","approver":null}"#
    }

    @Test("anomalies exit 1 with an explained JUnit failure; a clean week exits 0", arguments: [true, false])
    func score(planted: Bool) throws {
        let (dir, store) = try Self.importedStore(Self.events(planted: planted))
        let junit = dir.appendingPathComponent("score.xml").path
        let result = try RolloutBinary.run(["score", "--store", store, "--until", "2026-11-11T00:00:00Z", "--window", "7d", "--junit", junit,
                                            "--intervals", dir.appendingPathComponent("intervals").path, "--format", "json"])
        #expect(result.status == (planted ? 1 : 0), "\(result.stdout)\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        let anomalies = json["tenants"]?[0]?["anomalies"]?.arrayValue ?? []
        #expect(anomalies.count == (planted ? 1 : 0))
        if planted { #expect(anomalies.first?["signal"] == "duplicate_write") }
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("testsuite name=\"score acme\"") && xml.contains("tests=\"28\""))
        if JUnitValidation.available { #expect(try JUnitValidation.validate(junit).status == 0) }
        let csv = try String(contentsOfFile: dir.appendingPathComponent("intervals/acme.csv").path, encoding: .utf8)
        #expect(csv.hasPrefix("interval_start,score\n2026-11-04 00:00:00,"))
        #expect(csv.split(separator: "\n").count == 1 + 7 * 288)
    }

    @Test("--until last is the latest event by its time: a line imported late, dated years ago, does not move the window off the planted anomaly (helper-77)")
    func lastByTime() throws {
        let (dir, store) = try Self.importedStore(Self.events(planted: true), Self.line("2020-01-01T00:00:00.000Z", key: "old-1"))
        let result = try RolloutBinary.run(["score", "--store", store, "--until", "last", "--window", "7d", "--format", "json",
                                            "--junit", dir.appendingPathComponent("score.xml").path])
        #expect(result.status == 1, "the planted anomaly is in the window: \(result.stdout)\(result.stderr)")
        #expect(try JSONValue.parse(result.stdout)["until"]?.stringValue?.hasPrefix("2026-11-11T00:0") == true, "\(result.stdout)")
    }

    @Test("events dated after this host's time stop a score of now or last (exit 1, nothing scored): they would not be judged (helper-77)",
          arguments: ["now", "last"])
    func futureEvents(_ until: String) throws {
        let (dir, store) = try Self.importedStore(Self.events(planted: false) + Self.line("9999-12-31T00:00:00.000Z", key: "late-1"))
        let result = try RolloutBinary.run(["score", "--store", store, "--until", until, "--junit", dir.appendingPathComponent("score.xml").path])
        #expect(result.status == 1 && result.stderr.contains("after this host's time") && result.stdout.isEmpty, "\(result.stdout)\(result.stderr)")
        // A window that ends at a given time is scored.
        #expect(try RolloutBinary.run(["score", "--store", store, "--until", "2026-11-11T00:00:00Z", "--junit", dir.appendingPathComponent("score.xml").path]).status == 0)
    }

    @Test("bad options are usage errors; a missing store is bad input")
    func usage() throws {
        #expect(try RolloutBinary.run(["score", "--window", "forever"]).status == 2)
        #expect(try RolloutBinary.run(["score", "--until", "yesterday"]).status == 2)
        #expect(try RolloutBinary.run(["score", "--store", "/nonexistent/audit.sqlite"]).status == 2)
    }
}
