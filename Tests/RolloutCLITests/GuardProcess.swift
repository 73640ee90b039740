import Foundation
import RolloutCore
import RolloutTestSupport

/// A `rollout guard` process in front of the tiny MCP server, spoken to with raw JSON-RPC lines as an
/// agent's host would: requests can wait for their answer or stay in flight.
final class GuardProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let lines: LineReader
    private var answers: [Int: JSONValue] = [:]
    private var nextID = 1

    /// Starts the guard (`--dir`, `--store`, the principal and `extra` options) in front of `upstream`
    /// (the tiny server by default) with `upstreamEnvironment`, and initialises the session.
    init(dir: String, store: String, tenant: String = "acme", extra: [String] = [], upstream: [String] = ["--", "python3", TinyServer.script],
         upstreamEnvironment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: RolloutBinary.path)
        process.arguments = ["guard", "--dir", dir, "--store", store, "--tenant", tenant, "--actor", "agent-1"] + extra
            + upstream
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in upstreamEnvironment { environment[k] = v }
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        lines = LineReader(output.fileHandleForReading)
        try process.run()
        let initialized = try request("initialize", ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "test", "version": "1"]])
        guard initialized["result"] != nil else { throw GuardSessionError(message: "initialize failed: \(initialized)") }
        write(["jsonrpc": "2.0", "method": "notifications/initialized"])
    }

    private func write(_ message: JSONValue) {
        input.fileHandleForWriting.write(Data((message.canonicalText + "\n").utf8))
    }

    /// Sends `text` as one line, as it is: what a host that frames JSON-RPC wrongly sends.
    func sendLine(_ text: String) {
        input.fileHandleForWriting.write(Data((text + "\n").utf8))
    }

    /// Sends a notification (no id: no answer is due).
    func notify(_ method: String, _ params: JSONValue) {
        write(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }

    /// Sends a request and returns its id without waiting.
    @discardableResult
    func send(_ method: String, _ params: JSONValue) -> Int {
        let id = nextID
        nextID += 1
        write(["jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(method), "params": params])
        return id
    }

    /// The answer to request `id`, waiting up to `timeout` seconds.
    func answer(_ id: Int, timeout: Double = 30) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while answers[id] == nil {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let line = lines.next(timeout: left) else {
                throw GuardSessionError(message: "no answer to request \(id) within \(timeout)s; stderr: \(stderrSoFar)")
            }
            if let json = try? JSONValue.parse(line), let got = json["id"]?.intValue { answers[got] = json }
        }
        return answers[id]!
    }

    /// The next answer the guard writes, whichever request it answers; nil when none comes in `timeout`.
    func nextAnswer(timeout: Double = 30) -> JSONValue? {
        guard let line = lines.next(timeout: timeout), let json = try? JSONValue.parse(line) else { return nil }
        if let got = json["id"]?.intValue { answers[got] = json }
        return json
    }

    /// Ends the guard at once, as a power cut or the OOM killer would: no signal handler runs.
    func killHard() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func request(_ method: String, _ params: JSONValue, timeout: Double = 30) throws -> JSONValue {
        try answer(send(method, params), timeout: timeout)
    }

    /// A tools/call's result object.
    func call(_ tool: String, _ arguments: JSONValue, timeout: Double = 30) throws -> JSONValue {
        let response = try request("tools/call", ["name": .string(tool), "arguments": arguments], timeout: timeout)
        guard let result = response["result"] else { throw GuardSessionError(message: "tools/call \(tool) got no result: \(response)") }
        return result
    }

    func toolNames() throws -> [String] {
        try request("tools/list", [:])["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    private var stderrSoFar: String {
        let data = errors.fileHandleForReading.availableDataNonBlocking
        return String(decoding: data, as: UTF8.self)
    }

    /// Closes the agent's side and waits for the guard to end.
    func close() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops the guard as a host would (SIGTERM, which also stops its upstream), then for good.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill() }
}

extension FileHandle {
    /// What can be read now without blocking.
    var availableDataNonBlocking: Data {
        let fd = fileDescriptor
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }
}

/// The decision code a guard's tool result names.
func decisionCode(_ result: JSONValue) -> String? {
    result["structuredContent"]?["decision"]?.stringValue
}
