import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutPostgres
import RolloutStore

/// The store on PostgreSQL beside SQLite, in one run: guard decisions per second with the audit write
/// (SQLite with one writer; PostgreSQL with one writer and with four writer processes on one database,
/// as four guard hosts), and audit import events per second (PostgreSQL through COPY).
struct PostgresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Decisions/s on PostgreSQL with 1 and 4 writers beside SQLite with 1, and import events/s (goals: 5k/s with 4 writers, import 100k/s).",
        discussion: """
            Needs a PostgreSQL server that lets the user create databases (each run makes fresh ones).
            Example:
              eval "$(.ci/postgres start)"
              swift run -c release rollout-bench postgres --url "$ROLLOUT_TEST_POSTGRES"
            """
    )

    @Option(help: "The server (default: $ROLLOUT_TEST_POSTGRES).")
    var url: String?

    @Option(help: "Decisions per writer.")
    var calls = 5_000

    @Option(help: "Events to import.")
    var events = 200_000

    @Option(help: "Calls in flight at once in each writer for the second round (as many agents on one host); their decisions share commits.")
    var concurrency = 16

    @Option(help: "The rollout folder whose policy is used (caps lifted).")
    var dir = "rollout"

    func run() async throws {
        PostgresEngine.register()
        guard let server = url ?? ProcessInfo.processInfo.environment["ROLLOUT_TEST_POSTGRES"] else {
            throw ValidationError("give --url postgres://... or set ROLLOUT_TEST_POSTGRES")
        }
        let base = try PostgresLocation.parse(server)
        func freshDatabase(_ label: String) throws -> String {
            let name = "rollout_bench_\(label)_" + UUID().uuidString.prefix(8).lowercased()
            try PostgresAdmin.createDatabase(name, at: base)
            return "postgres://\(base.user)\(base.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")@\(base.host):\(base.port)/\(name)?sslmode=\(base.sslMode.rawValue)"
        }

        // Decisions, one writer on each engine; one call at a time, then `concurrency` in flight.
        for inFlight in [1, concurrency] {
            let calls = inFlight == 1 ? calls : calls * 2
            let label = inFlight == 1 ? "1 call at a time" : "\(inFlight) calls in flight"
            let sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) } }
            let sqlite = try await Self.writer(store: sqlitePath, dir: dir, calls: calls, prefix: "s", concurrency: inFlight)
            print("SQLite, 1 writer, \(label): \(BenchClock.rate(calls, Double(calls) / sqlite.rate)) decisions with the audit write (\(sqlite.perCommit))")
            let pg = try await Self.writer(store: try freshDatabase("one"), dir: dir, calls: calls, prefix: "p", concurrency: inFlight)
            print("PostgreSQL, 1 writer, \(label): \(BenchClock.rate(calls, Double(calls) / pg.rate)) (\(pg.perCommit))")

            // Four writer processes on one database, as four guard hosts.
            let four = try freshDatabase("four")
            _ = try AuditStore(path: four)  // migrated once before the writers start
            let binary = CommandLine.arguments[0]
            var processes: [Process] = []
            let started = DispatchTime.now()
            for i in 0..<4 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = ["postgres-writer", "--store", four, "--dir", dir, "--calls", String(calls), "--prefix", "w\(i)",
                                     "--concurrency", String(inFlight)]
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                processes.append(process)
            }
            for process in processes { process.waitUntilExit() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            guard processes.allSatisfy({ $0.terminationStatus == 0 }) else { throw BenchFailure("a writer failed") }
            let check = try AuditStore(path: four).verify()
            print("PostgreSQL, 4 writers, \(label) each: \(BenchClock.rate(4 * calls, seconds)) in total (\(4 * calls) decisions in \(BenchClock.format(seconds)); goal 5k/s); chain of \(check.checked) events ok: \(check.ok)")
        }

        // Import: the same file into a new SQLite file and a new database.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bench-events-\(UUID().uuidString).jsonl").path
        try ImportBench.generate(events, to: file)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let sqliteStore = try AuditStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("bench-import-\(UUID().uuidString).sqlite").path)
        let sqliteImport = try BenchClock.time { _ = try sqliteStore.importFile(file) }
        print("import into SQLite:    \(BenchClock.rate(events, sqliteImport))")
        let pgStore = try AuditStore(path: try freshDatabase("import"))
        let pgImport = try BenchClock.time { _ = try pgStore.importFile(file) }
        print("import into PostgreSQL (COPY): \(BenchClock.rate(events, pgImport)) (goal 100k/s); chain ok: \(try pgStore.verify().ok)")
    }

    /// Decisions per second of one guard writing to `store`, with `concurrency` calls in flight, and
    /// how many decisions shared each commit.
    static func writer(store location: String, dir: String, calls: Int, prefix: String, concurrency: Int) async throws -> (rate: Double, perCommit: String) {
        var policy = try RolloutFolder(directory: dir).loadPolicy()
        for i in policy.tools.indices {
            policy.tools[i].cap = nil
            policy.tools[i].actorCap = nil
        }
        let store = try AuditStore(path: location)
        let environment = try DemoEnvironment(store: store, policy: policy, seedTenants: ["acme", "globex"], rowsPerTenant: 200)
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
        let principal = Principal(tenant: "acme", actor: "agent-\(prefix)")
        let workload = GuardBench.workload(count: calls).map { call -> ToolCall in
            var call = call
            if let key = call.arguments["idempotency_key"]?.stringValue {
                call.arguments = JSONPointer(tokens: ["idempotency_key"]).setting(.string(prefix + key), in: call.arguments)
            }
            return call
        }
        let next = GuardBench.Counter()
        let seconds = try await BenchClock.time {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, concurrency) {
                    group.addTask {
                        while let i = next.take(below: workload.count) { _ = try await guard_.decide(workload[i], principal: principal) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let groups = store.groupCommitStatistics
        let mean = groups.groups == 0 ? 0 : Double(groups.writes) / Double(groups.groups)
        return (Double(calls) / seconds, String(format: "%.1f decisions per commit, largest %d", mean, groups.largest))
    }
}

/// One writer of `rollout-bench postgres`, in its own process (a guard host).
struct PostgresWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "postgres-writer", abstract: "One writer process of the postgres benchmark.", shouldDisplay: false)

    @Option var store: String
    @Option var dir = "rollout"
    @Option var calls = 5_000
    @Option var prefix = "w"
    @Option var concurrency = 1

    func run() async throws {
        PostgresEngine.register()
        let result = try await PostgresBench.writer(store: store, dir: dir, calls: calls, prefix: prefix, concurrency: concurrency)
        print(result.rate)
    }
}
