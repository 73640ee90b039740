/// A call as the agent made it: a tool name on the wire and its JSON arguments. The guard resolves it
/// against the policy into a `WriteRequest`.
public struct ToolCall: Sendable, Hashable {
    public var tool: String
    public var arguments: JSONValue

    public init(tool: String, arguments: JSONValue) {
        self.tool = tool
        self.arguments = arguments
    }

    /// SHA-256 of the canonical arguments: what idempotency keys and approvals are bound to.
    public var argumentsDigest: String { "sha256:" + arguments.canonicalDigest }
}
