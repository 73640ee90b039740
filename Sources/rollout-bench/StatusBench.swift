import ArgumentParser
import Foundation
import GRDB
import RolloutCore
import RolloutGate
import RolloutStore

/// How fast `rollout status` answers on a large audit log (target: under 50 ms on 1M events).
struct StatusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Time `rollout status` (the whole process, and the status board alone) on a large store.",
        discussion: """
            Example:
              swift run -c release rollout-bench status --events 1000000
            """
    )

    @Option(help: "Events in the generated store (seven tenants).")
    var events = 1_000_000

    @Option(help: "Use this store instead of generating one (its tenants are read from it).")
    var store: String?

    @Option(help: ArgumentHelp("Keep the generated store and folder here (to look at them afterwards).", valueName: "dir"))
    var keep: String?

    @Option(help: .hidden)
    var measure: String?

    @Option(help: "Runs to take the median of.")
    var repeats = 21

    func run() throws {
        if let measure { return try timeProcess(folder: measure + "/rollout", store: measure + "/audit.sqlite") }
        // With --store the kept directory holds only the folder: a store in it is not the one measured.
        let directory = try keep.map { store == nil ? try BenchProcess.keptDirectory($0) : URL(fileURLWithPath: $0) } ?? BenchProcess.scratchDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        let storePath = store ?? directory.appendingPathComponent("audit.sqlite").path
        let audit = try AuditStore(path: storePath)
        if store == nil {
            let file = directory.appendingPathComponent("events.jsonl").path
            try ImportBench.generate(events, to: file)
            let imported = try audit.importFile(file).imported
            print("store: \(imported) events")
        }
        let count = try audit.count()
        let tenants = try audit.read { sql in try sql.query("SELECT DISTINCT tenant FROM audit_events").map { $0.string(0) } }

        // A rollout folder naming those tenants, with a recorded score and gate verdict each.
        let folder = directory.appendingPathComponent("rollout")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = try StarterFolder.write(to: folder.path, force: true)
        let policy = try RolloutFolder(directory: folder.path).loadPolicy()
        let now = Date()
        let file = TenantsFile(tenants: tenants.map { TenantConfig(id: $0, stage: .soft, since: now.addingTimeInterval(-3 * 86_400)) })
        try TenantsWriter.yaml(file, header: "# bench").write(to: folder.appendingPathComponent("tenants.yaml"), atomically: true, encoding: .utf8)
        for t in tenants {
            try audit.recordScoreRun(ScoreRun(tenant: t, at: now, from: now.addingTimeInterval(-7 * 86_400), until: now, events: 1000, activeDays: 7,
                                              anomalies: 1, lastAnomalyAt: now.addingTimeInterval(-86_400), lastAnomaly: "a rate spike"))
            try audit.recordGateRun(GateRun(tenant: t, at: now, nextStage: "broad", passed: false, summary: "soak: failed — 2.0 of 7 days"))
        }

        // The store at rest, as after any command: the import's write-ahead log folded back into the file.
        try audit.checkpoint()

        let board = try BenchClock.samples(repeats: repeats) {
            _ = try StatusBoard.build(tenants: file, tools: policy.tools.map(\.name), store: audit, now: Date())
        }
        print("status board, \(tenants.count) tenants over \(count) events: median \(BenchClock.format(BenchClock.median(board))), max \(BenchClock.format(board.last!))")

        // The process timing runs in a small child: spawning from this process, which holds the whole import
        // in memory, would time the copy of its page tables, not `rollout status`.
        fflush(nil)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["status", "--measure", directory.path, "--repeats", String(repeats)]
        try child.run()
        child.waitUntilExit()
    }

    func timeProcess(folder: String, store: String) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rollout").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("(no rollout binary beside rollout-bench at \(binary): build it with `swift build -c release --product rollout` to time the whole process)")
            return
        }
        let version = try BenchClock.samples(repeats: repeats) { try BenchProcess.spawn(binary, ["--version"]) }
        let process = try BenchClock.samples(repeats: repeats) { try BenchProcess.spawn(binary, ["status", "--dir", folder, "--store", store]) }
        print("`rollout status` process, start to exit: median \(BenchClock.format(BenchClock.median(process))), max \(BenchClock.format(process.last!)); budget under 30 ms")
        print("  (of which starting any Swift process: `rollout --version` median \(BenchClock.format(BenchClock.median(version))))")
    }
}
