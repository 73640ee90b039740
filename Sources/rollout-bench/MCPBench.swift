import ArgumentParser
import Foundation
import RolloutCore

/// rollout's fuzzer against a real MCP server, beside the server's own ceiling and a peer fuzzer, in one
/// run: `rollout fuzz --mcp` on the tau2 retail server; a bare client replaying exactly the calls rollout
/// sent (no SDK, no checks: what the server can take); and mcp-fuzzer 0.7.0 (PyPI) on the same server.
/// Every process talks to the server through `tee`, so calls are counted on the wire, not taken from
/// anyone's summary.
struct MCPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "rollout fuzz calls per second on a real MCP server, beside the server's ceiling and mcp-fuzzer 0.7.0.",
        discussion: """
            Needs the release `rollout` beside rollout-bench, the server (../shared/targets/tau2-retail/setup.sh),
            and for the peer, mcp-fuzzer 0.7.0 in a venv:
              python3 -m venv ~/.cache/rollout-targets/mcp-fuzzer/venv
              ~/.cache/rollout-targets/mcp-fuzzer/venv/bin/pip install mcp-fuzzer==0.7.0
            Example:
              swift build -c release --product rollout && swift run -c release rollout-bench mcp
            Goals: rollout at least half the server's ceiling, and at least twice mcp-fuzzer's calls per second.
            """
    )

    @Option(help: "The MCP server command.")
    var server = "bash ../shared/targets/tau2-retail/serve.sh"

    @Option(help: "The rollout folder whose policy is fuzzed.")
    var dir = "rollout/examples/tau2-retail"

    @Option(help: "Arguments for rollout fuzz that say whom the server acts for.")
    var fuzzArguments = "--tenant retail --other-tenant none --subject olivia_ito_3591 --other-subject raj_sanchez_2970"

    @Option(help: "The mcp-fuzzer executable (default: its venv under ~/.cache/rollout-targets).")
    var mcpFuzzer: String?

    @Option(help: "mcp-fuzzer's --runs (per tool).")
    var fuzzerRuns = 100

    @Option(help: "The bare replay client.")
    var replayScript = "Benchmarks/mcp_replay.py"

    func run() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rollout").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchFailure("no rollout binary beside rollout-bench at \(binary): swift build -c release --product rollout")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-bench-mcp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        func tapped(_ log: String) -> String { "sh -c 'tee -a \(log) | exec \(server)'" }

        // 1. rollout fuzz, every call through tee.
        let rolloutLog = work + "/rollout.jsonl"
        var args = ["fuzz", "--dir", dir, "--mcp", tapped(rolloutLog), "--format", "json", "--junit", work + "/fuzz.xml", "--repro-dir", work + "/repro"]
        args += fuzzArguments.split(separator: " ").map(String.init)
        var started = DispatchTime.now()
        let status = try BenchProcess.run(binary, args, stdout: work + "/fuzz.json", stderr: work + "/fuzz.err")
        let rolloutSeconds = elapsed(since: started)
        guard status == 0 || status == 1 else {
            throw BenchFailure("rollout fuzz failed (exit \(status)): \((try? String(contentsOfFile: work + "/fuzz.err", encoding: .utf8)) ?? "")")
        }
        let rolloutCalls = try Self.toolCalls(in: rolloutLog)
        let summary = try JSONValue.parse(String(contentsOfFile: work + "/fuzz.json", encoding: .utf8))
        print("rollout fuzz:        \(rate(rolloutCalls, rolloutSeconds)) (\(rolloutCalls) calls on the wire in \(BenchClock.format(rolloutSeconds)), "
            + "the summary says \(summary["calls"]?.intValue ?? -1); \(summary["enforcement_gaps"]?.intValue ?? 0) enforcement gaps, "
            + "\(summary["server_starts"]?.intValue ?? 0) server starts)")

        // 2. The server's ceiling: the same calls, replayed by a bare client on one connection.
        let replay = work + "/replay.json"
        let serverWords = ["sh", "-c", "exec \(server)"]
        guard try BenchProcess.run("python3", [replayScript, rolloutLog, "--"] + serverWords, stdout: replay, stderr: work + "/replay.err") == 0 else {
            throw BenchFailure("the replay client failed: \((try? String(contentsOfFile: work + "/replay.err", encoding: .utf8)) ?? "")")
        }
        let ceiling = try JSONValue.parse(String(contentsOfFile: replay, encoding: .utf8))
        let ceilingCalls = ceiling["calls"]?.intValue ?? 0, ceilingSeconds = ceiling["seconds"]?.doubleValue ?? 1
        print("server ceiling:      \(rate(ceilingCalls, ceilingSeconds)) (the same \(ceilingCalls) calls from a bare client in \(BenchClock.format(ceilingSeconds)))")
        let ofCeiling = (Double(rolloutCalls) / rolloutSeconds) / (Double(ceilingCalls) / ceilingSeconds)
        print(String(format: "rollout / ceiling:   %.2f (goal: at least 0.5)", ofCeiling))

        // 3. mcp-fuzzer 0.7.0 on the same server.
        let fuzzer = mcpFuzzer ?? Self.defaultFuzzer
        guard FileManager.default.isExecutableFile(atPath: fuzzer) else {
            print("mcp-fuzzer:          not installed at \(fuzzer) (see --help); skipped")
            return
        }
        let peerLog = work + "/peer.jsonl"
        started = DispatchTime.now()
        let peerStatus = try BenchProcess.run(fuzzer, ["--mode", "tools", "--protocol", "stdio", "--endpoint", tapped(peerLog), "--runs", String(fuzzerRuns),
                                                       "--no-safety", "--output-dir", work + "/peer"], stdout: work + "/peer.out", stderr: work + "/peer.err")
        let peerSeconds = elapsed(since: started)
        let peerCalls = try Self.toolCalls(in: peerLog)
        print("mcp-fuzzer 0.7.0:    \(rate(peerCalls, peerSeconds)) (\(peerCalls) calls on the wire in \(BenchClock.format(peerSeconds)), exit \(peerStatus))")
        let ratio = (Double(rolloutCalls) / rolloutSeconds) / (Double(peerCalls) / peerSeconds)
        print(String(format: "rollout / mcp-fuzzer: %.2f (goal: at least 2)", ratio))
        // What bounds the peer: its own calls from the bare client.
        if try BenchProcess.run("python3", [replayScript, peerLog, "--"] + serverWords, stdout: replay, stderr: work + "/replay.err") == 0,
           let peerCeiling = try? JSONValue.parse(String(contentsOfFile: replay, encoding: .utf8)),
           let calls = peerCeiling["calls"]?.intValue, let seconds = peerCeiling["seconds"]?.doubleValue, calls > 0 {
            let share = (Double(peerCalls) / peerSeconds) / (Double(calls) / seconds)
            print("mcp-fuzzer's calls:  \(rate(calls, seconds)) from the bare client; mcp-fuzzer runs at \(String(format: "%.2f", share)) of that ceiling")
        }
    }

    static var defaultFuzzer: String {
        let env = ProcessInfo.processInfo.environment
        let root = env["ROLLOUT_TARGETS_CACHE"] ?? (env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/rollout-targets"
        return root + "/mcp-fuzzer/venv/bin/mcp-fuzzer"
    }

    /// The tools/call requests in a captured session.
    static func toolCalls(in path: String) throws -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { line in
            (try? JSONValue.parse(String(line)))?["method"]?.stringValue == "tools/call"
        }.count
    }

    func elapsed(since start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    func rate(_ calls: Int, _ seconds: Double) -> String { BenchClock.rate(calls, seconds) }
}
