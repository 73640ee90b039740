import ArgumentParser
import Foundation
import RolloutAnomaly
import RolloutCore
import RolloutStore

/// Scoring speed and memory on a large audit log (target: 1.3M events in under 2 s).
struct ScoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Events per second scoring an imported audit log, and peak memory.",
        discussion: """
            Example (Benchmarks/anomaly.sh makes the stream from NAB's AAPL series at 1.3M events):
              swift run -c release rollout-bench score --file /tmp/streams/AAPL-1.3M.jsonl.gz
            """
    )

    @Option(help: "A JSON Lines stream to import and score (e.g. from shared/anomaly/convert_nab.py).")
    var file: String?

    @Option(help: "Without --file: events to generate.")
    var events = 1_300_000

    func run() throws {
        let directory = try BenchProcess.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = file ?? directory.appendingPathComponent("events.jsonl").path
        if file == nil { try ImportBench.generate(events, to: path) }
        let store = try AuditStore(path: directory.appendingPathComponent("audit.sqlite").path)
        var imported = 0
        let importSeconds = try BenchClock.time { imported = try store.importFile(path).imported }
        print("imported \(imported) events in \(BenchClock.format(importSeconds)) (\(BenchClock.rate(imported, importSeconds)))")
        // As `rollout score` finds a store after `rollout audit import` has ended (its last connection folds the WAL in).
        try store.checkpoint()

        let last = try store.lastEvents(1).first!.ts
        let first = try store.event(seq: 1)!.ts
        let window = TimeSpan(seconds: Int(last.timeIntervalSince(first)) + 600)
        let options = ScoreOptions(until: last.addingTimeInterval(300), window: window, history: TimeSpan(seconds: 1))
        var scores: [TenantScore] = []
        let rssBefore = Self.peakRSS()
        let seconds = try BenchClock.time { scores = try AnomalyScorer.score(store, options: options) }
        let anomalies = scores.reduce(0) { $0 + $1.anomalies.count }
        print("scored \(imported) events (\(scores.count) tenants, whole span) in \(BenchClock.format(seconds)): \(BenchClock.rate(imported, seconds)); budget 1.3M in under 1 s")
        print("  \(anomalies) anomalies; peak resident memory \(Self.peakRSS() / 1024) MiB (before scoring \(rssBefore / 1024) MiB)")
    }

    /// Peak resident set size of this process, in KiB.
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
