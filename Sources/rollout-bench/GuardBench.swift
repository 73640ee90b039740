import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// Guard decisions per second, in memory and with the audit write to SQLite, on a realistic mix.
struct GuardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Guard decisions per second: in memory, and with the audit write (targets 100k/s and 20k/s)."
    )

    @Option(help: "The rollout folder whose policy is used (caps are lifted so most calls execute).")
    var dir = "rollout"

    @Option(help: "Decisions in memory.")
    var memoryCalls = 300_000

    @Option(help: "Decisions with the SQLite audit write.")
    var storeCalls = 60_000

    @Option(help: "Calls in flight at once for the second audit-write run (as many agents, or one agent's pipelined calls); their decisions share commits.")
    var concurrency = 64

    @Option(help: "The audit-write runs' durability (SQLite's synchronous setting), comma-separated: normal, full. FULL syncs the log at every commit, so its one-in-flight runs take about as many fsyncs as decisions.")
    var durability = "normal,full"

    /// `durability`, read.
    var durabilities: [StoreDurability] {
        get throws {
            let words = durability.split(separator: ",", omittingEmptySubsequences: false)
            return try words.map { word in
                do { return try StoreDurability.parse(String(word)) } catch { throw ValidationError("--durability \(durability): '\(word)' is neither normal nor full") }
            }
        }
    }

    func run() async throws {
        var policy = try RolloutFolder(directory: dir).loadPolicy()
        // The workload is orders.update calls: against a policy without that tool every call would be a
        // quick tool_unknown refusal, and the figures would measure refusals.
        guard let tool = policy.tools.first(where: { $0.name == "orders.update" }), let model = policy.model(named: tool.model),
              let field = tool.writable.first else {
            throw ValidationError("the guard bench's workload calls orders.update, which the policy of \(dir) does not describe with a model and writable fields; use the example folder (--dir rollout)")
        }
        for i in policy.tools.indices {
            policy.tools[i].cap = nil
            policy.tools[i].actorCap = nil
        }
        let durabilities = try durabilities
        let calls = Self.workload(count: max(memoryCalls, storeCalls))
        let principal = Principal(tenant: "acme", actor: "agent-1")

        let memory = InMemoryEnvironment()
        try memory.seed(policy: policy, tenants: ["acme", "globex"], rowsPerTenant: 200)
        let memoryGuard = Guard(policy: policy, stages: FixedStages(.broad), environment: memory)
        var codes: [DecisionCode: Int] = [:]
        let memorySeconds = try await BenchClock.time {
            for call in calls.prefix(memoryCalls) { codes[try await memoryGuard.decide(call, principal: principal).code, default: 0] += 1 }
        }
        print("guard in memory: \(BenchClock.rate(memoryCalls, memorySeconds)) (\(memoryCalls) decisions in \(BenchClock.format(memorySeconds)); target 100k/s)")
        print("  mix: " + codes.sorted { $0.value > $1.value }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))

        for durability in durabilities {
            try await storeRuns(durability, policy: policy, model: model, field: field, calls: Array(calls.prefix(storeCalls)), principal: principal)
        }
    }

    /// The audit-write runs at one `durability`: 1 call in flight, then `concurrency`, each beside SQLite
    /// alone writing the same rows at the same durability.
    func storeRuns(_ durability: StoreDurability, policy: Policy, model: ModelPolicy, field: String, calls work: [ToolCall], principal: Principal) async throws {
        let setting = "SQLite WAL, synchronous=\(durability.rawValue.uppercased())"
        // Decisions per second of SQLite alone writing the rows of the first run, by decisions per transaction.
        var floorRates: [Int: Double] = [:]
        for agents in [1, concurrency] {
            let store = try AuditStore.temporary(durability: durability)
            defer { Self.remove(store: store.path) }
            let environment = try DemoEnvironment(store: store, policy: policy, seedTenants: ["acme", "globex"], rowsPerTenant: 200)
            let startSeq = try store.head().seq
            let storeGuard = Guard(policy: policy, stages: FixedStages(.broad), environment: environment)
            let next = Counter()
            let storeSeconds = try await BenchClock.time {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<agents {
                        group.addTask {
                            while let i = next.take(below: work.count) { _ = try await storeGuard.decide(work[i], principal: principal) }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let groups = store.groupCommitStatistics
            let mean = groups.groups == 0 ? 0 : Double(groups.writes) / Double(groups.groups)
            print("guard with the audit write committed (\(setting)), \(agents) call\(agents == 1 ? "" : "s") in flight: \(BenchClock.rate(work.count, storeSeconds)) (\(work.count) decisions in \(BenchClock.format(storeSeconds)); \(String(format: "%.1f", mean)) decisions per commit, largest \(groups.largest); target 20k/s)")
            let check = try store.verify()
            print("  \(check.checked) audit events, chain ok: \(check.ok)")
            if let floor = floorRates[min(agents, 64)] {
                print(String(format: "  its rate is %.0f%% of SQLite alone writing the same rows, %d per transaction", 100 * Double(work.count) / storeSeconds / floor, min(agents, 64)))
            }
            if agents == 1 {
                floorRates = try measureFloor(of: store, after: startSeq, policy: policy, durability: durability, table: DemoDomain.tableName(model), keyColumn: model.key, field: field)
            }
            if agents == 1, let floor = floorRates[1] {
                print(String(format: "  its rate is %.0f%% of SQLite alone writing the same rows, 1 per transaction", 100 * Double(work.count) / storeSeconds / floor))
            }
        }
    }

    /// SQLite alone writing the rows the guard just wrote (`WriteFloor`), 1 and 64 decisions per
    /// transaction, into a store seeded as the guard's was; the replay must leave the same chain.
    /// Returns decisions per second by decisions per transaction.
    /// `table`, `keyColumn` and `field` name the built-in rows the workload updates (see `WriteFloor`).
    func measureFloor(of store: AuditStore, after startSeq: Int64, policy: Policy, durability: StoreDurability, table: String, keyColumn: String,
                      field: String) throws -> [Int: Double] {
        let floor = try WriteFloor(from: store, afterSeq: startSeq, table: table, keyColumn: keyColumn, field: field)
        var rates: [Int: Double] = [:]
        for group in [1, 64] {
            let replayed = try AuditStore.temporary(durability: durability)
            defer { Self.remove(store: replayed.path) }
            _ = try DemoEnvironment(store: replayed, policy: policy, seedTenants: ["acme", "globex"], rowsPerTenant: 200)
            let seconds = try floor.replay(into: replayed, group: group)
            let check = try replayed.verify()
            guard check.ok, check.checked == floor.decisions.count else {
                throw BenchFailure("the replay of the guard's rows did not leave the same chain (\(check.checked) events checked)")
            }
            rates[group] = Double(floor.decisions.count) / seconds
            print("  peer: SQLite alone writing the same rows (\(floor.decisions.count) decisions), \(group) per transaction: \(BenchClock.rate(floor.decisions.count, seconds)); same chain: yes")
        }
        return rates
    }

    /// Removes a temporary store with its write-ahead log and shared-memory index (about 7 MB a run each).
    static func remove(store path: String) {
        for file in [path, path + "-wal", path + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Hands out indexes to the concurrent callers.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0

        func take(below limit: Int) -> Int? {
            lock.withLock {
                guard next < limit else { return nil }
                defer { next += 1 }
                return next
            }
        }
    }

    /// 70% valid updates with fresh keys, 10% replays, 20% refusals of several kinds.
    static func workload(count: Int) -> [ToolCall] {
        var calls: [ToolCall] = []
        calls.reserveCapacity(count)
        let statuses: [JSONValue] = ["pending", "paid", "shipped", "cancelled"]
        for i in 0..<count {
            let row = JSONValue.number(Double(1 + i % 200))
            let base: [String: JSONValue] = [
                "id": row, "data": ["status": statuses[i % 4], "notes": .string("note \(i)")],
                "reason": "carrier update from the tracking feed", "idempotency_key": .string("k-\(i)"),
            ]
            var args = base
            switch i % 10 {
            case 7: args["idempotency_key"] = .string("k-\(i - 1)"); args["data"] = ["status": statuses[(i - 1) % 4], "notes": .string("note \(i - 1)")]
                args["id"] = .number(Double(1 + (i - 1) % 200))
            case 8: args["reason"] = "n/a"
            case 9: args["id"] = .number(Double(201 + i % 200))  // globex's rows
            default: break
            }
            calls.append(ToolCall(tool: "orders.update", arguments: .object(args)))
        }
        return calls
    }
}
