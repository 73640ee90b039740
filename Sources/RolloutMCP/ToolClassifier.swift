import RolloutCore

/// Suggests whether a server's tool reads or writes, from its MCP annotations, its name and its input
/// schema. Only a suggestion, for people: `rollout init --from-mcp` and lint show it, and nothing lets a
/// call through because of it (the policy describes every tool, or the guard refuses it).
public enum ToolClassifier {
    public enum Kind: String, Sendable {
        case write, read
    }

    public struct Suggestion: Sendable, Hashable {
        public var kind: Kind
        /// Why: "annotation", "name" or "schema".
        public var evidence: String
    }

    static let writeVerbs = ["create", "update", "delete", "remove", "set", "add", "insert", "issue", "refund", "cancel", "write", "modify",
                             "patch", "put", "post", "bulk", "upsert", "approve", "assign", "change", "send", "transfer", "grant", "revoke",
                             "destroy", "drop", "edit", "purge", "archive", "run", "exec", "execute", "sql", "import", "reset", "move",
                             "merge", "restore", "return", "exchange", "book", "pay", "charge", "submit", "publish", "toggle", "enable", "disable"]
    static let readVerbs = ["get", "list", "query", "read", "search", "describe", "find", "count", "aggregate", "fetch", "show", "lookup", "schema", "view", "calculate"]

    public static func suggest(_ tool: MCPTool) -> Suggestion {
        if tool.destructiveHint == true || tool.readOnlyHint == false { return Suggestion(kind: .write, evidence: "annotation") }
        let words = NameWords.split(tool.name)
        // A write verb anywhere wins over a read verb: `get_or_purge_order` writes.
        if words.contains(where: { w in writeVerbs.contains(w) || writeVerbs.contains { w.hasPrefix($0) && w.count > $0.count + 1 } }) {
            return Suggestion(kind: .write, evidence: "name")
        }
        let properties = tool.inputSchema["properties"]?.objectValue?.keys.map { $0.lowercased() } ?? []
        if properties.contains(where: { ["data", "values", "fields", "changes", "patch", "updates", "sql", "statement"].contains($0) }) {
            return Suggestion(kind: .write, evidence: "schema")
        }
        if tool.readOnlyHint == true { return Suggestion(kind: .read, evidence: "annotation") }
        if words.contains(where: { w in readVerbs.contains(w) }) { return Suggestion(kind: .read, evidence: "name") }
        // Unknown: suggest the cautious reading.
        return Suggestion(kind: .write, evidence: "name (no read verb)")
    }
}
