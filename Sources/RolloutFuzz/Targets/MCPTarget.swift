import Foundation
import RolloutCore
import RolloutGuard
import RolloutMCP

/// A real MCP tool server as the adversary's target: spawned over stdio, restarted when it must be
/// fresh, its answers read by the refusal detector and its state read back through `--observe
/// sqlite:PATH` (or, failing that, its own read tools, which show only the caller's tenant).
public final class MCPTarget: FuzzTarget {
    public let policy: Policy
    public let tenants: FuzzTenants
    public let capabilities = TargetCapabilities(stages: false, rollback: false, decisionCodes: false, cheapReset: false)
    public var description: String { "MCP server `\(commandLine)`" }
    public let commandLine: String
    let client: MCPClient
    let observer: StateObserver?
    let detector: RefusalDetector
    /// What the server listed.
    public private(set) var tools: [MCPTool] = []
    private var started = false
    /// Whether a call since the last start may have changed state (a refused call changes nothing).
    private var dirty = false

    public let subjects: (own: String?, other: String?)
    /// A separate, fresh instance of the server to learn from (`rollout fuzz --learn`): what a guard in
    /// front of the target would never show (another user's orders) can be learned there.
    let learning: MCPClient?
    /// Whether the policy's reset tool works on this target (a guard hides it).
    private var resetToolWorks: Bool?

    /// `tenant` is the tenant the server acts for; `otherTenant` one whose rows it must never touch;
    /// `subject` the user it acts for and `otherSubject` one it must never act on, for servers whose tools
    /// carry user ids.
    public init(command: String, policy: Policy, tenant: String, otherTenant: String, observer: StateObserver?, options: MCPClient.Options,
                subject: String? = nil, otherSubject: String? = nil, learnFrom: String? = nil) {
        self.policy = policy
        commandLine = command
        tenants = FuzzTenants(own: tenant, other: otherTenant)
        client = MCPClient(command: ["sh", "-c", "exec " + command], options: options)
        self.observer = observer
        detector = RefusalDetector(policyPatterns: policy.refusalPatterns)
        subjects = (subject, otherSubject)
        learning = learnFrom.map { MCPClient(command: ["sh", "-c", "exec " + $0], options: options) }
    }

    public var toolSchemas: [String: JSONValue] {
        Dictionary(tools.map { ($0.name, $0.inputSchema) }, uniquingKeysWith: { first, _ in first })
    }

    public func callsSent() async -> Int {
        let learned = await learning?.toolCallsSent ?? 0
        return await client.toolCallsSent + learned
    }

    public func learn(_ call: ToolCall) async throws -> (answer: JSONValue, accepted: Bool)? {
        let client: MCPClient
        if let learning {
            if await !learning.isAlive { try await learning.start() }
            client = learning
        } else {
            client = self.client
        }
        let result = try await client.callTool(call.tool, arguments: call.arguments)
        let accepted = if case .accepted = detector.classify(result, sent: call.arguments) { true } else { false }
        return (MCPResultText.json(result.raw) ?? .string(result.text), accepted)
    }

    /// Starts the server and lists its tools (once; `reset` restarts it).
    public func start() async throws {
        try await client.start()
        tools = try await client.listTools()
        started = true
        dirty = false
    }

    public func stop() async {
        await client.stop()
        await learning?.stop()
        started = false
    }

    /// Server processes started so far, the learning instance's included.
    public func serverStarts() async -> Int? {
        let learned = await learning?.starts ?? 0
        return await client.starts + learned
    }

    /// Fresh state: the policy's reset tool when the server takes it (one call), else a restart.
    public func reset() async throws {
        guard !started || dirty else { return }
        if started, let reset = policy.resetTool, resetToolWorks != false, await client.isAlive {
            let result = try await client.callTool(reset.tool, arguments: reset.arguments)
            if case .accepted = detector.classify(result, sent: reset.arguments) {
                resetToolWorks = true
                dirty = false
                return
            }
            resetToolWorks = false
        }
        if started { try await client.restart() } else { try await start() }
        started = true
        dirty = false
    }

    public func call(_ call: ToolCall, tenant: String) async throws -> CallOutcome {
        guard tenant == tenants.own else {
            throw TargetFailure("an MCP server acts for one tenant (\(tenants.own)); it cannot be called as \(tenant)")
        }
        let result = try await client.callTool(call.tool, arguments: call.arguments)
        // The answer is read apart from the values the adversary sent: a row echoed back with a note that
        // says "rejected" is a write that happened.
        switch detector.classify(result, sent: call.arguments) {
        case .accepted:
            dirty = true
            return CallOutcome(verdict: .accepted, code: nil, message: Self.short(result.text), raw: result.json)
        case .pending(let message):
            dirty = true
            return CallOutcome(verdict: .pending, code: "pending", message: message, raw: result.json)
        case .notExecuted(let code, let message):
            return CallOutcome(verdict: code == "replayed" ? .replayed : .notExecuted, code: code, message: message, raw: result.json)
        case .refused(let code, let message):
            return CallOutcome(verdict: .refused, code: code, message: message, raw: result.json)
        }
    }

    static func short(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }

    public func rows(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]]? {
        if let observer { return try observer.rows(model) }
        return try await rowsThroughReadTool(model)
    }

    /// Without an observer: a read tool that takes a model name and a page size, as generic ORM servers
    /// have (`db.query {model, take}`). Shows the caller's tenant only.
    func rowsThroughReadTool(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]]? {
        guard let reader = tools.first(where: { t in
            let properties = t.inputSchema["properties"]?.objectValue ?? [:]
            return policy.read(forWireName: t.name) != nil && properties["model"] != nil && (properties["take"] != nil || properties["limit"] != nil)
        }) else { return nil }
        let properties = reader.inputSchema["properties"]?.objectValue ?? [:]
        let args: JSONValue = .object(["model": .string(model.name), properties["take"] != nil ? "take" : "limit": 100])
        let result = try await client.callTool(reader.name, arguments: args)
        guard case .accepted = detector.classify(result, sent: args) else { return nil }
        var out: [JSONValue: [String: JSONValue]] = [:]
        func collect(_ value: JSONValue) {
            switch value {
            case .array(let items): items.forEach(collect)
            case .object(let members):
                if let key = members[model.key], RequestKey.isKey(key) {
                    var row = members
                    if let field = model.tenantField, row[field] == nil { row[field] = .string(tenants.own) }
                    out[key] = row
                } else {
                    members.values.forEach(collect)
                }
            default: break
            }
        }
        collect(result.structured ?? (try? JSONValue.parse(result.text)) ?? .null)
        return out
    }

    public func rollback(_ outcome: CallOutcome) async throws -> CallOutcome? { nil }

    public func noteStateChanged() { dirty = true }

    public var listedTools: [String] { tools.map(\.name) }

    /// Tools the server lists that the policy does not describe, and policy tools it does not list.
    public func coverage() -> [String] {
        var notes: [String] = []
        for t in tools where !policy.describes(wireName: t.name) {
            let hint = ToolClassifier.suggest(t)
            notes.append("the server lists \(t.name.debugDescription), which the policy describes neither as a write tool nor as a read (by its \(hint.evidence) it looks like a \(hint.kind.rawValue)): behind `rollout guard` it is hidden and refused")
        }
        let listed = Set(tools.map(\.name))
        for tool in policy.tools where !listed.contains(tool.toolName) {
            notes.append("the policy describes \(tool.toolName.debugDescription) (\(tool.name)), which the server does not list")
        }
        return notes
    }
}

/// What counts as a row key in a read tool's answer.
enum RequestKey {
    /// "7" and 7 name the same row.
    static func normalize(_ value: JSONValue) -> JSONValue {
        if case .string(let s) = value, let n = Int(s) { return .number(Double(n)) }
        return value
    }

    static func isKey(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): !s.isEmpty
        case .number: value.intValue != nil
        default: false
        }
    }
}
