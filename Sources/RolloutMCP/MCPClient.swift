import Foundation
import RolloutCore

/// A live connection to an MCP server over stdio, as an actor: requests are async, each with a
/// timeout; a server that exits, closes its output or writes garbage fails every call in flight at
/// once (never a hang); `restart()` brings up a fresh one. It speaks JSON-RPC with rollout's own codec,
/// so arguments and answers pass through byte-faithful (no value rewriting), and a reader thread hands
/// each line on as soon as it is complete.
public actor MCPClient {
    public struct Options: Sendable {
        public var callTimeout: Double
        public var startTimeout: Double
        public var environment: [String: String]
        /// Whether the server inherits our environment (under `environment`); when false it gets
        /// `environment` alone (upstreams.yaml's `inherit:`).
        public var inheriting: Bool

        public init(callTimeout: Double = 10, startTimeout: Double = 30, environment: [String: String] = [:], inheriting: Bool = true) {
            self.callTimeout = callTimeout
            self.startTimeout = startTimeout
            self.environment = environment
            self.inheriting = inheriting
        }
    }

    public let command: [String]
    public let options: Options
    private var process: ServerProcess?
    private var pending: [Int64: CheckedContinuation<JSONValue, Error>] = [:]
    /// When each call in flight times out (uptime nanoseconds), with what to say then.
    private var deadlines: [Int64: (at: UInt64, method: String, seconds: Double)] = [:]
    /// The one task that times calls out, sleeping until the earliest deadline it knows of. A sleeping
    /// task per call, made and cancelled each time, cost two thread wake-ups per call in
    /// `rollout-bench guard-proxy`'s profile; this one wakes about once per timeout.
    private var watchdog: Task<Void, Never>?
    private var watchdogWakes: UInt64 = .max
    private var watchdogTicket = 0
    private var nextID: Int64 = 1
    /// Why the current server can take no more calls, once it cannot.
    private var failure: MCPFailure?
    private var generation = 0
    public private(set) var serverName = ""
    /// Servers started so far, restarts included.
    public private(set) var starts = 0
    /// Requests written to the server so far, `initialize` and `tools/list` included.
    public private(set) var requestsSent = 0
    /// `tools/call` requests written to the server so far (what a fuzz run reports as its calls).
    public private(set) var toolCallsSent = 0

    public init(command: [String], options: Options = Options()) {
        self.command = command
        self.options = options
    }

    /// Whether a server is running and has not failed.
    public var isAlive: Bool { process != nil && failure == nil }

    /// The server's stderr so far (the last 64 KiB).
    public var stderr: String { process?.stderr ?? "" }

    /// Starts the server and initialises the session.
    public func start() async throws {
        BrokenPipes.ignore()
        let process = try ServerProcess(command: command, environment: options.environment, inheriting: options.inheriting)
        // Only now: a server that failed to start leaves the client as failed as it was.
        failure = nil
        generation += 1
        self.process = process
        starts += 1
        let generation = self.generation
        process.onExit { status in
            Task { await self.serverExited(status: status, generation: generation) }
        }
        // What the server wrote waits here, by its size, until routed: a server that writes faster than its
        // answers are taken fills its own pipe, not rollout's memory.
        let backlog = ReadBacklog(limit: 2 * LineSplitter.defaultMaxLength)
        let lines = AsyncStream<(ReaderEvent, Int)> { continuation in
            let fd = process.stdoutPipe.fileHandleForReading.fileDescriptor
            let thread = Thread {
                var splitter = LineSplitter()
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 {
                        continuation.yield((.closed, 0))
                        continuation.finish()
                        return
                    }
                    buffer.withUnsafeBufferPointer { chunk in
                        splitter.feed(UnsafeBufferPointer(rebasing: chunk[0..<n])) { line in
                            let cost = ReadBacklog.cost(ofLine: line.count)
                            backlog.admit(cost)
                            do {
                                continuation.yield((.message(try JSONRPCMessage.decode(line)), cost))
                            } catch {
                                continuation.yield((.garbage(String(decoding: line.prefix(200), as: UTF8.self)), cost))
                            }
                        } tooLong: { length, limit in
                            continuation.yield((.garbage("(a line of \(length) bytes, over the limit of \(limit) bytes, not read)"), 0))
                        }
                    }
                }
            }
            thread.name = "rollout.mcp.reader"
            thread.start()
        }
        Task {
            for await (event, size) in lines {
                self.receive(event, generation: generation)
                backlog.release(size)
            }
        }
        let initialize: JSONValue = [
            "protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "rollout", "version": "0.2.0"],
        ]
        let result = try await request("initialize", params: initialize, timeout: options.startTimeout)
        serverName = result["serverInfo"]?["name"]?.stringValue ?? ""
        try send(.notification(method: "notifications/initialized", params: nil))
    }

    /// Ends the server: closes its input, asks it to stop, and kills it if it will not. Calls in flight fail.
    public func stop() async {
        guard let process else { return }
        self.process = nil
        fail(.exited(status: 0, stderr: "stopped by rollout"))
        watchdog?.cancel()
        watchdog = nil
        failure = nil
        await process.terminate(grace: 1)
    }

    public func restart() async throws {
        await stop()
        try await start()
    }

    /// Every tool the server lists (following pagination).
    public func listTools() async throws -> [MCPTool] {
        var tools: [MCPTool] = []
        var cursor: String?
        repeat {
            let params: JSONValue = cursor.map { ["cursor": .string($0)] } ?? [:]
            let page = try await request("tools/list", params: params, timeout: options.callTimeout)
            tools += (page["tools"]?.arrayValue ?? []).map(MCPTool.init(listed:))
            cursor = page["nextCursor"]?.stringValue
        } while cursor != nil && tools.count < 10_000
        return tools
    }

    /// Calls a tool; the result object as the server sent it. A JSON-RPC error (unknown tool, invalid
    /// params) comes back as an error result, as an agent would see it; a dead, hung or garbling server
    /// throws `MCPFailure`.
    public func callTool(_ name: String, arguments: JSONValue) async throws -> MCPToolResult {
        do {
            return MCPToolResult(raw: try await request("tools/call", params: ["name": .string(name), "arguments": arguments], timeout: options.callTimeout))
        } catch let error as RemoteError {
            var result = MCPToolResult(text: error.message, isError: true, structured: ["jsonrpc_error": .number(Double(error.code))])
            result.rpcErrorCode = error.code
            return result
        }
    }

    /// A JSON-RPC error the server answered.
    struct RemoteError: Error {
        var code: Int
        var message: String
    }

    enum ReaderEvent: Sendable {
        case message(JSONRPCMessage)
        case garbage(String)
        case closed
    }

    /// Sends a request and waits for its answer, the server's failure, or the timeout.
    public func request(_ method: String, params: JSONValue, timeout: Double) async throws -> JSONValue {
        if let failure { throw MCPFailure.notSent("\(failure)") }
        guard process != nil else { throw MCPFailure.notSent("the server is not running") }
        let id = nextID
        nextID += 1
        return try await withCheckedThrowingContinuation { continuation in
            pending[id] = continuation
            let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, min(timeout, 1e9)) * 1e9)
            deadlines[id] = (deadline, method, timeout)
            armWatchdog(until: deadline)
            do {
                try send(.request(id: .number(Double(id)), method: method, params: params))
                requestsSent += 1
                if method == "tools/call" { toolCallsSent += 1 }
            } catch {
                resolve(id, .failure(MCPFailure.notSent("\(error)")))
            }
        }
    }

    private func send(_ message: JSONRPCMessage) throws {
        guard let process else { throw MCPFailure.protocolError("not connected") }
        // After a failed write the server's input may end in part of a line: nothing goes after it (an
        // answer to the server's ping would be spliced onto a request).
        if let failure { throw failure }
        do throws(LineWriter.Failure) {
            try LineWriter.write(message.line, to: process.stdinPipe.fileHandleForWriting.fileDescriptor, kind: process.stdinKind, timeout: options.callTimeout)
        } catch {
            let failure: MCPFailure = switch error {
            case .timedOut: .timeout(what: "writing to the server (it stopped reading its input)", seconds: options.callTimeout, stderr: process.stderrLines())
            case .closed: .exited(status: process.isRunning ? -1 : process.exitCode, stderr: process.stderrLines())
            }
            fail(failure)
            // The server may have part of a request: its input is closed, so it never reads more after it
            // (`stop`, `restart` or the end of the run then ends it).
            process.closeInput()
            throw failure
        }
    }

    private func receive(_ event: ReaderEvent, generation: Int) {
        guard generation == self.generation else { return }
        switch event {
        case .message(.response(let id, let result)):
            if let n = id.intValue { resolve(Int64(n), .success(result)) }
        case .message(.error(let id, let code, let message, _)):
            if let n = id.intValue { resolve(Int64(n), .failure(RemoteError(code: code, message: message))) }
        case .message(.request(let id, let method, _)):
            // Servers may ask clients things (sampling, roots); rollout offers none of them.
            if method == "ping" {
                try? send(.response(id: id, result: [:]))
            } else {
                try? send(.error(id: id, code: JSONRPCError.methodNotFound, message: "rollout answers no \(method) requests", data: nil))
            }
        case .message(.notification):
            break
        case .garbage(let line):
            fail(.garbage(line: line, stderr: process?.stderrLines() ?? ""))
        case .closed:
            // Give the exit status a moment to arrive: it says more than "closed".
            Task {
                try? await Task.sleep(nanoseconds: 50_000_000)
                self.closed(generation: generation)
            }
        }
    }

    private func closed(generation: Int) {
        guard generation == self.generation else { return }
        fail(.exited(status: process?.exitCode ?? -1, stderr: process?.stderrLines() ?? ""))
    }

    private func serverExited(status: Int32, generation: Int) {
        guard generation == self.generation else { return }
        fail(.exited(status: status, stderr: process?.stderrLines() ?? ""))
    }

    /// Makes sure the watchdog wakes by `deadline`: a later deadline waits for the sleeping watchdog,
    /// an earlier one (a shorter timeout) replaces it.
    private func armWatchdog(until deadline: UInt64) {
        if watchdog != nil, deadline >= watchdogWakes { return }
        watchdog?.cancel()
        watchdogTicket += 1
        watchdogWakes = deadline
        let ticket = watchdogTicket
        watchdog = Task { [weak self] in
            let now = DispatchTime.now().uptimeNanoseconds
            if deadline > now { try? await Task.sleep(nanoseconds: deadline - now) }
            guard !Task.isCancelled else { return }
            await self?.watchdogFired(ticket)
        }
    }

    /// Times out every call whose deadline passed, then sleeps until the next one, if any.
    private func watchdogFired(_ ticket: Int) {
        guard ticket == watchdogTicket else { return }
        watchdog = nil
        watchdogWakes = .max
        let now = DispatchTime.now().uptimeNanoseconds
        for (id, deadline) in deadlines where deadline.at <= now {
            resolve(id, .failure(MCPFailure.timeout(what: deadline.method, seconds: deadline.seconds, stderr: process?.stderrLines() ?? "")))
        }
        if let next = deadlines.values.lazy.map(\.at).min() { armWatchdog(until: next) }
    }

    private func resolve(_ id: Int64, _ result: Result<JSONValue, Error>) {
        deadlines.removeValue(forKey: id)
        guard let continuation = pending.removeValue(forKey: id) else { return }
        continuation.resume(with: result)
    }

    /// The server can take no more calls: every call in flight fails with `failure`.
    private func fail(_ failure: MCPFailure) {
        if self.failure == nil { self.failure = failure }
        for id in Array(pending.keys) { resolve(id, .failure(failure)) }
    }
}
