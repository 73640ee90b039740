import ArgumentParser
import Foundation
import RolloutCore
import RolloutMCP

/// Tool calls per second to a trivial Python MCP server over stdio, through rollout's blocking
/// transport and through the SDK's polling one, in the same run.
struct MCPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "MCP calls per second against a trivial Python server: rollout's transport vs the SDK's."
    )

    @Option(help: "The server command.")
    var server = "python3 Tests/Fixtures/mcp/tiny_server.py"

    @Option(help: "Sequential calls per transport.")
    var calls = 2_000

    func run() throws {
        for kind in [MCPConnection.TransportKind.blocking, .sdk] {
            let connection = MCPConnection(command: ["sh", "-c", "exec " + server], options: .init(callTimeout: 10, transport: kind))
            try blockingAwait { try await connection.start() }
            let total = calls
            let seconds = try blockingAwait { () async throws -> Double in
                // Warm up, then time sequential calls, as an agent makes them.
                for i in 0..<50 { _ = try await connection.callTool("items.create", arguments: ["data": ["title": .string("warm \(i)")]]) }
                let start = DispatchTime.now()
                for i in 0..<total { _ = try await connection.callTool("items.create", arguments: ["data": ["title": .string("item \(i)")], "reason": "benchmark"]) }
                return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            }
            _ = try blockingAwait { await connection.stop() }
            let name = kind == .blocking ? "rollout LineTransport (blocking reader)" : "MCP SDK StdioTransport (10 ms polling)"
            print("\(name): \(BenchClock.rate(total, seconds)) (\(total) calls in \(BenchClock.format(seconds)), \(String(format: "%.2f", seconds / Double(total) * 1000)) ms per call)")
        }
    }
}
