import Foundation

/// An RFC 6901 JSON Pointer (`/data/amount_cents`): how a policy's `bind` names where a tool's MCP
/// arguments hold the target keys, the fields, the reason and the idempotency key.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens; empty for the whole document.
    public let tokens: [String]

    /// Parses `text`; nil unless it is empty or starts with "/".
    public init?(_ text: String) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { return nil }
        var parsed: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            // "~1" before "~0", as RFC 6901 section 4 says.
            parsed.append(raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~"))
        }
        tokens = parsed
    }

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    /// The value this pointer names in `document`, or nil when any step is missing.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let i = Int(token), items.indices.contains(i) else { return nil }
                current = items[i]
            default:
                return nil
            }
        }
        return current
    }

    /// `document` with the value at this pointer set to `value`, creating objects along the way.
    public func setting(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        Self.set(value, tokens: tokens[...], in: document)
    }

    private static func set(_ value: JSONValue, tokens: ArraySlice<String>, in document: JSONValue) -> JSONValue {
        guard let head = tokens.first else { return value }
        switch document {
        case .array(var items):
            if let i = Int(head), items.indices.contains(i) {
                items[i] = set(value, tokens: tokens.dropFirst(), in: items[i])
                return .array(items)
            }
            if head == "-" || Int(head) == items.count {
                items.append(set(value, tokens: tokens.dropFirst(), in: .null))
                return .array(items)
            }
            return document
        case .object(var members):
            members[head] = set(value, tokens: tokens.dropFirst(), in: members[head] ?? .null)
            return .object(members)
        default:
            return .object([head: set(value, tokens: tokens.dropFirst(), in: .null)])
        }
    }

    /// `document` without the value at this pointer (unchanged when it is not there).
    public func removing(from document: JSONValue) -> JSONValue {
        Self.remove(tokens: tokens[...], from: document)
    }

    private static func remove(tokens: ArraySlice<String>, from document: JSONValue) -> JSONValue {
        guard let head = tokens.first else { return .null }
        switch document {
        case .object(var members):
            if tokens.count == 1 {
                members[head] = nil
            } else if let child = members[head] {
                members[head] = remove(tokens: tokens.dropFirst(), from: child)
            }
            return .object(members)
        case .array(var items):
            guard let i = Int(head), items.indices.contains(i) else { return document }
            if tokens.count == 1 {
                items.remove(at: i)
            } else {
                items[i] = remove(tokens: tokens.dropFirst(), from: items[i])
            }
            return .array(items)
        default:
            return document
        }
    }
}
