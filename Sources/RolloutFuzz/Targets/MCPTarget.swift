import Foundation
import RolloutCore
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
    let connection: MCPConnection
    let observer: StateObserver?
    let detector: RefusalDetector
    /// What the server listed, classified.
    public private(set) var tools: [ToolClassifier.Classified] = []
    private var started = false
    /// Whether a call since the last start may have changed state (a refused call changes nothing).
    private var dirty = false

    /// `tenant` is the tenant the server acts for; `otherTenant` one whose rows it must never touch.
    public init(command: String, policy: Policy, tenant: String, otherTenant: String, observer: StateObserver?, options: MCPConnection.Options) throws {
        self.policy = policy
        commandLine = command
        tenants = FuzzTenants(own: tenant, other: otherTenant)
        connection = MCPConnection(command: ["sh", "-c", "exec " + command], options: options)
        self.observer = observer
        detector = RefusalDetector(policyPatterns: policy.refusalPatterns)
    }

    deinit {
        let connection = self.connection
        _ = try? blockingAwait { await connection.stop() }
    }

    /// Starts the server and lists its tools (once; `reset` restarts it).
    public func start() throws {
        let connection = self.connection
        try blockingAwait { try await connection.start() }
        let listed = try blockingAwait { try await connection.listTools() }
        tools = ToolClassifier.classify(listed, policy: policy)
        started = true
        dirty = false
    }

    public func stop() {
        let connection = self.connection
        _ = try? blockingAwait { await connection.stop() }
        started = false
    }

    public func reset() throws {
        guard !started || dirty else { return }
        let connection = self.connection
        if started { try blockingAwait { try await connection.restart() } } else { try start() }
        started = true
        dirty = false
    }

    public func call(_ call: ToolCall, tenant: String) throws -> CallOutcome {
        guard tenant == tenants.own else {
            throw TargetFailure("an MCP server acts for one tenant (\(tenants.own)); it cannot be called as \(tenant)")
        }
        let connection = self.connection
        let result = try blockingAwait { try await connection.callTool(call.tool, arguments: call.arguments) }
        switch detector.classify(result) {
        case .accepted:
            dirty = true
            return CallOutcome(verdict: .accepted, code: nil, message: Self.short(result.text), raw: result.json)
        case .pending(let message):
            dirty = true
            return CallOutcome(verdict: .pending, code: "pending", message: message, raw: result.json)
        case .refused(let code, let message):
            return CallOutcome(verdict: .refused, code: code, message: message, raw: result.json)
        }
    }

    static func short(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }

    public func rows(_ model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]]? {
        if let observer { return try observer.rows(model) }
        return try rowsThroughReadTool(model)
    }

    /// Without an observer: a read tool that takes a model name and a page size, as generic ORM servers
    /// have (`db.query {model, take}`). Shows the caller's tenant only.
    func rowsThroughReadTool(_ model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]]? {
        guard let reader = tools.first(where: { t in
            let properties = t.tool.inputSchema["properties"]?.objectValue ?? [:]
            return t.kind == .read && properties["model"] != nil && (properties["take"] != nil || properties["limit"] != nil)
        }) else { return nil }
        let properties = reader.tool.inputSchema["properties"]?.objectValue ?? [:]
        let args: JSONValue = .object(["model": .string(model.name), properties["take"] != nil ? "take" : "limit": 100])
        let connection = self.connection
        let result = try blockingAwait { try await connection.callTool(reader.tool.name, arguments: args) }
        guard case .accepted = detector.classify(result) else { return nil }
        var out: [JSONValue: [String: JSONValue]] = [:]
        func collect(_ value: JSONValue) {
            switch value {
            case .array(let items): items.forEach(collect)
            case .object(let members):
                if let key = members[model.key], RequestKey.isKey(key) {
                    var row = members
                    if row[model.tenantField] == nil { row[model.tenantField] = .string(tenants.own) }
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

    public func rollback(_ outcome: CallOutcome) throws -> CallOutcome? { nil }

    public func noteStateChanged() { dirty = true }

    /// Write tools the server lists that the policy does not describe, and policy tools it does not list.
    public func coverage() -> [String] {
        var notes: [String] = []
        for t in tools where t.kind == .write && t.entries.isEmpty {
            notes.append("the server lists \(t.tool.name.debugDescription), a write tool by its \(t.evidence), which the policy does not describe: nothing limits it")
        }
        let listed = Set(tools.map(\.tool.name))
        for tool in policy.tools where !listed.contains(tool.toolName) {
            notes.append("the policy describes \(tool.toolName.debugDescription) (\(tool.name)), which the server does not list")
        }
        return notes
    }
}

/// What counts as a row key in a read tool's answer.
enum RequestKey {
    static func isKey(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): !s.isEmpty
        case .number: value.intValue != nil
        default: false
        }
    }
}
