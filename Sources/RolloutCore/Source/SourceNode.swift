import Foundation
import Yams

/// A YAML (or JSON) document as a tree whose every node knows its line and column, so that a
/// decoder can say exactly where a field is wrong. Scalars are typed with YAML 1.2's core schema:
/// only `true`/`false` are booleans, so a stage named `off` or a value `no` stays a string.
public struct SourceNode: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case scalar(JSONValue)
        case sequence([SourceNode])
        case mapping([SourceEntry])
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    public init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// The node as plain JSON, positions dropped.
    public var json: JSONValue {
        switch kind {
        case .scalar(let value): value
        case .sequence(let items): .array(items.map(\.json))
        case .mapping(let entries):
            .object(Dictionary(entries.map { ($0.key, $0.value.json) }, uniquingKeysWith: { _, last in last }))
        }
    }

    /// The entry for `key` when this node is a mapping.
    public subscript(key: String) -> SourceEntry? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries.first { $0.key == key }
    }

    /// A short name of the node's type for error messages.
    public var typeName: String {
        switch kind {
        case .scalar(let value): value.typeName
        case .sequence: "list"
        case .mapping: "mapping"
        }
    }

    /// `typeName` with its article, for messages: "an integer", "a mapping".
    public var typeNameWithArticle: String { JSONValue.withArticle(typeName) }
}

/// A key of a mapping with its own position and its value.
public struct SourceEntry: Sendable, Hashable {
    public var key: String
    public var line: Int
    public var column: Int
    public var value: SourceNode
}

/// Reads text into a `SourceNode`.
public enum SourceDocument {
    /// YAML 1.2 core schema booleans, nulls, integers and floats.
    private static let resolver: Resolver = {
        // Patterns are constants; a failure here is a bug in this file.
        // swiftlint:disable force_try
        try! Resolver.basic
            .appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
            .appending(.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
            .appending(.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$")
            .appending(.null, "^(?:~|null|Null|NULL|)$")
        // swiftlint:enable force_try
    }()

    /// Parses `text` (YAML or JSON). An empty document gives nil. Syntax errors are thrown as
    /// `UnreadableInputError` naming `file`, line and column.
    public static func parse(_ text: String, file: String) throws -> SourceNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver, .default)
        } catch let error as YamlError {
            throw UnreadableInputError(diagnostic(for: error, file: file))
        }
        guard let root else { return nil }
        var budget = maxNodes
        return try convert(root, file: file, budget: &budget)
    }

    /// The most values a document may expand to. YAML aliases can make a one-kilobyte file mean a
    /// billion values (the "billion laughs"); a policy or tenants file has a few thousand at most.
    public static let maxNodes = 200_000

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws -> SourceNode? {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw UnreadableInputError(Diagnostic(
                file: path, line: 0, column: 0, path: "",
                message: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw UnreadableInputError(Diagnostic(file: path, line: 0, column: 0, path: "", message: "the file is not UTF-8 text"))
        }
        return try parse(text, file: path)
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return Diagnostic(file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax: \(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                file: file, line: context.mark.line, column: context.mark.column, path: "",
                message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        case .reader(let problem, let offset, _, _):
            return Diagnostic(file: file, line: 0, column: 0, path: "", message: "cannot read: \(problem) at byte \(offset ?? 0)")
        default:
            return Diagnostic(file: file, line: 0, column: 0, path: "", message: "YAML: \(error)")
        }
    }

    /// The tags a node may carry: YAML's core schema, and what Yams resolves a plain scalar to (a time, `<<`,
    /// `=`). Any other (`!t`, `!!t`, `!!binary`) is refused.
    static let readTags: Set<String> = Set(["str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge", "value"].map { "tag:yaml.org,2002:" + $0 })

    private static func convert(_ node: Node, file: String, budget: inout Int) throws -> SourceNode {
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        budget -= 1
        // An application tag (`!t acme`) makes another key to YAML, the same text to every reader here: two
        // entries for one tenant, the second's `paused: false` hidden behind the first's `true`.
        if !Self.readTags.contains(node.tag.description) {
            throw UnreadableInputError(Diagnostic(
                file: file, line: line, column: column, path: "",
                message: "the YAML tag '\(node.tag.description)' is not read here; write the value without it"))
        }
        if budget < 0 {
            throw UnreadableInputError(Diagnostic(
                file: file, line: line, column: column, path: "",
                message: "the document expands to more than \(maxNodes) values (YAML aliases repeated within each other?); rollout reads at most that"))
        }
        switch node {
        case .scalar(let scalar):
            return SourceNode(kind: .scalar(scalarValue(scalar, node: node)), line: line, column: column)
        case .sequence(let sequence):
            var items: [SourceNode] = []
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return SourceNode(kind: .sequence(items), line: line, column: column)
        case .mapping(let mapping):
            var entries: [SourceEntry] = []
            var seen: Set<String> = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw UnreadableInputError(Diagnostic(
                        file: file, line: key.mark?.line ?? line, column: key.mark?.column ?? column, path: "",
                        message: "a mapping key must be a plain scalar"))
                }
                // Its tag too: YAML's own check of duplicate keys tells `!t acme` from `acme`.
                _ = try convert(key, file: file, budget: &budget)
                // And by text: YAML tells `1001` (an int) from `"1001"` (a string) too, which are one name to every reader here.
                guard seen.insert(keyScalar.string).inserted else {
                    throw UnreadableInputError(Diagnostic(
                        file: file, line: key.mark?.line ?? line, column: key.mark?.column ?? column, path: "",
                        message: "duplicate key '\(keyScalar.string)' in one mapping (written twice, as another type or in another Unicode form)"))
                }
                entries.append(SourceEntry(
                    key: keyScalar.string, line: key.mark?.line ?? line, column: key.mark?.column ?? column,
                    value: try convert(value, file: file, budget: &budget)))
            }
            return SourceNode(kind: .mapping(entries), line: line, column: column)
        case .alias(let alias):
            throw UnreadableInputError(Diagnostic(
                file: file, line: alias.mark?.line ?? line, column: alias.mark?.column ?? column, path: "",
                message: "YAML aliases are not supported here; write the value out"))
        }
    }

    private static func scalarValue(_ scalar: Node.Scalar, node: Node) -> JSONValue {
        if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal
            || scalar.style == .folded
        {
            return .string(scalar.string)
        }
        switch Tag.Name(rawValue: node.tag.description) {
        case .null: return .null
        case .bool: return .bool(scalar.string.lowercased() == "true")
        case .int:
            let s = scalar.string
            if s.hasPrefix("0x"), let v = Int(s.dropFirst(2), radix: 16) { return .number(Double(v)) }
            if s.hasPrefix("0o"), let v = Int(s.dropFirst(2), radix: 8) { return .number(Double(v)) }
            return Double(s).map(JSONValue.number) ?? .string(s)
        case .float:
            let s = scalar.string.lowercased()
            if s.hasSuffix(".nan") { return .number(.nan) }
            if s.hasSuffix(".inf") { return .number(s.hasPrefix("-") ? -.infinity : .infinity) }
            return Double(s).map(JSONValue.number) ?? .string(scalar.string)
        default:
            return .string(scalar.string)
        }
    }
}
