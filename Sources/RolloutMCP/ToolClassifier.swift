import RolloutCore

/// Decides which of a server's tools write: the policy first, then MCP annotations, then the tool's
/// name, then its input schema. A write tool the policy does not describe is a coverage gap.
public enum ToolClassifier {
    public enum Kind: String, Sendable {
        case write, read
    }

    public struct Classified: Sendable {
        public var tool: MCPTool
        public var kind: Kind
        /// Why: "policy", "annotation", "name" or "schema".
        public var evidence: String
        /// The policy entries that describe it.
        public var entries: [String]
    }

    static let writeVerbs = ["create", "update", "delete", "remove", "set", "add", "insert", "issue", "refund", "cancel", "write", "modify",
                             "patch", "put", "post", "bulk", "upsert", "approve", "assign", "change", "send", "transfer", "grant", "revoke", "destroy", "drop", "edit"]
    static let readVerbs = ["get", "list", "query", "read", "search", "describe", "find", "count", "aggregate", "fetch", "show", "lookup", "schema", "view"]

    public static func classify(_ tools: [MCPTool], policy: Policy) -> [Classified] {
        tools.map { tool in
            let entries = policy.entries(forWireName: tool.name).map(\.name)
            if !entries.isEmpty { return Classified(tool: tool, kind: .write, evidence: "policy", entries: entries) }
            if tool.readOnlyHint == true { return Classified(tool: tool, kind: .read, evidence: "annotation", entries: []) }
            if tool.destructiveHint == true || tool.readOnlyHint == false { return Classified(tool: tool, kind: .write, evidence: "annotation", entries: []) }
            let words = tool.name.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
            if words.contains(where: { w in writeVerbs.contains { w.hasPrefix($0) } }) { return Classified(tool: tool, kind: .write, evidence: "name", entries: []) }
            if words.contains(where: { w in readVerbs.contains { w.hasPrefix($0) } }) { return Classified(tool: tool, kind: .read, evidence: "name", entries: []) }
            let properties = tool.inputSchema["properties"]?.objectValue?.keys.map { $0.lowercased() } ?? []
            if properties.contains(where: { ["data", "values", "fields", "changes", "patch", "updates"].contains($0) }) {
                return Classified(tool: tool, kind: .write, evidence: "schema", entries: [])
            }
            return Classified(tool: tool, kind: .read, evidence: "schema", entries: [])
        }
    }
}
