import RolloutCore
import RolloutGuard

/// A tool as the server lists it.
public struct MCPTool: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var inputSchema: JSONValue
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    /// The tool exactly as the server listed it, for showing it to an agent unchanged.
    public var listed: JSONValue

    public init(listed: JSONValue) {
        self.listed = listed
        name = listed["name"]?.stringValue ?? ""
        description = listed["description"]?.stringValue
        inputSchema = listed["inputSchema"] ?? ["type": "object"]
        readOnlyHint = listed["annotations"]?["readOnlyHint"]?.boolValue
        destructiveHint = listed["annotations"]?["destructiveHint"]?.boolValue
        idempotentHint = listed["annotations"]?["idempotentHint"]?.boolValue
    }
}

/// A tool call's answer: its text content, its structured content, and MCP's error flag.
public struct MCPToolResult: Sendable, Hashable {
    /// The result object as the server sent it (`content`, `structuredContent`, `isError`).
    public var raw: JSONValue
    /// The JSON-RPC error code when the server answered the call with an error instead of a result
    /// (then `raw` says its message as an `isError` result).
    public var rpcErrorCode: Int?

    public init(raw: JSONValue) {
        self.raw = raw
    }

    /// A result that says only `text`, as an error or not.
    public init(text: String, isError: Bool, structured: JSONValue? = nil) {
        var object: [String: JSONValue] = ["content": [["type": "text", "text": .string(text)]], "isError": .bool(isError)]
        if let structured { object["structuredContent"] = structured }
        raw = .object(object)
    }

    public var text: String { MCPResultText.text(raw) }
    /// Whether the answer has the shape of an MCP tool result: an object with its `content` list (or
    /// `structuredContent`). A bare `null`, number, string, array or `{}` does not say what became of the call.
    public var isToolResult: Bool {
        guard case .object = raw else { return false }
        if case .array = raw["content"] { return true }
        if case .object = raw["structuredContent"] { return true }
        return false
    }
    public var structured: JSONValue? { raw["structuredContent"].flatMap { $0.isNull ? nil : $0 } }
    public var isError: Bool { raw["isError"]?.boolValue ?? false }

    /// The answer as one JSON value, for evidence and replays.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["isError": .bool(isError), "text": .string(text)]
        if let structured { object["structuredContent"] = structured }
        return .object(object)
    }
}
