import Foundation
import RolloutCore

/// How an MCP server said no, for servers that say it differently: MCP's `isError`, a structured
/// `success: false` with an `error.code` (OrmAI), a `found: false` that changed nothing, or plain
/// text matching a pattern (the built-in ones and the policy's `mcp.refusal_patterns`).
///
/// Many servers repeat the row they wrote in their answer, so the answer holds values the agent chose.
/// Those never count as the server's word: a pattern that matches only inside a string the agent sent,
/// or a structured member that repeats one the agent sent, is not a refusal (an agent must not make a
/// write that happened look refused). The reverse stays open to words alone: a refusal that quotes the
/// agent's own sentence back reads as its echo, so a guard records what was done only with `--observe`,
/// which checks the database after every answer. A `status` counts as pending only when it speaks of
/// approval: `pending` alone is a row's own state ("only pending orders").
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

    /// What the server's answer to a call with arguments `sent` says became of it.
    public func classify(_ result: MCPToolResult, sent: JSONValue = .null) -> Answer {
        let agent = SentValues(sent)
        // Structured content first; a text that is JSON counts as structured.
        let structured = result.structured ?? (try? JSONValue.parse(result.text))
        if result.isError {
            let code = structured?["error"]?["code"]?.stringValue ?? structured?["jsonrpc_error"].map(\.canonicalText) ?? "isError"
            return .refused(code: code, message: Self.message(result, structured))
        }
        if let structured, case .object = structured {
            /// A top-level member as the server's own word: nil when it repeats a member the agent sent.
            func own(_ key: String, in object: JSONValue = structured) -> JSONValue? {
                guard let value = object[key], !agent.sent(key, value) else { return nil }
                return value
            }
            if own("success") == .bool(false) || own("ok") == .bool(false) {
                return .refused(code: structured["error"]?["code"]?.stringValue ?? structured["code"]?.stringValue ?? "success_false",
                                message: Self.message(result, structured))
            }
            if own("found") == .bool(false) || structured["data"].flatMap({ own("found", in: $0) }) == .bool(false) {
                return .refused(code: "not_found", message: "the server says it found no such row")
            }
            // "success" with nothing done: updated_count 0, affected_rows 0 and the like.
            if let count = Self.zeroCount(structured["data"] ?? structured, agent: agent) {
                return .refused(code: "nothing_changed", message: "the server says it changed nothing (\(count) = 0)")
            }
            if let decision = own("decision")?.stringValue, Self.notExecutedDecisions.contains(decision) {
                return .notExecuted(code: decision, message: Self.message(result, structured))
            }
            for key in ["status", "decision"] {
                if let status = own(key)?.stringValue, Self.speaksOfApproval(status) { return .pending(Self.message(result, structured)) }
            }
        }
        // A text that is JSON is read as the values it holds: the agent's strings are found there as sent,
        // however the server escaped them (`\u00e9` for `é`, as Python's `json.dumps` writes it).
        if let textValue = try? JSONValue.parse(result.text) {
            if Self.matches(pending, in: textValue, outside: agent) { return .pending(Self.message(result, structured)) }
        } else if Self.matches(pending, result.text, outside: agent) {
            return .pending(Self.message(result, structured))
        }
        if structured == nil, Self.matches(patterns, result.text, outside: agent) {
            return .refused(code: "refusal_text", message: String(result.text.prefix(200)))
        }
        return .accepted
    }

    /// Whether a status value says the write waits for an approval (`pending_approval`,
    /// `awaiting-approval`, `Approval required`...).
    static func speaksOfApproval(_ status: String) -> Bool {
        let words = status.lowercased().map { $0.isLetter ? $0 : " " }
        let text = String(words).split(separator: " ").joined(separator: " ")
        let range = NSRange(text.startIndex..., in: text)
        return pendingExpressions.contains { $0.firstMatch(in: text, range: range) != nil }
    }

    private static let pendingExpressions = pendingPatterns.compactMap { try? NSRegularExpression(pattern: $0) }

    /// Whether one of `expressions` matches `text` somewhere that is not inside a string the agent sent.
    static func matches(_ expressions: [NSRegularExpression], _ text: String, outside agent: SentValues) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        let quoted = agent.occurrences(in: text)
        for expression in expressions {
            for match in expression.matches(in: text, range: range)
            where !quoted.contains(where: { NSIntersectionRange($0, match.range) == match.range && match.range.length > 0 }) {
                return true
            }
        }
        return false
    }

    /// Whether one of `expressions` matches a member name or a string of `value`, at any depth, somewhere
    /// that is not inside a string the agent sent.
    static func matches(_ expressions: [NSRegularExpression], in value: JSONValue, outside agent: SentValues) -> Bool {
        switch value {
        case .string(let text): return matches(expressions, text, outside: agent)
        case .array(let items): return items.contains { matches(expressions, in: $0, outside: agent) }
        case .object(let members):
            return members.contains { key, member in matches(expressions, key, outside: agent) || matches(expressions, in: member, outside: agent) }
        default: return false
        }
    }

    /// The name of a count of changed rows that is zero, when the answer has one and no nonzero one
    /// (members that repeat what the agent sent do not count).
    static func zeroCount(_ value: JSONValue, agent: SentValues = SentValues(.null)) -> String? {
        guard case .object(let members) = value else { return nil }
        let counts = members.filter { key, v in
            let k = key.lowercased()
            return v.doubleValue != nil && (k.hasSuffix("_count") || k.hasPrefix("affected") || k == "updated" || k == "deleted" || k == "rows_affected")
                && !k.contains("failed") && !agent.sent(key, v)
        }
        guard !counts.isEmpty, counts.allSatisfy({ $0.value.doubleValue == 0 }) else { return nil }
        return counts.keys.sorted().first
    }

    static func message(_ result: MCPToolResult, _ structured: JSONValue?) -> String {
        structured?["error"]?["message"]?.stringValue ?? structured?["message"]?.stringValue ?? String(result.text.prefix(200))
    }
}

/// The values an agent put in a call's arguments, to tell them apart from the server's own words in
/// its answer: each string and member name (as sent, as a JSON text writes it, and with every character
/// beyond ASCII as a `\u` escape, as `json.dumps` and other ASCII-only writers do), and each member
/// (name and value) at any depth.
struct SentValues: Sendable {
    private var strings: [String] = []
    private var members: Set<String> = []

    init(_ arguments: JSONValue) {
        collect(arguments)
        strings = Array(Set(strings))
    }

    private mutating func collect(_ value: JSONValue) {
        switch value {
        case .string(let text):
            add(text)
        case .array(let items):
            items.forEach { collect($0) }
        case .object(let object):
            for (key, member) in object {
                members.insert(key + "\u{0}" + member.canonicalText)
                add(key)
                collect(member)
            }
        default:
            break
        }
    }

    /// A string the agent sent, in each form an answer may quote it in.
    private mutating func add(_ text: String) {
        guard !text.isEmpty else { return }
        strings.append(text)
        let escaped = String(JSONValue.string(text).canonicalText.dropFirst().dropLast())
        if escaped != text { strings.append(escaped) }
        guard escaped.unicodeScalars.contains(where: { !$0.isASCII }) else { return }
        for digits in ["0123456789abcdef", "0123456789ABCDEF"] {
            strings.append(Self.asciiOnly(escaped, digits: Array(digits)))
        }
    }

    /// `text` with every scalar beyond ASCII written as `\uXXXX` (a pair of them beyond U+FFFF).
    static func asciiOnly(_ text: String, digits: [Character]) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            guard !scalar.isASCII else {
                out.unicodeScalars.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                out += "\\u"
                for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int(unit >> UInt16(shift)) & 0xF]) }
            }
        }
        return out
    }

    /// Whether the agent sent a member `key` with this value.
    func sent(_ key: String, _ value: JSONValue) -> Bool {
        members.contains(key + "\u{0}" + value.canonicalText)
    }

    /// Where the agent's strings occur in `text`, as ranges of its UTF-16 units.
    func occurrences(in text: String) -> [NSRange] {
        let whole = text as NSString
        var found: [NSRange] = []
        for string in strings {
            var from = 0
            while from < whole.length {
                let hit = whole.range(of: string, options: [.literal], range: NSRange(location: from, length: whole.length - from))
                guard hit.location != NSNotFound else { break }
                found.append(hit)
                from = hit.location + max(1, hit.length)
            }
        }
        return found
    }
}
