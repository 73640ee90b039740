import Foundation
import RolloutCore
import RolloutGuard

/// An MCP tool server as the guard's upstream: decided writes, lookups and reads go to it over stdio.
/// Its answers are read by the refusal detector (MCP's `isError`, a structured `success: false`, plain
/// refusal text); a server that dies, hangs or garbles fails the call in flight (`UpstreamFailure`) and
/// is restarted before the next one.
public final class MCPUpstream: Upstream, @unchecked Sendable {
    public let backend: String
    public let observer: (any StateReader)?
    public let placement: [String: String]
    public let recordedObserve: String?
    public let client: MCPClient
    let detector: RefusalDetector
    let log: @Sendable (String) -> Void
    private let oneAtATime = SerialGate()

    /// `backend` names it in the audit log: `GuardBackend.upstream(name)` for an entry of
    /// `upstreams.yaml`, `GuardBackend.command(command)` otherwise. `placement` is what decides where it
    /// writes (`Upstream.placement`).
    public init(command: [String], backend: String, options: MCPClient.Options, observer: (any StateReader)? = nil,
                placement: [String: String] = [:], recordedObserve: String? = nil, refusalPatterns: [String] = [],
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.backend = backend
        self.observer = observer
        self.placement = placement
        self.recordedObserve = recordedObserve
        client = MCPClient(command: command, options: options)
        detector = RefusalDetector(policyPatterns: refusalPatterns)
        self.log = log
    }

    public func start() async throws {
        try await client.start()
    }

    public func stop() async {
        await client.stop()
    }

    public func listTools() async throws -> [MCPTool] {
        try await client.listTools()
    }

    public func call(_ call: ToolCall) async -> UpstreamOutcome {
        switch await raw(call) {
        case .success(let result):
            // A JSON-RPC error says the call was refused only when its code says the server never ran it
            // (a request it could not read, an unknown method, parameters it rejected). An internal or
            // server-defined error can come after the write: in doubt, as a lost answer is.
            if let code = result.rpcErrorCode, !Self.notRunCodes.contains(code) {
                return .failed(.serverError(code: code, message: String(result.text.prefix(200))))
            }
            guard result.isToolResult else {
                return .failed(.malformed("the answer is \(String(result.raw.canonicalText.prefix(60))), not a tool result"))
            }
            switch detector.classify(result, sent: call.arguments) {
            case .accepted: return .accepted(result: result.raw)
            case .pending(let message): return .refused(code: "upstream_pending", message: "the upstream queued it for its own approval: \(message)", result: result.raw)
            case .notExecuted(let code, let message): return .refused(code: "upstream_\(code)", message: "the upstream did not execute it: \(message)", result: result.raw)
            case .refused(let code, let message): return .refused(code: code, message: message, result: result.raw)
            }
        case .failure(let failure):
            return .failed(failure)
        }
    }

    /// JSON-RPC error codes that say the server did not run the call: parse error, invalid request,
    /// method not found, invalid params.
    static let notRunCodes: Set<Int> = [JSONRPCError.parseError, JSONRPCError.invalidRequest, JSONRPCError.methodNotFound, JSONRPCError.invalidParams]

    /// One call, its answer as the server gave it, after the calls before it have finished. Restarts a
    /// server that failed before.
    public func raw(_ call: ToolCall) async -> Result<MCPToolResult, UpstreamFailure> {
        await oneAtATime.run { await self.rawNow(call) }
    }

    private func rawNow(_ call: ToolCall) async -> Result<MCPToolResult, UpstreamFailure> {
        if await !client.isAlive {
            log("guard: the upstream is down; restarting it")
            do {
                try await client.restart()
            } catch {
                return .failure(.unavailable("it could not be restarted: \(error)"))
            }
        }
        do {
            return .success(try await client.callTool(call.tool, arguments: call.arguments))
        } catch let failure as MCPFailure {
            switch failure {
            case .timeout(_, let seconds, let stderr):
                log("guard: the upstream did not answer \(call.tool) within \(JSONValue.formatNumber(seconds))s; stopping it (it restarts for the next call)")
                await client.stop()
                return .failure(.timedOut(seconds: seconds, detail: stderr.split(separator: "\n").last.map(String.init) ?? ""))
            case .exited(let status, let stderr):
                log("guard: the upstream exited (status \(status)) during \(call.tool); it restarts for the next call")
                return .failure(.crashed("status \(status)" + (stderr.isEmpty ? "" : ": " + (stderr.split(separator: "\n").last.map(String.init) ?? ""))))
            case .garbage(let line, _):
                await client.stop()
                return .failure(.garbled(String(line.prefix(120))))
            case .notSent(let why), .launch(let why), .protocolError(let why):
                return .failure(.unavailable(why))
            }
        } catch {
            return .failure(.unavailable("\(error)"))
        }
    }
}
