/// What a condition of one tool can read: the variables every condition sees (`tool, tenant, actor,
/// subject, args, before, after, rows, lookup, now`) and, below them, the arguments the tool declares,
/// its model's fields and its lookups. Lint rejects a `var` path outside it, so a misspelled
/// `after.stauts` is an error instead of a condition that silently never holds.
public struct ConditionScope: Sendable {
    /// The variables every condition sees.
    public static let roots: [String] = ["tool", "tenant", "actor", "subject", "args", "before", "after", "rows", "lookup", "now"]

    /// The shape of a value a path walks through.
    indirect enum Shape: Sendable {
        /// Anything below is accepted: an upstream's answer, whose shape the policy does not declare.
        case any
        /// A value with nothing below it.
        case scalar
        /// The members of a mapping by name.
        case object([String: Shape])
        /// A value with a field rule (lists and objects have rules below them).
        case rule(FieldRule)
        /// The fields of a model by name (a row, or a binding's object of field values).
        case model(ModelPolicy)
    }

    let args: Shape
    let row: Shape
    let lookups: Set<String>

    /// The scope of a write tool's conditions.
    public init(tool: ToolPolicy, model: ModelPolicy) {
        var tree: [String: Shape] = [:]
        func insert(_ tokens: ArraySlice<String>, _ leaf: Shape, into shape: Shape) -> Shape {
            guard let head = tokens.first else { return leaf }
            var members: [String: Shape] = [:]
            if case .object(let existing) = shape { members = existing }
            // `*` and indices walk into list elements: model them as any member name.
            let key = head == "*" || Int(head) != nil ? "*" : head
            members[key] = insert(tokens.dropFirst(), leaf, into: members[key] ?? .object([:]))
            return .object(members)
        }
        var root = Shape.object(tree)
        let b = tool.binding
        for pointer in [b.model, b.target, b.targets, b.reason, b.idempotencyKey, b.dryRun, tool.principalField].compactMap({ $0 }) {
            root = insert(pointer.tokens[...], .scalar, into: root)
        }
        switch b.fields {
        case .object(let pointer): root = insert(pointer.tokens[...], .model(model), into: root)
        case .each(let map):
            for (field, pointer) in map {
                root = insert(pointer.tokens[...], model.field(field).map(Shape.rule) ?? .scalar, into: root)
            }
        }
        for rule in tool.arguments { root = insert([rule.name][...], .rule(rule), into: root) }
        for name in tool.guardArguments { root = insert([name][...], .scalar, into: root) }
        if case .object(let members) = root { tree = members }
        args = .object(tree)
        row = tool.beforeLookup == nil ? .model(model) : .any
        lookups = Set(tool.lookups.map(\.name))
    }

    /// The scope of a read's rules: its answer is `after`, of any shape.
    public init(read: ReadPolicy) {
        args = .any
        row = .any
        lookups = []
    }

    /// Why the condition variable `path` (dotted, as `var` takes it) cannot be read, or nil when it can.
    public func problem(_ path: String) -> String? {
        if path.isEmpty { return nil }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let root = parts[0]
        let rest = parts.dropFirst()
        switch root {
        case "tool", "tenant", "actor", "subject", "rows", "now":
            return rest.isEmpty ? nil : "'\(root)' is a single value; '\(path)' reads below it"
        case "args": return Self.walk(rest, args, at: "args")
        case "before", "after": return Self.walk(rest, row, at: root)
        case "lookup":
            guard let name = rest.first else { return nil }
            guard lookups.contains(name) else {
                let known = lookups.sorted()
                let suggestion = SourceReader.closest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""
                return "'\(path)' reads a lookup '\(name)' the tool does not declare\(suggestion)" + (known.isEmpty ? " (it declares no lookups)" : "")
            }
            return nil
        default:
            let suggestion = SourceReader.closest(to: root, in: Self.roots).map { "; did you mean '\($0)'?" } ?? ""
            return "reads the variable '\(path)', which a request does not have\(suggestion)"
        }
    }

    private static func walk(_ parts: ArraySlice<String>, _ shape: Shape, at place: String) -> String? {
        guard let head = parts.first else { return nil }
        let here = place + "." + head
        switch shape {
        case .any: return nil
        case .scalar: return "'\(place)' is a single value; nothing is below it (\(here))"
        case .object(let members):
            if let next = members[head] ?? (Int(head) != nil ? members["*"] : nil) {
                return walk(parts.dropFirst(), next, at: here)
            }
            let suggestion = SourceReader.closest(to: head, in: Array(members.keys)).map { "; did you mean '\(place).\($0)'?" } ?? ""
            return "'\(here)' is not there\(suggestion)"
        case .model(let model):
            if head == model.key || head == model.tenantField { return parts.count == 1 ? nil : "'\(here)' is a single value" }
            guard let rule = model.field(head) else {
                let suggestion = SourceReader.closest(to: head, in: model.allFieldNames).map { "; did you mean '\(place).\($0)'?" } ?? ""
                return "'\(here)': \(model.name) has no field '\(head)'\(suggestion)"
            }
            return walk(parts.dropFirst(), .rule(rule), at: here)
        case .rule(let rule):
            switch rule.type {
            case .list:
                // JavaScript lists have a length and items by plain index (`01` names nothing).
                if head == "length" { return parts.count == 1 ? nil : "'\(here)' is a number; nothing is below it" }
                guard JSSemantics.arrayIndex(head) != nil else { return "'\(place)' is a list; index it with a number (\(place).0) or ask its length (\(place).length)" }
                return walk(parts.dropFirst(), rule.items.map(Shape.rule) ?? .any, at: here)
            case .object:
                guard let member = rule.field(head) else {
                    let suggestion = SourceReader.closest(to: head, in: rule.fields.map(\.name)).map { "; did you mean '\(place).\($0)'?" } ?? ""
                    return "'\(here)': the object has no member '\(head)'\(suggestion)"
                }
                return walk(parts.dropFirst(), .rule(member), at: here)
            case .string:
                // JavaScript strings have a length and characters by index; allow what JsonLogic can read.
                if head == "length" || JSSemantics.arrayIndex(head) != nil {
                    return parts.count == 1 ? nil : "'\(here)' is \(head == "length" ? "a number" : "one character"); nothing is below it"
                }
                return "'\(place)' is a string; '\(here)' is not there (a string has a length and characters by plain index)"
            default:
                return "'\(place)' is a single value; nothing is below it (\(here))"
            }
        }
    }
}
