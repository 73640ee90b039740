/// Why a JsonLogic rule was rejected when it was compiled.
public struct JsonLogicError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the rule, as a JSON pointer into the rule document.
    public var pointer: String
    public var message: String

    public var description: String { pointer.isEmpty ? message : "\(message) (at \(pointer))" }
}

/// A compiled JsonLogic rule (jsonlogic.com), the condition language of policies and of flagd
/// targeting. Compiling checks every operator once, so evaluation cannot fail: it follows the
/// reference implementation (json-logic-js), JavaScript's loose comparisons included.
public struct JsonLogicRule: Sendable, Hashable {
    /// The rule as written.
    public let source: JSONValue
    let root: JsonLogicNode
    /// The members of its top-level data the rule can read (`after` for `{"var": "after.status"}`), or
    /// nil when it can read any: a name computed without a literal root, or the whole data (`{"var": ""}`).
    /// Whoever builds the data may leave every other member out: the rule's value is the same.
    public let dataRoots: Set<String>?

    /// Compiles `rule`, rejecting unknown operators and malformed arguments.
    public init(_ rule: JSONValue) throws(JsonLogicError) {
        source = rule
        root = try JsonLogicNode.compile(rule, pointer: "")
        dataRoots = Self.dataRoots(of: root)
    }

    /// The first part of every name the rule reads from its data, literal or computed; nil when one is
    /// unknown or empty (a name starting with a dot reads the member named "").
    static func dataRoots(of root: JsonLogicNode) -> Set<String>? {
        var names: [String] = []
        root.collectRootVariables(into: &names)
        var runTime: [String?] = []
        root.collectRunTimeRoots(into: &runTime)
        var roots = Set<String>()
        for name in names.map(Optional.some) + runTime {
            guard let first = name?.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first, !first.isEmpty else { return nil }
            roots.insert(String(first))
        }
        return roots
    }

    /// Evaluates the rule over `data`.
    public func evaluate(_ data: JSONValue) -> JSONValue {
        root.evaluate(data)
    }

    /// Evaluates the rule and applies JsonLogic truthiness to the result.
    public func isTruthy(_ data: JSONValue) -> Bool {
        JSSemantics.truthy(root.evaluate(data))
    }

    /// Every variable the rule reads from its top-level data with a literal name (`after.amount_cents`),
    /// through `var`, `missing` and `missing_some`. Variables inside the per-item logic of `map`,
    /// `filter`, `reduce`, `all`, `none` and `some` name the item, not the data, and are left out.
    public var rootVariables: [String] {
        var names: [String] = []
        root.collectRootVariables(into: &names)
        return names
    }

    /// The literal paths the rule reads with `var` from its top-level data and no default (`lookup.order.status`,
    /// split at its dots), outside per-item logic: what the rule takes to be there. A default, `missing`
    /// and `missing_some` say what absence means; these do not.
    public var rootPathsWithoutDefault: [[String]] {
        var paths: [[String]] = []
        root.visitTopLevel { node in
            if case .path(let parts, fallback: nil) = node { paths.append(parts) }
        }
        return paths
    }

    /// What `var` finds at `parts` in `data` (nil where it finds nothing and would give its default).
    public static func value(at parts: [String], in data: JSONValue) -> JSONValue? {
        JsonLogicNode.lookup(parts, in: data)
    }

    /// The variables of the top-level data the rule names only as it runs, outside per-item logic: a
    /// `var` whose name is computed (`{"cat": ["lookup.user.", {"var": "args.id"}]}`) or empty (the
    /// whole data), and `missing` or `missing_some` over a computed list. For each, the root its name
    /// starts with where a literal first part says so (`lookup`), else nil: it may read any variable.
    public var runTimeVariableRoots: [String?] {
        var roots: [String?] = []
        root.collectRunTimeRoots(into: &roots)
        return roots
    }
}

/// The operators of JsonLogic's reference implementation.
enum JsonLogicOperator: String, Sendable, CaseIterable {
    case variable = "var"
    case missing
    case missingSome = "missing_some"
    case ifThen = "if"
    case ternary = "?:"
    case equal = "=="
    case strictEqual = "==="
    case notEqual = "!="
    case strictNotEqual = "!=="
    case not = "!"
    case truthy = "!!"
    case or
    case and
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case max
    case min
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case modulo = "%"
    case cat
    case substr
    case `in`
    case merge
    case map
    case filter
    case reduce
    case all
    case none
    case some
    case log
}

/// A node of a compiled rule.
indirect enum JsonLogicNode: Sendable, Hashable {
    case literal(JSONValue)
    case array([JsonLogicNode])
    /// `var` with a literal dotted path, split once at compile time.
    case path([String], fallback: JsonLogicNode?)
    case operation(JsonLogicOperator, [JsonLogicNode])

    static func compile(_ rule: JSONValue, pointer: String) throws(JsonLogicError) -> JsonLogicNode {
        switch rule {
        case .array(let items):
            var nodes: [JsonLogicNode] = []
            nodes.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                nodes.append(try compile(item, pointer: "\(pointer)/\(i)"))
            }
            if nodes.allSatisfy({ if case .literal = $0 { true } else { false } }) {
                return .literal(rule)
            }
            return .array(nodes)
        case .object(let members) where members.count == 1:
            let (name, argument) = members.first!
            let here = "\(pointer)/\(name)"
            guard let op = JsonLogicOperator(rawValue: name) else {
                throw JsonLogicError(pointer: pointer, message: "unknown operator \"\(name)\"")
            }
            let rawArguments: [JSONValue]
            if case .array(let items) = argument {
                rawArguments = items
            } else {
                rawArguments = [argument]
            }
            var arguments: [JsonLogicNode] = []
            for (i, item) in rawArguments.enumerated() {
                arguments.append(try compile(item, pointer: "\(here)/\(i)"))
            }
            if op == .variable, let first = arguments.first, case .literal(let name) = first {
                switch name {
                case .string(let s) where !s.isEmpty:
                    return .path(s.split(separator: ".", omittingEmptySubsequences: false).map(String.init),
                                 fallback: arguments.count > 1 ? arguments[1] : nil)
                case .number(let n):
                    return .path([JSSemantics.toString(.number(n))], fallback: arguments.count > 1 ? arguments[1] : nil)
                default:
                    break
                }
            }
            if op == .substr, arguments.isEmpty {
                throw JsonLogicError(pointer: here, message: "\"substr\" needs a string argument")
            }
            return .operation(op, arguments)
        default:
            return .literal(rule)
        }
    }

    /// Calls `visit` with this node and every node below it that reads the top-level data: all but
    /// the per-item logic of `map`, `filter`, `reduce`, `all`, `none` and `some`, which reads the item
    /// (only their collection, and reduce's initial value, read the data).
    func visitTopLevel(_ visit: (JsonLogicNode) -> Void) {
        visit(self)
        switch self {
        case .literal:
            break
        case .array(let nodes):
            for node in nodes { node.visitTopLevel(visit) }
        case .path(_, let fallback):
            fallback?.visitTopLevel(visit)
        case .operation(let op, let arguments):
            switch op {
            case .map, .filter, .reduce, .all, .none, .some:
                arguments.first?.visitTopLevel(visit)
                if op == .reduce, arguments.count > 2 { arguments[2].visitTopLevel(visit) }
            default:
                for argument in arguments { argument.visitTopLevel(visit) }
            }
        }
    }

    func collectRootVariables(into names: inout [String]) {
        visitTopLevel { node in
            switch node {
            case .path(let parts, _):
                names.append(parts.joined(separator: "."))
            case .operation(.missing, let arguments):
                for argument in arguments { Self.literalNames(argument, into: &names) }
            case .operation(.missingSome, let arguments) where arguments.count > 1:
                Self.literalNames(arguments[1], into: &names)
            default:
                break
            }
        }
    }

    func collectRunTimeRoots(into roots: inout [String?]) {
        visitTopLevel { node in
            switch node {
            case .operation(.variable, let arguments):
                // Compiled as an operation only when its name is not a literal path: computed, or empty.
                roots.append(arguments.first.flatMap(Self.literalRoot))
            case .operation(.missing, let arguments):
                for argument in arguments where !argument.isLiteral { roots.append(Self.literalRoot(argument)) }
            case .operation(.missingSome, let arguments) where arguments.count > 1 && !arguments[1].isLiteral:
                roots.append(Self.literalRoot(arguments[1]))
            default:
                break
            }
        }
    }

    private var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }

    /// The root of a computed name whose first part is a literal holding a dot (`cat` of
    /// "lookup.user.", …), else nil.
    private static func literalRoot(_ node: JsonLogicNode) -> String? {
        guard case .operation(.cat, let parts) = node, case .literal(.string(let first))? = parts.first,
              let dot = first.firstIndex(of: "."), dot != first.startIndex else { return nil }
        return String(first[..<dot])
    }

    /// The names a literal argument of `missing` or `missing_some` lists (a computed one is visited as a node).
    private static func literalNames(_ node: JsonLogicNode, into names: inout [String]) {
        guard case .literal(let value) = node else { return }
        switch value {
        case .string(let s): names.append(s)
        case .array(let items): names.append(contentsOf: items.compactMap(\.stringValue))
        default: break
        }
    }
}
