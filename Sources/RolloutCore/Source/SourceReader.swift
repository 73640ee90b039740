import Foundation

/// Typed reads from a `SourceNode` that collect every problem as a `Diagnostic` instead of stopping
/// at the first: the shared machinery of the policy and tenants decoders.
public struct SourceReader: Sendable {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String) {
        self.file = file
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public mutating func report(
        _ node: SourceNode, _ path: String, _ message: String, expected: String? = nil,
        severity: Diagnostic.Severity = .error
    ) {
        diagnostics.append(Diagnostic(
            file: file, line: node.line, column: node.column, path: path, message: message, expected: expected,
            severity: severity))
    }

    public mutating func report(
        _ entry: SourceEntry, _ path: String, _ message: String, expected: String? = nil,
        severity: Diagnostic.Severity = .error
    ) {
        diagnostics.append(Diagnostic(
            file: file, line: entry.line, column: entry.column, path: path, message: message, expected: expected,
            severity: severity))
    }

    public mutating func report(line: Int, column: Int, _ path: String, _ message: String, expected: String? = nil) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, path: path, message: message, expected: expected))
    }

    /// `base.key`, or `key` at the top.
    public static func join(_ base: String, _ key: String) -> String {
        base.isEmpty ? key : "\(base).\(key)"
    }

    /// The entries of a mapping; reports a non-mapping, and every key outside `allowed` (with the
    /// closest allowed key as a suggestion).
    public mutating func mapping(_ node: SourceNode, _ path: String, allowed: [String]? = nil) -> [SourceEntry]? {
        guard case .mapping(let entries) = node.kind else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "a mapping")
            return nil
        }
        if let allowed {
            for entry in entries where !allowed.contains(entry.key) {
                let suggestion = Self.closest(to: entry.key, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
                report(entry, Self.join(path, entry.key), "unknown key '\(entry.key)'\(suggestion)",
                       expected: "one of \(allowed.joined(separator: ", "))")
            }
        }
        return entries
    }

    public mutating func string(_ node: SourceNode, _ path: String, nonEmpty: Bool = true) -> String? {
        guard case .scalar(.string(let s)) = node.kind else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "a string")
            return nil
        }
        if nonEmpty, s.trimmingCharacters(in: .whitespaces).isEmpty {
            report(node, path, "is empty", expected: "a non-empty string")
            return nil
        }
        return s
    }

    public mutating func int(_ node: SourceNode, _ path: String, min: Int? = nil) -> Int? {
        guard case .scalar(.number(let d)) = node.kind, d.rounded() == d, abs(d) < 1e15 else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "an integer")
            return nil
        }
        let value = Int(d)
        if let min, value < min {
            report(node, path, "is \(value)", expected: "an integer of at least \(min)")
            return nil
        }
        return value
    }

    public mutating func number(_ node: SourceNode, _ path: String) -> Double? {
        guard case .scalar(.number(let d)) = node.kind, d.isFinite else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "a number")
            return nil
        }
        return d
    }

    public mutating func bool(_ node: SourceNode, _ path: String) -> Bool? {
        guard case .scalar(.bool(let b)) = node.kind else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "true or false")
            return nil
        }
        return b
    }

    /// One of `choices`, as a string.
    public mutating func choice(_ node: SourceNode, _ path: String, _ choices: [String]) -> String? {
        guard let s = string(node, path) else { return nil }
        guard choices.contains(s) else {
            let suggestion = Self.closest(to: s, in: choices).map { "; did you mean '\($0)'?" } ?? ""
            report(node, path, "'\(s)' is not allowed\(suggestion)", expected: "one of \(choices.joined(separator: ", "))")
            return nil
        }
        return s
    }

    public mutating func timeSpan(_ node: SourceNode, _ path: String) -> TimeSpan? {
        let text: String
        switch node.kind {
        case .scalar(.string(let s)): text = s
        case .scalar(.number(let d)): text = JSONValue.formatNumber(d)
        default:
            report(node, path, "is \(node.typeNameWithArticle)", expected: "a duration such as 30s, 15m, 1h or 7d")
            return nil
        }
        guard let span = TimeSpan(text) else {
            report(node, path, "'\(text)' is not a duration", expected: "a duration such as 30s, 15m, 1h or 7d")
            return nil
        }
        return span
    }

    /// A list of strings (a single string is not accepted: a list is explicit).
    public mutating func stringList(_ node: SourceNode, _ path: String) -> [String]? {
        guard case .sequence(let items) = node.kind else {
            report(node, path, "is \(node.typeNameWithArticle)", expected: "a list of strings")
            return nil
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            if let s = string(item, "\(path)[\(i)]") { out.append(s) }
        }
        return out
    }

    /// The allowed key nearest to `key` by edit distance, when it is near enough to be a typo.
    static func closest(to key: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, key.count / 3) ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
