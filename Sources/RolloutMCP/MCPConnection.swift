import Foundation
import MCP
import RolloutCore
import SystemPackage

/// A tool as the server lists it.
public struct MCPTool: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var inputSchema: JSONValue
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
}

/// A tool call's answer: its text content, its structured content, and MCP's error flag.
public struct MCPToolResult: Sendable, Hashable {
    public var text: String
    public var structured: JSONValue?
    public var isError: Bool

    /// The answer as one JSON value, for evidence and replays.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["isError": .bool(isError), "text": .string(text)]
        if let structured { object["structuredContent"] = structured }
        return .object(object)
    }
}

/// A live connection to an MCP server over stdio, built on the MCP SDK's client, that survives its
/// server: every request has a timeout, a server that exits or writes garbage fails the call in
/// flight at once (the SDK alone would wait forever), and `restart()` brings up a fresh one.
public final class MCPConnection: @unchecked Sendable {
    public enum TransportKind: String, Sendable {
        /// `LineTransport`: a reader thread blocking on the pipe.
        case blocking
        /// The SDK's `StdioTransport`, which polls with a 10 ms sleep.
        case sdk
    }

    public struct Options: Sendable {
        public var callTimeout: Double
        public var startTimeout: Double
        public var environment: [String: String]
        public var transport: TransportKind

        public init(callTimeout: Double = 10, startTimeout: Double = 30, environment: [String: String] = [:], transport: TransportKind = .blocking) {
            self.callTimeout = callTimeout
            self.startTimeout = startTimeout
            self.environment = environment
            self.transport = transport
        }
    }

    public let command: [String]
    public let options: Options
    private var process: ServerProcess?
    private var client: Client?
    /// One per session, so that the old server's exit during a restart cannot fail the new one.
    private var failure = FailureSignal()
    public private(set) var serverName: String = ""

    public init(command: [String], options: Options = Options()) {
        self.command = command
        self.options = options
    }

    /// The server's stderr so far (the last 64 KiB).
    public var stderr: String { process?.stderr ?? "" }

    /// Starts the server and initialises the session.
    public func start() async throws {
        failure = FailureSignal()
        let process = try ServerProcess(command: command, environment: options.environment)
        self.process = process
        let signal = failure
        process.onExit { status in signal.fail(.exited(status: status, stderr: process.stderrLines())) }
        let readFD = process.stdoutPipe.fileHandleForReading.fileDescriptor
        let writeFD = process.stdinPipe.fileHandleForWriting.fileDescriptor
        let transport: any Transport
        switch options.transport {
        case .blocking:
            transport = LineTransport(read: readFD, write: writeFD, writeTimeout: options.callTimeout) { event in
                switch event {
                case .closed:
                    // Give the exit status a moment to arrive: it says more than "closed".
                    Thread.sleep(forTimeInterval: 0.05)
                    signal.fail(.exited(status: process.isRunning ? -1 : 0, stderr: process.stderrLines()))
                case .garbage(let line): signal.fail(.garbage(line: line, stderr: process.stderrLines()))
                }
            }
        case .sdk:
            transport = StdioTransport(input: FileDescriptor(rawValue: readFD), output: FileDescriptor(rawValue: writeFD))
        }
        let client = Client(name: "rollout", version: "0.1.0")
        self.client = client
        let result = try await race("initialize", seconds: options.startTimeout) { try await client.connect(transport: transport) }
        serverName = result.serverInfo.name
    }

    public func stop() async {
        // The server first: once it is gone its output closes, and the client's loop can end.
        process?.stop(grace: 1)
        process = nil
        if let client { await client.disconnect() }
        client = nil
    }

    public func restart() async throws {
        await stop()
        try await start()
    }

    /// Every tool the server lists (following pagination).
    public func listTools() async throws -> [MCPTool] {
        guard let client else { throw MCPFailure.protocolError("not connected") }
        var tools: [MCPTool] = []
        var cursor: String?
        repeat {
            let page = try await race("tools/list", seconds: options.callTimeout) { [cursor] in try await client.listTools(cursor: cursor) }
            tools += page.tools.map { tool in
                MCPTool(name: tool.name, description: tool.description, inputSchema: JSONValue(mcp: tool.inputSchema),
                        readOnlyHint: tool.annotations.readOnlyHint, destructiveHint: tool.annotations.destructiveHint,
                        idempotentHint: tool.annotations.idempotentHint)
            }
            cursor = page.nextCursor
        } while cursor != nil && tools.count < 10_000
        return tools
    }

    /// Calls a tool. A JSON-RPC error (unknown tool, invalid params) comes back as an error result,
    /// as an agent would see it; a dead, hung or garbled server throws `MCPFailure`.
    public func callTool(_ name: String, arguments: JSONValue) async throws -> MCPToolResult {
        guard let client else { throw MCPFailure.protocolError("not connected") }
        let args = arguments.objectValue?.mapValues(\.mcpValue)
        do {
            let result = try await race("tools/call \(name)", seconds: options.callTimeout) {
                let context: RequestContext<CallTool.Result> = try await client.send(CallTool.request(.init(name: name, arguments: args)))
                return try await context.value
            }
            let text = result.content.compactMap { content -> String? in
                if case .text(let text, _, _) = content { return text }
                return nil
            }.joined(separator: "\n")
            return MCPToolResult(text: text, structured: result.structuredContent.map(JSONValue.init(mcp:)), isError: result.isError ?? false)
        } catch let error as MCPError {
            if case .connectionClosed = error, let failed = failure.current { throw failed }
            if case .transportError = error, let failed = failure.current { throw failed }
            return MCPToolResult(text: error.localizedDescription, structured: ["jsonrpc_error": .number(Double(error.code))], isError: true)
        }
    }

    /// Runs `operation`, failing as soon as the server dies or garbles, or the time is up.
    private func race<T: Sendable>(_ what: String, seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let signal = failure
        let process = self.process
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let once = Once()
            Task {
                do {
                    let value = try await operation()
                    if once.claim() { continuation.resume(returning: value) }
                } catch {
                    if once.claim() { continuation.resume(throwing: signal.current ?? error) }
                }
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                if once.claim() { continuation.resume(throwing: MCPFailure.timeout(what: what, seconds: seconds, stderr: process?.stderrLines() ?? "")) }
            }
            signal.whenFailed { failure in
                if once.claim() { continuation.resume(throwing: failure) }
            }
        }
    }
}

/// Set once when the server fails; waiters are told at once.
final class FailureSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: MCPFailure?
    private var waiters: [@Sendable (MCPFailure) -> Void] = []

    var current: MCPFailure? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    func reset() {
        lock.lock()
        failure = nil
        waiters = []
        lock.unlock()
    }

    func fail(_ value: MCPFailure) {
        lock.lock()
        guard failure == nil else {
            lock.unlock()
            return
        }
        failure = value
        let toCall = waiters
        waiters = []
        lock.unlock()
        for waiter in toCall { waiter(value) }
    }

    func whenFailed(_ waiter: @escaping @Sendable (MCPFailure) -> Void) {
        lock.lock()
        if let failure {
            lock.unlock()
            waiter(failure)
            return
        }
        waiters.append(waiter)
        lock.unlock()
    }
}

/// A flag that can be claimed once, from any thread.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
