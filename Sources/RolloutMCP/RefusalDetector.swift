import Foundation
import RolloutCore

/// How an MCP server said no, for servers that say it differently: MCP's `isError`, a structured
/// `success: false` with an `error.code` (OrmAI), a `found: false` that changed nothing, or plain
/// text matching a pattern (the built-in ones and the policy's `mcp.refusal_patterns`).
public struct RefusalDetector: Sendable {
    public enum Answer: Sendable, Hashable {
        case accepted
        case pending(String)
        /// Taken but not executed: a dry run, a shadow record, an answer replayed from an idempotency
        /// ledger (what `rollout guard` answers with its `decision`).
        case notExecuted(code: String, message: String)
        case refused(code: String, message: String)
    }

    /// Decisions that say the call was taken and nothing was written.
    static let notExecutedDecisions: Set<String> = ["dry_run", "shadowed", "replayed"]

    let patterns: [NSRegularExpression]
    static let builtIn = [
        #"(?i)\b(permission denied|access denied|denied|forbidden|not allowed|not permitted|unauthori[sz]ed|refused|rejected)\b"#,
        #"(?i)^\s*error\b"#,
    ]
    static let pendingPatterns = [#"(?i)\b(pending approval|requires? approval|awaiting approval|approval required)\b"#]
    let pending: [NSRegularExpression]

    public init(policyPatterns: [String] = []) {
        patterns = (Self.builtIn + policyPatterns).compactMap { try? NSRegularExpression(pattern: $0) }
        pending = Self.pendingPatterns.compactMap { try? NSRegularExpression(pattern: $0) }
    }

    public func classify(_ result: MCPToolResult) -> Answer {
        // Structured content first; a text that is JSON counts as structured.
        let structured = result.structured ?? (try? JSONValue.parse(result.text))
        if result.isError {
            let code = structured?["error"]?["code"]?.stringValue ?? structured?["jsonrpc_error"].map(\.canonicalText) ?? "isError"
            return .refused(code: code, message: Self.message(result, structured))
        }
        if let structured, case .object = structured {
            if structured["success"] == .bool(false) || structured["ok"] == .bool(false) {
                return .refused(code: structured["error"]?["code"]?.stringValue ?? structured["code"]?.stringValue ?? "success_false",
                                message: Self.message(result, structured))
            }
            if structured["found"] == .bool(false) || structured["data"]?["found"] == .bool(false) {
                return .refused(code: "not_found", message: "the server says it found no such row")
            }
            // "success" with nothing done: updated_count 0, affected_rows 0 and the like.
            if let count = Self.zeroCount(structured["data"] ?? structured) {
                return .refused(code: "nothing_changed", message: "the server says it changed nothing (\(count) = 0)")
            }
            if let decision = structured["decision"]?.stringValue, Self.notExecutedDecisions.contains(decision) {
                return .notExecuted(code: decision, message: Self.message(result, structured))
            }
            if let status = structured["status"]?.stringValue ?? structured["decision"]?.stringValue, status.lowercased().hasPrefix("pending") {
                return .pending(Self.message(result, structured))
            }
        }
        let range = NSRange(result.text.startIndex..., in: result.text)
        if pending.contains(where: { $0.firstMatch(in: result.text, range: range) != nil }) { return .pending(Self.message(result, structured)) }
        if structured == nil, patterns.contains(where: { $0.firstMatch(in: result.text, range: range) != nil }) {
            return .refused(code: "refusal_text", message: String(result.text.prefix(200)))
        }
        return .accepted
    }

    /// The name of a count of changed rows that is zero, when the answer has one and no nonzero one.
    static func zeroCount(_ value: JSONValue) -> String? {
        guard case .object(let members) = value else { return nil }
        let counts = members.filter { key, v in
            let k = key.lowercased()
            return v.doubleValue != nil && (k.hasSuffix("_count") || k.hasPrefix("affected") || k == "updated" || k == "deleted" || k == "rows_affected")
                && !k.contains("failed")
        }
        guard !counts.isEmpty, counts.allSatisfy({ $0.value.doubleValue == 0 }) else { return nil }
        return counts.keys.sorted().first
    }

    static func message(_ result: MCPToolResult, _ structured: JSONValue?) -> String {
        structured?["error"]?["message"]?.stringValue ?? structured?["message"]?.stringValue ?? String(result.text.prefix(200))
    }
}
