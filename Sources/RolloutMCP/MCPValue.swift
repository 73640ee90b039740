import Foundation
import MCP
import RolloutCore

extension JSONValue {
    /// The value as the MCP SDK's `Value`: whole numbers as integers, as JSON-RPC peers expect.
    public var mcpValue: MCP.Value {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let d): d.rounded() == d && abs(d) < 9e15 ? .int(Int(d)) : .double(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(\.mcpValue))
        case .object(let members): .object(members.mapValues(\.mcpValue))
        }
    }

    /// A value from the MCP SDK.
    public init(mcp value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .data(let mimeType, let data): self = .string("data:\(mimeType ?? "application/octet-stream");base64,\(data.base64EncodedString())")
        case .array(let items): self = .array(items.map(JSONValue.init(mcp:)))
        case .object(let members): self = .object(members.mapValues(JSONValue.init(mcp:)))
        }
    }
}
