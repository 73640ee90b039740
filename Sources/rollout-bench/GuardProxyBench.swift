import ArgumentParser
import Foundation
import RolloutCore
import RolloutMCP

/// The guard proxy's overhead: write calls per second to a trivial MCP server directly and through
/// `rollout guard` in the same run, and the latency each call gains (p50, p99). The tail (p99.9, max)
/// is printed too: a stall once in hundreds of calls (a checkpoint in a commit) shows there first.
struct GuardProxyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard-proxy",
        abstract: "Calls per second to a trivial MCP upstream with and without `rollout guard` in front, and the added latency.",
        discussion: """
            Example (the guard is the release `rollout` beside rollout-bench):
              swift build -c release --product rollout && swift run -c release rollout-bench guard-proxy
            """
    )

    @Option(help: "The upstream server command.")
    var server = "python3 Tests/Fixtures/mcp/tiny_server.py"

    @Option(help: "The rollout folder whose policy the guard enforces (its tool items.create).")
    var dir = "Tests/Fixtures/mcp/policy"

    @Option(help: "Sequential calls per run.")
    var calls = 2_000

    /// Untimed calls made first through each path.
    static let warmUp = 50

    func run() async throws {
        // Every timed call must be a write the guard lets through: a cap that would refuse the last ones
        // is said before the runs, not after them.
        let policy = try RolloutFolder(directory: dir).loadPolicy()
        guard let tool = policy.tools.first(where: { $0.name == "items.create" }) else {
            throw ValidationError("the guard-proxy bench calls items.create, which the policy of \(dir) does not describe")
        }
        for cap in [tool.cap, tool.actorCap].compactMap({ $0 }) where cap.max < calls + Self.warmUp {
            let most = cap.max > Self.warmUp ? "give at most \(cap.max - Self.warmUp) calls" : "the cap leaves no room for timed calls"
            throw ValidationError("--calls \(calls) and \(Self.warmUp) warm-up calls exceed items.create's cap of \(cap) in \(dir); \(most), or give a --dir whose cap is higher")
        }
        let binary = try BenchProcess.rolloutBinary()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let guarded = "exec \(binary) guard --dir \(dir) --store \(work)/guard.sqlite --tenant acme --actor bench -- \(server)"

        let direct = try await measure(["sh", "-c", "exec " + server])
        let behind = try await measure(["sh", "-c", guarded])
        func line(_ name: String, _ samples: [Double]) -> String {
            let total = samples.reduce(0, +)
            return "\(name): \(BenchClock.rate(samples.count, total)); p50 \(ms(percentile(samples, 0.5))), p99 \(ms(percentile(samples, 0.99))), "
                + "p99.9 \(ms(percentile(samples, 0.999))), max \(ms(samples.max() ?? 0))"
        }
        print(line("direct to the upstream", direct))
        print(line("through rollout guard (each call audited)", behind))
        print("added latency per call: p50 \(ms(percentile(behind, 0.5) - percentile(direct, 0.5))), p99 \(ms(percentile(behind, 0.99) - percentile(direct, 0.99))); budget p99 under 1 ms")
    }

    /// Per-call seconds of `calls` sequential writes, each with a fresh idempotency key and a real reason.
    func measure(_ command: [String]) async throws -> [Double] {
        let client = MCPClient(command: command, options: .init(callTimeout: 10))
        try await client.start()
        let total = calls
        func args(_ i: Int, _ tag: String) -> JSONValue {
            ["data": ["title": .string("item \(i)")], "reason": .string("benchmark write number \(i)"), "idempotency_key": .string("\(tag)-\(i)")]
        }
        for i in 0..<Self.warmUp {
            let r = try await client.callTool("items.create", arguments: args(i, "warm"))
            if r.isError { throw BenchFailure("the warm-up call was refused: \(r.text)") }
        }
        var samples: [Double] = []
        samples.reserveCapacity(total)
        var refused = 0
        for i in 0..<total {
            let start = DispatchTime.now().uptimeNanoseconds
            let r = try await client.callTool("items.create", arguments: args(i, "call"))
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            if r.isError { refused += 1 }
        }
        await client.stop()
        // A refusal is cheaper than a forwarded write: a run with refusals would flatter the guard.
        if refused > 0 { throw BenchFailure("\(refused) of \(total) timed calls were refused; the fixture's caps must not refuse them") }
        return samples
    }

    func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }
}
