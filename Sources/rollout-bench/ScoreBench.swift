import ArgumentParser
import Foundation
import RolloutAnomaly
import RolloutCore
import RolloutStore

/// Scoring speed and memory on a large audit log (budget: 1.3M events in under 1 s, at least twice as
/// fast as PyOD ECOD on the same stream).
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

    @Option(help: "The Python that runs the peer (PyOD ECOD through shared/anomaly/baseline.py); default $NAB_VENV/bin/python or /tmp/nab-venv/bin/python.")
    var peerPython: String?

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
        print("  " + peer(seconds: seconds))
    }

    /// PyOD ECOD on the same stream, through the shared baseline (event timestamps → 5-minute counts →
    /// ECOD), timed by the baseline itself: the peer the scoring budget names.
    func peer(seconds: Double) -> String {
        guard let file else { return "peer: skipped (PyOD ECOD needs a convert_nab.py stream: give --file)" }
        let shared = ProcessInfo.processInfo.environment["ROLLOUT_SHARED"] ?? "../shared"
        let baseline = shared + "/anomaly/baseline.py"
        let venv = ProcessInfo.processInfo.environment["NAB_VENV"] ?? "/tmp/nab-venv"
        let python = peerPython ?? venv + "/bin/python"
        guard FileManager.default.fileExists(atPath: baseline), FileManager.default.isExecutableFile(atPath: python) else {
            return "peer: skipped (no \(python) or no \(baseline); Benchmarks/anomaly.sh makes the venv)"
        }
        guard let output = try? BenchProcess.captureAt(python, [baseline, "--streams", file, "--detectors", "pyod_ecod"]),
              let line = output.split(separator: "\n").first(where: { $0.hasPrefix("pyod_ecod") }),
              let detector = line.split(separator: " ").first(where: { $0.hasPrefix("t=") }).flatMap({ Double($0.dropFirst(2).dropLast()) }),
              let summary = output.split(separator: "\n").last.flatMap({ try? JSONValue.parse(String($0)) }),
              let ingest = summary["ingest_s"]?.doubleValue
        else { return "peer: PyOD ECOD did not run (is pyod installed in \(python)?)" }
        let total = detector + ingest
        return String(format: "peer, same stream: PyOD ECOD %.2f s (reading %.2f s + detector %.2f s); rollout takes %.2f× its time (budget: at most 0.5×, i.e. twice as fast)",
                      total, ingest, detector, seconds / total)
    }

    /// Peak resident set size of this process, in KiB.
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
