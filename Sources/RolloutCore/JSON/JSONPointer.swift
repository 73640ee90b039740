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

    /// Whether a token is `*`: the pointer then names every element of a list (`/payment_methods/*/amount`).
    public var hasWildcard: Bool { tokens.contains("*") }

    /// The value this pointer names in `document`, or nil when any step is missing. A pointer with a `*`
    /// token names a list: the values at that place in every element (elements that lack it are skipped).
    public func resolve(in document: JSONValue) -> JSONValue? {
        if hasWildcard {
            guard let matches = Self.resolveAll(tokens[...], in: document) else { return nil }
            return .array(matches)
        }
        var current = document
        for token in tokens {
            switch current {
            case .object(let members):
                guard let next = Self.member(token, of: members) else { return nil }
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

    private static func resolveAll(_ tokens: ArraySlice<String>, in document: JSONValue) -> [JSONValue]? {
        guard let head = tokens.first else { return [document] }
        let rest = tokens.dropFirst()
        switch document {
        case .array(let items) where head == "*":
            return items.flatMap { resolveAll(rest, in: $0) ?? [] }
        case .array(let items):
            guard let i = Int(head), items.indices.contains(i) else { return nil }
            return resolveAll(rest, in: items[i])
        case .object(let members):
            guard let next = member(head, of: members) else { return nil }
            return resolveAll(rest, in: next)
        default:
            return nil
        }
    }

    /// Whether `path` (a concrete place in a document, as tokens) lies at or under this pointer.
    /// `inList[k]` says whether step `k` is an index into a list: a `*` matches only such a step (a
    /// member of an object named "0" is not an element, and binding reads no `*` through an object).
    public func covers(_ path: [String], inList: [Bool]) -> Bool {
        guard path.count >= tokens.count else { return false }
        return matches(path, inList: inList)
    }

    /// Whether `path` lies strictly above this pointer (a container on the way to it); `inList` as for
    /// `covers`.
    public func passesThrough(_ path: [String], inList: [Bool]) -> Bool {
        guard path.count < tokens.count else { return false }
        return matches(path, inList: inList)
    }

    /// The member named exactly `name`, byte for byte. Swift's dictionary finds a member whose name is
    /// only canonically equivalent (`\u{212A}ey` for `Key`, a decomposed `é`), which the program behind
    /// the guard reads as another name: a value checked under the declared name would not be the one it
    /// uses. Such a member is none of the declared places, so `covers` leaves it unbound too.
    static func member(_ name: String, of members: [String: JSONValue]) -> JSONValue? {
        guard let index = members.index(forKey: name), members[index].key.hasSameBytes(as: name) else { return nil }
        return members[index].value
    }

    private func matches(_ path: [String], inList: [Bool]) -> Bool {
        for (k, (token, step)) in zip(tokens, path).enumerated() where !token.hasSameBytes(as: step) {
            guard token == "*", k < inList.count, inList[k], Int(step) != nil else { return false }
        }
        return true
    }

    /// `document` with the value at this pointer set to `value`, creating containers along the way: a
    /// list where the next token is an index (`/flights/0/date` builds `{"flights": [{"date": ...}]}`),
    /// an object otherwise. A `*` token sets the place in every element of the list.
    public func setting(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        Self.set(value, tokens: tokens[...], in: document)
    }

    private static func set(_ value: JSONValue, tokens: ArraySlice<String>, in document: JSONValue) -> JSONValue {
        guard let head = tokens.first else { return value }
        switch document {
        case .array(var items) where head == "*":
            // A list value spreads over the elements; anything else is set in each of them.
            if case .array(let values) = value, tokens.count == 1 { return .array(values) }
            if case .array(let values) = value {
                while items.count < values.count { items.append(.null) }
                for i in values.indices { items[i] = set(values[i], tokens: tokens.dropFirst(), in: items[i]) }
                return .array(items)
            }
            return .array(items.map { set(value, tokens: tokens.dropFirst(), in: $0) })
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
        case .null where head == "*" || head == "-" || Int(head) != nil:
            return set(value, tokens: tokens, in: .array([]))
        default:
            return .object([head: set(value, tokens: tokens.dropFirst(), in: .null)])
        }
    }

    /// Whether this place is an element of a list in `document`: its parent is an array there.
    public func isListElement(in document: JSONValue) -> Bool {
        guard !tokens.isEmpty else { return false }
        if case .array? = JSONPointer(tokens: Array(tokens.dropLast())).resolve(in: document) { return true }
        return false
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
