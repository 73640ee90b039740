import ArgumentParser
import Foundation
import RolloutCore
import RolloutMCP

/// Tool calls per second to a Python MCP server over stdio through rollout's client.
struct MCPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "MCP calls per second against a Python server through rollout's client."
    )

    @Option(help: "The server command.")
    var server = "python3 Tests/Fixtures/mcp/tiny_server.py"

    @Option(help: "Sequential calls.")
    var calls = 2_000

    func run() async throws {
        let client = MCPClient(command: ["sh", "-c", "exec " + server], options: .init(callTimeout: 10))
        try await client.start()
        let total = calls
        // Warm up, then time sequential calls, as an agent makes them.
        for i in 0..<50 { _ = try await client.callTool("items.create", arguments: ["data": ["title": .string("warm \(i)")]]) }
        let seconds = try await BenchClock.time {
            for i in 0..<total { _ = try await client.callTool("items.create", arguments: ["data": ["title": .string("item \(i)")], "reason": "benchmark"]) }
        }
        await client.stop()
        print("rollout MCPClient: \(BenchClock.rate(total, seconds)) (\(total) calls in \(BenchClock.format(seconds)), \(String(format: "%.2f", seconds / Double(total) * 1000)) ms per call)")
    }
}
