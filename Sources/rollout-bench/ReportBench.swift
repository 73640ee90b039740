import ArgumentParser
import Foundation
import RolloutCore
import RolloutStore

/// The compliance report on a month of a large audit log: time of the whole `rollout report` process
/// and the size of each file it writes.
struct ReportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Time and output size of `rollout report` for a month of calls.",
        discussion: """
            Example:
              swift build -c release --product rollout && swift run -c release rollout-bench report --events 1000000
            """
    )

    @Option(help: "Calls in the month (seven tenants).")
    var events = 1_000_000

    @Option(help: ArgumentHelp("Keep the generated store, folder and reports here (to profile `rollout report` on them afterwards).", valueName: "dir"))
    var keep: String?

    func run() throws {
        let directory = try keep.map(BenchProcess.keptDirectory) ?? BenchProcess.scratchDirectory()
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        let binary = try BenchProcess.rolloutBinary()
        let file = directory.appendingPathComponent("events.jsonl").path
        let spacing = 30 * 86_400 / Double(events)
        try ImportBench.generate(events, to: file, spacing: spacing)
        let storePath = directory.appendingPathComponent("audit.sqlite").path
        let store = try AuditStore(path: storePath)
        let imported = try store.importFile(file).imported
        try store.checkpoint()
        let first = try store.event(seq: 1)!.ts
        let from = Timestamp.day(first), to = Timestamp.day(first.addingTimeInterval(31 * 86_400))
        print("store: \(imported) calls over 30 days (\(from) to \(to)), \(ByteCountFormatter.string(fromByteCount: Int64(try size(storePath)), countStyle: .file))")

        let folder = directory.appendingPathComponent("rollout").path
        _ = try StarterFolder.write(to: folder, force: true)
        // The import leaves hundreds of megabytes for the kernel to write back: settle that first, then
        // time three alternating rounds and report the median (and every round).
        sync()
        let variants: [(label: String, extra: [String])] = [("with anomaly scoring", []), ("without anomaly scoring", ["--no-anomalies"])]
        var times = variants.map { _ in [Double]() }
        var sizes = variants.map { _ in [String]() }
        for _ in 0..<3 {
            for (v, variant) in variants.enumerated() {
                let out = directory.appendingPathComponent("out-\(v)").path
                try? FileManager.default.removeItem(atPath: out)
                times[v].append(try BenchClock.time {
                    try BenchProcess.spawn(binary, ["report", "--dir", folder, "--store", storePath, "--from", from, "--to", to, "--out", out] + variant.extra,
                                          quiet: true)
                })
                let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
                sizes[v] = try files.map { "\($0) \(ByteCountFormatter.string(fromByteCount: Int64(try size(out + "/" + $0)), countStyle: .file))" }
            }
        }
        for (v, variant) in variants.enumerated() {
            let median = times[v].sorted()[1]
            print("rollout report, \(variant.label): \(BenchClock.format(median)) median of \(times[v].map(BenchClock.format).joined(separator: ", ")) "
                + "(\(BenchClock.rate(imported, median))); \(sizes[v].joined(separator: ", ")); budget 8 s for 1M")
        }
    }

    func size(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }
}
