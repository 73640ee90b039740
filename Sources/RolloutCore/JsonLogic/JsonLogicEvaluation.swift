import Foundation

extension JsonLogicNode {
    func evaluate(_ data: JSONValue) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .array(let nodes):
            return .array(nodes.map { $0.evaluate(data) })
        case .path(let parts, let fallback):
            return Self.lookup(parts, in: data) ?? fallback?.evaluate(data) ?? .null
        case .operation(let op, let arguments):
            return Self.apply(op, arguments, data)
        }
    }

    /// json-logic-js's `var`: walk the dotted path as JavaScript reads properties: strings index by
    /// UTF-16 unit, arrays by position (only a plain index names one: `01` and `+1` name nothing), and
    /// both have a `length`; a missing step gives nil so that the caller can use the default.
    static func lookup(_ parts: [String], in data: JSONValue) -> JSONValue? {
        var current = data
        for part in parts {
            switch current {
            case .object(let members):
                guard let next = members[part] else { return nil }
                current = next
            case .array(let items):
                if part == "length" {
                    current = .number(Double(items.count))
                    continue
                }
                guard let i = JSSemantics.arrayIndex(part), items.indices.contains(i) else { return nil }
                current = items[i]
            case .string(let s):
                if part == "length" {
                    current = .number(Double(s.utf16.count))
                    continue
                }
                let units = Array(s.utf16)
                guard let i = JSSemantics.arrayIndex(part), units.indices.contains(i) else { return nil }
                current = .string(String(decoding: [units[i]], as: UTF16.self))
            default:
                return nil
            }
        }
        return current
    }

    private static func apply(_ op: JsonLogicOperator, _ args: [JsonLogicNode], _ data: JSONValue) -> JSONValue {
        switch op {
        // Operators that decide which arguments to evaluate.
        case .ifThen, .ternary:
            var i = 0
            while i + 1 < args.count {
                if JSSemantics.truthy(args[i].evaluate(data)) { return args[i + 1].evaluate(data) }
                i += 2
            }
            return i < args.count ? args[i].evaluate(data) : .null
        case .and:
            var current: JSONValue = .null
            for arg in args {
                current = arg.evaluate(data)
                if !JSSemantics.truthy(current) { return current }
            }
            return current
        case .or:
            var current: JSONValue = .null
            for arg in args {
                current = arg.evaluate(data)
                if JSSemantics.truthy(current) { return current }
            }
            return current
        case .filter, .map, .all, .none, .some:
            // Only arrays: json-logic-js's `all` (since it checks `Array.isArray`), `some`, `none`, `map` and
            // `filter` take nothing else, a string's characters included.
            let items = args.first?.evaluate(data).arrayValue ?? []
            let logic = args.count > 1 ? args[1] : .literal(.null)
            switch op {
            case .map:
                return .array(items.map { logic.evaluate($0) })
            case .filter:
                return .array(items.filter { JSSemantics.truthy(logic.evaluate($0)) })
            case .all:
                if items.isEmpty { return false }
                return .bool(items.allSatisfy { JSSemantics.truthy(logic.evaluate($0)) })
            case .none:
                return .bool(!items.contains { JSSemantics.truthy(logic.evaluate($0)) })
            default:
                return .bool(items.contains { JSSemantics.truthy(logic.evaluate($0)) })
            }
        case .reduce:
            let initial = args.count > 2 ? args[2].evaluate(data) : .null
            guard let items = args.first?.evaluate(data).arrayValue else { return initial }
            let logic = args.count > 1 ? args[1] : .literal(.null)
            return items.reduce(initial) { accumulator, current in
                logic.evaluate(.object(["current": current, "accumulator": accumulator]))
            }
        default:
            return applyEager(op, args.map { $0.evaluate(data) }, data)
        }
    }

    private static func applyEager(_ op: JsonLogicOperator, _ v: [JSONValue], _ data: JSONValue) -> JSONValue {
        func arg(_ i: Int) -> JSONValue { i < v.count ? v[i] : .null }
        switch op {
        case .variable:
            let name = arg(0)
            let fallback = v.count > 1 ? v[1] : JSONValue.null
            switch name {
            case .null: return data
            case .string(let s) where s.isEmpty: return data
            default:
                let parts = JSSemantics.toString(name).split(separator: ".", omittingEmptySubsequences: false)
                return lookup(parts.map(String.init), in: data) ?? fallback
            }
        case .missing:
            let keys: [JSONValue] = if case .array(let items) = arg(0) { items } else { v }
            var missing: [JSONValue] = []
            for key in keys {
                let value = applyEager(.variable, [key], data)
                if value.isNull || value == .string("") { missing.append(key) }
            }
            return .array(missing)
        case .missingSome:
            let need = JSSemantics.toNumber(arg(0))
            let options = arg(1).arrayValue ?? []
            let missing = applyEager(.missing, [.array(options)], data).arrayValue ?? []
            return Double(options.count - missing.count) >= need ? .array([]) : .array(missing)
        case .equal: return .bool(JSSemantics.looseEqual(arg(0), arg(1)))
        case .notEqual: return .bool(!JSSemantics.looseEqual(arg(0), arg(1)))
        case .strictEqual: return .bool(JSSemantics.strictEqual(arg(0), arg(1)))
        case .strictNotEqual: return .bool(!JSSemantics.strictEqual(arg(0), arg(1)))
        case .not: return .bool(!JSSemantics.truthy(v.first ?? .null))
        case .truthy: return .bool(JSSemantics.truthy(v.first ?? .null))
        case .greater: return .bool(JSSemantics.less(arg(1), arg(0)) ?? false)
        case .greaterOrEqual: return .bool(JSSemantics.lessOrEqual(arg(1), arg(0)))
        case .less:
            if v.count > 2 {
                return .bool((JSSemantics.less(v[0], v[1]) ?? false) && (JSSemantics.less(v[1], v[2]) ?? false))
            }
            return .bool(JSSemantics.less(arg(0), arg(1)) ?? false)
        case .lessOrEqual:
            if v.count > 2 {
                return .bool(JSSemantics.lessOrEqual(v[0], v[1]) && JSSemantics.lessOrEqual(v[1], v[2]))
            }
            return .bool(JSSemantics.lessOrEqual(arg(0), arg(1)))
        case .max, .min:
            if v.isEmpty { return .number(op == .max ? -.infinity : .infinity) }
            let numbers = v.map(JSSemantics.toNumber)
            if numbers.contains(where: \.isNaN) { return .number(.nan) }
            return .number(op == .max ? numbers.max()! : numbers.min()!)
        case .add:
            return .number(v.reduce(0) { $0 + JSSemantics.parseFloat($1) })
        case .multiply:
            guard let first = v.first else { return .null }
            if v.count == 1 { return first }  // Array.reduce without a seed returns the lone element
            return .number(v.dropFirst().reduce(JSSemantics.parseFloat(first)) { $0 * JSSemantics.parseFloat($1) })
        case .subtract:
            if v.count < 2 { return .number(-JSSemantics.toNumber(arg(0))) }
            return .number(JSSemantics.toNumber(v[0]) - JSSemantics.toNumber(v[1]))
        case .divide:
            return .number(JSSemantics.toNumber(arg(0)) / JSSemantics.toNumber(arg(1)))
        case .modulo:
            return .number(fmod(JSSemantics.toNumber(arg(0)), JSSemantics.toNumber(arg(1))))
        case .cat:
            return .string(v.map { $0.isNull ? "" : JSSemantics.toString($0) }.joined())
        case .substr:
            return .string(substr(JSSemantics.toString(arg(0)), start: arg(1), length: v.count > 2 ? .some(v[2]) : .none))
        case .in:
            switch arg(1) {
            case .string(let haystack):
                return .bool(JSSemantics.contains(haystack, JSSemantics.toString(arg(0))))
            case .array(let items):
                return .bool(items.contains { JSSemantics.strictEqual($0, arg(0)) })
            default:
                return false
            }
        case .merge:
            var out: [JSONValue] = []
            for value in v {
                if case .array(let items) = value { out.append(contentsOf: items) } else { out.append(value) }
            }
            return .array(out)
        case .log:
            return v.first ?? .null
        case .ifThen, .ternary, .and, .or, .filter, .map, .reduce, .all, .none, .some:
            fatalError("\(op.rawValue) is evaluated lazily in apply(_:_:_:)")
        }
    }

    /// JavaScript's `String.prototype.substr` with json-logic-js's negative-length rule, on UTF-16 units.
    private static func substr(_ source: String, start: JSONValue, length: JSONValue?) -> String {
        let units = Array(source.utf16)
        let count = units.count
        var from = Int(JSSemantics.toNumber(start).clampedForIndex)
        if from < 0 { from = max(count + from, 0) }
        from = min(from, count)
        var to = count
        if let length {
            let n = Int(JSSemantics.toNumber(length).clampedForIndex)
            to = n < 0 ? max(count + n, from) : min(from + n, count)
        }
        guard to > from else { return "" }
        return String(decoding: units[from..<to], as: UTF16.self)
    }
}

extension Double {
    fileprivate var clampedForIndex: Double {
        if isNaN { return 0 }
        return Swift.min(Swift.max(self.rounded(.towardZero), -1e9), 1e9)
    }
}
