import Foundation

/// A team's write policy (`rollout/policy.yaml`): the models an agent may write, and for each write
/// tool the controls every call must pass. One `Policy` value drives the guard, the adversary and lint.
public struct Policy: Sendable, Hashable {
    public var version: Int
    /// Models in the order the file lists them.
    public var models: [ModelPolicy]
    /// Write tools in the order the file lists them.
    public var tools: [ToolPolicy]
    /// Read tools the agent may call (`reads:`); everything an upstream lists beyond these and the write
    /// tools is hidden and refused.
    public var reads: [ReadPolicy] = []
    /// How an MCP tool server says no, beyond `isError` and `success: false`.
    public var refusalPatterns: [String]
    /// The tool that resets the upstream's state (`mcp.reset`), for the adversary: cheaper than a restart.
    public var resetTool: ToolCall?
    /// The policy document as JSON, comments and layout dropped.
    public var canonical: JSONValue
    /// Where it was read from, when it came from a file.
    public var file: String?

    public init(
        version: Int = 1, models: [ModelPolicy], tools: [ToolPolicy], refusalPatterns: [String] = [],
        canonical: JSONValue? = nil, file: String? = nil
    ) {
        self.version = version
        self.models = models
        self.tools = tools
        self.refusalPatterns = refusalPatterns
        self.canonical = canonical ?? .object(["version": .number(Double(version))])
        self.file = file
    }

    /// `jcs-sha256:` and the SHA-256 of the policy's RFC 8785 canonical form (the prefix names the form):
    /// the same for any two files that say the same thing, different as soon as one control changes.
    /// Reports and promotions record it. (The first version wrote `sha256:` over its own canonical form.)
    public var digest: String { "jcs-sha256:" + canonical.canonicalDigest }

    public func model(named name: String) -> ModelPolicy? {
        for i in models.indices where models[i].name == name { return models[i] }
        return nil
    }

    /// By index, as `ModelPolicy.field`: a tool passed over is not copied.
    public func tool(named name: String) -> ToolPolicy? {
        for i in tools.indices where tools[i].name == name { return tools[i] }
        return nil
    }

    /// The read entry that admits the wire tool `toolName` (an exact name before a glob), if any.
    public func read(forWireName toolName: String) -> ReadPolicy? {
        reads.first { !$0.isGlob && $0.pattern == toolName } ?? reads.first { $0.isGlob && $0.matches(toolName) }
    }

    /// Whether the policy describes the wire tool `toolName`, as a write or as a read.
    public func describes(wireName toolName: String) -> Bool {
        tools.contains { $0.toolName == toolName } || read(forWireName: toolName) != nil
    }

    /// The policy entries that describe calls to the wire tool `toolName`: one for a domain tool,
    /// one per model for a generic tool.
    public func entries(forWireName toolName: String) -> [ToolPolicy] {
        tools.filter { $0.toolName == toolName }
    }

    /// Loads and validates a policy file (YAML or JSON). Throws `UnreadableInputError` when the file
    /// cannot be read or parsed, `DiagnosticsError` with every problem when it is invalid.
    public static func load(path: String) throws -> Policy {
        guard let root = try SourceDocument.load(path: path) else {
            throw DiagnosticsError([Diagnostic(file: path, line: 1, column: 1, path: "", message: "the policy is empty",
                                               expected: "a mapping with version, models and tools")])
        }
        let (policy, diagnostics) = PolicyDecoder.decode(root, file: path)
        if let policy, !diagnostics.contains(where: { $0.severity == .error }) { return policy }
        throw DiagnosticsError(diagnostics)
    }

    /// Validates a policy given as text; `file` names it in diagnostics.
    public static func parse(_ text: String, file: String = "policy.yaml") throws -> Policy {
        guard let root = try SourceDocument.parse(text, file: file) else {
            throw DiagnosticsError([Diagnostic(file: file, line: 1, column: 1, path: "", message: "the policy is empty")])
        }
        let (policy, diagnostics) = PolicyDecoder.decode(root, file: file)
        if let policy, !diagnostics.contains(where: { $0.severity == .error }) { return policy }
        throw DiagnosticsError(diagnostics)
    }
}
