import Foundation
import MCP
import RolloutCore
import RolloutGuard
import RolloutStore

/// `rollout guard`: an MCP server over stdio (the SDK's server side) that an agent talks to instead
/// of its tool server. Reads are forwarded as they are; every write goes through the guard's decision
/// pipeline for the principal given on the command line, and only an allowed write reaches the
/// upstream. `tools/list` shows what this tenant's stages allow: a tool that is off is not listed, an
/// undescribed write tool is never listed, a shadowed one is listed (its calls are validated and
/// audited, and not forwarded).
public final class GuardProxy: @unchecked Sendable {
    public struct Options: Sendable {
        public var principal: Principal
        /// Where the upstream's rows can be read (`--observe sqlite:PATH`).
        public var observe: String?
        public var callTimeout: Double
        public var environment: [String: String]

        public init(principal: Principal, observe: String? = nil, callTimeout: Double = 30, environment: [String: String] = [:]) {
            self.principal = principal
            self.observe = observe
            self.callTimeout = callTimeout
            self.environment = environment
        }
    }

    public let policy: Policy
    public let stages: any StageSource
    public let store: AuditStore
    public let options: Options
    public let upstream: MCPConnection
    let guard_: Guard
    let log: @Sendable (String) -> Void
    /// Decisions run one at a time on their own thread: the guard blocks on the upstream, which a
    /// Swift concurrency thread must never do.
    let decisions = DispatchQueue(label: "rollout.guard.decisions")
    private var upstreamTools: [ToolClassifier.Classified] = []
    /// Calls being answered: when the agent closes its side, they finish before the upstream stops.
    private let inFlight = InFlight()

    public init(policy: Policy, stages: any StageSource, store: AuditStore, command: [String], options: Options,
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.policy = policy
        self.stages = stages
        self.store = store
        self.options = options
        self.log = log
        upstream = MCPConnection(command: command, options: .init(callTimeout: options.callTimeout, environment: options.environment))
        guard_ = try UpstreamBackend.makeGuard(policy: policy, stages: stages, store: store, connection: upstream, observe: options.observe)
    }

    /// Starts the upstream, then serves the agent on `input`/`output` until it closes its side.
    public func run(input: Int32 = 0, output: Int32 = 1) async throws {
        try await upstream.start()
        upstreamTools = ToolClassifier.classify(try await upstream.listTools(), policy: policy)
        let undescribed = upstreamTools.filter { $0.kind == .write && $0.entries.isEmpty }.map(\.tool.name)
        if !undescribed.isEmpty { log("guard: hiding write tools the policy does not describe: \(undescribed.joined(separator: ", "))") }
        if options.observe == nil { log("guard: no --observe: before values are recorded as unknown, and target rows' tenants cannot be checked") }

        let server = Server(name: "rollout-guard", version: "0.1.0", capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { [self] _ in
            ListTools.Result(tools: visibleTools())
        }
        await server.withMethodHandler(CallTool.self) { [self] params in
            inFlight.enter()
            defer { inFlight.leave() }
            let arguments = JSONValue.object((params.arguments ?? [:]).mapValues(JSONValue.init(mcp:)))
            return await call(params.name, arguments: arguments)
        }
        let log = self.log
        let transport = LineTransport(read: input, write: output, writeTimeout: options.callTimeout) { event in
            if case .garbage(let line) = event { log("guard: the client sent a line that is not JSON-RPC: \(line.prefix(200))") }
        }
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
        // The agent closed its side; answer what it already asked (a request's task may still be starting).
        let deadline = Date().addingTimeInterval(options.callTimeout + 5)
        repeat {
            try? await Task.sleep(for: .milliseconds(50))
        } while inFlight.count > 0 && Date() < deadline
        await server.stop()
        await upstream.stop()
    }

    /// The upstream's tools this principal may see now.
    func visibleTools() -> [Tool] {
        upstreamTools.compactMap { classified in
            if classified.kind == .write {
                let live = classified.entries.contains { stages.stage(tenant: options.principal.tenant, tool: $0) != .off }
                guard live else { return nil }
            }
            let t = classified.tool
            return Tool(name: t.name, description: t.description, inputSchema: t.inputSchema.mcpValue,
                        annotations: .init(readOnlyHint: t.readOnlyHint, destructiveHint: t.destructiveHint, idempotentHint: t.idempotentHint))
        }
    }

    /// One tool call: a read is forwarded; everything else meets the guard.
    func call(_ name: String, arguments: JSONValue) async -> CallTool.Result {
        if let known = upstreamTools.first(where: { $0.tool.name == name }), known.kind == .read {
            do {
                return Self.result(try await upstream.callTool(name, arguments: arguments))
            } catch {
                return CallTool.Result(content: [Self.text("backend_error: the upstream server failed: \(error)")], isError: true)
            }
        }
        let call = ToolCall(tool: name, arguments: arguments)
        let principal = options.principal
        let decision: Result<Decision, Error> = await withCheckedContinuation { continuation in
            decisions.async { [guard_] in
                continuation.resume(returning: Result { try guard_.decide(call, principal: principal) })
            }
        }
        switch decision {
        case .failure(let error):
            log("guard: the decision failed: \(error)")
            return CallTool.Result(content: [Self.text("internal_error: the guard could not record a decision (\(error)); nothing was forwarded")], isError: true)
        case .success(let d):
            return Self.result(d)
        }
    }

    /// A decision as the agent sees it: the upstream's own answer for an executed or replayed write,
    /// an error naming the decision code and what to do for a refusal.
    static func result(_ d: Decision) -> CallTool.Result {
        let upstream = d.result["upstream"]
        switch d.code {
        case .executed, .replayed:
            if let upstream {
                return CallTool.Result(content: [Self.text(upstream["text"]?.stringValue ?? "")],
                                       structuredContent: upstream["structuredContent"]?.mcpValue, isError: false)
            }
            return CallTool.Result(content: [Self.text(d.result.canonicalText)], structuredContent: d.result.mcpValue as Value?, isError: false)
        case .pendingApproval, .shadowed, .dryRun:
            var structured = d.result.objectValue ?? [:]
            structured["decision"] = .string(d.code.rawValue)
            structured["audit_id"] = .number(Double(d.auditSeq))
            return CallTool.Result(content: [Self.text("\(d.code.rawValue): \(d.message)")], structuredContent: JSONValue.object(structured).mcpValue as Value?, isError: false)
        default:
            let structured: JSONValue = ["decision": .string(d.code.rawValue), "message": .string(d.message), "audit_id": .number(Double(d.auditSeq))]
            return CallTool.Result(content: [Self.text("\(d.code.rawValue): \(d.message)")], structuredContent: structured.mcpValue as Value?, isError: true)
        }
    }

    static func text(_ s: String) -> Tool.Content { .text(text: s, annotations: nil, _meta: nil) }

    static func result(_ r: MCPToolResult) -> CallTool.Result {
        CallTool.Result(content: [Self.text(r.text)], structuredContent: r.structured?.mcpValue, isError: r.isError)
    }
}

/// A count of calls in progress.
final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func enter() { lock.withLock { value += 1 } }
    func leave() { lock.withLock { value -= 1 } }
    var count: Int { lock.withLock { value } }
}
