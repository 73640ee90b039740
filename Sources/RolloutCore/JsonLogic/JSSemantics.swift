import Foundation

/// JavaScript's conversions and comparisons, which JsonLogic inherits from its reference
/// implementation: truthiness, ToNumber, ToString, loose and strict equality, relational order.
enum JSSemantics {
    /// JsonLogic truthiness: false, null, 0, NaN, "" and [] are false; everything else is true.
    static func truthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let b): b
        case .number(let d): d != 0 && !d.isNaN
        case .string(let s): !s.isEmpty
        case .array(let items): !items.isEmpty
        case .object: true
        }
    }

    /// JavaScript's `Number(value)`.
    static func toNumber(_ value: JSONValue) -> Double {
        switch value {
        case .null: return 0
        case .bool(let b): return b ? 1 : 0
        case .number(let d): return d
        case .string(let s): return stringToNumber(s)
        case .array: return stringToNumber(toString(value))
        case .object: return .nan
        }
    }

    static func stringToNumber(_ s: String) -> Double {
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return 0 }
        if trimmed == "Infinity" || trimmed == "+Infinity" { return .infinity }
        if trimmed == "-Infinity" { return -.infinity }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("0x"), let v = UInt64(trimmed.dropFirst(2), radix: 16) { return Double(v) }
        // Swift accepts "nan", "inf" and hex floats, which JavaScript does not.
        guard trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return .nan }
        return Double(trimmed) ?? .nan
    }

    /// JavaScript's `parseFloat(String(value))`: the longest numeric prefix, else NaN.
    static func parseFloat(_ value: JSONValue) -> Double {
        if case .number(let d) = value { return d }
        let s = toString(value).drop(while: { $0.isWhitespace })
        if s.hasPrefix("Infinity") || s.hasPrefix("+Infinity") { return .infinity }
        if s.hasPrefix("-Infinity") { return -.infinity }
        var end = s.startIndex
        var seenDigit = false, seenDot = false, seenExp = false
        var i = s.startIndex
        if i < s.endIndex, s[i] == "+" || s[i] == "-" { i = s.index(after: i) }
        while i < s.endIndex {
            let c = s[i]
            if c.isASCII, c.isNumber {
                seenDigit = true
                end = s.index(after: i)
            } else if c == ".", !seenDot, !seenExp {
                seenDot = true
            } else if (c == "e" || c == "E"), seenDigit, !seenExp {
                seenExp = true
                let next = s.index(after: i)
                if next < s.endIndex, s[next] == "+" || s[next] == "-" { i = next }
            } else {
                break
            }
            i = s.index(after: i)
        }
        guard seenDigit else { return .nan }
        var prefix = String(s[s.startIndex..<end])
        while let last = prefix.last, "eE+-".contains(last) { prefix.removeLast() }
        return Double(prefix) ?? .nan
    }

    /// JavaScript's `String(value)`; arrays join their elements with commas, null elements empty.
    static func toString(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return numberToString(d)
        case .string(let s): return s
        case .array(let items):
            return items.map { $0.isNull ? "" : toString($0) }.joined(separator: ",")
        case .object: return "[object Object]"
        }
    }

    static func numberToString(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return "0" }
        if d.rounded() == d, abs(d) < 1e21 {
            if abs(d) < 9.007_199_254_740_992e15 { return String(Int64(d)) }
            return String(format: "%.0f", d)
        }
        var text = "\(d)"
        // Swift writes 1e-07 where JavaScript writes 1e-7.
        if let e = text.firstIndex(of: "e") {
            var exponent = String(text[text.index(after: e)...])
            let sign = exponent.hasPrefix("-") ? "-" : "+"
            exponent = String(exponent.drop(while: { $0 == "-" || $0 == "+" || $0 == "0" }))
            text = String(text[..<e]) + "e" + sign + (exponent.isEmpty ? "0" : exponent)
        }
        return text
    }

    /// Arrays and objects become strings for comparison, as JavaScript's ToPrimitive does.
    static func toPrimitive(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array, .object: .string(toString(value))
        default: value
        }
    }

    /// JavaScript's `a == b`.
    static func looseEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return sameText(x, y)
        case (.bool(let x), .bool(let y)): return x == y
        case (.bool, _): return looseEqual(.number(toNumber(a)), b)
        case (_, .bool): return looseEqual(a, .number(toNumber(b)))
        case (.number(let x), .string): return x == toNumber(b)
        case (.string, .number(let y)): return toNumber(a) == y
        case (.array, .array), (.object, .object), (.array, .object), (.object, .array):
            return false  // distinct objects are never equal in JavaScript
        case (.array, _), (.object, _): return looseEqual(toPrimitive(a), b)
        case (_, .array), (_, .object): return looseEqual(a, toPrimitive(b))
        }
    }

    /// JavaScript's `a === b`.
    static func strictEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): sameText(x, y)
        case (.bool(let x), .bool(let y)): x == y
        default: false
        }
    }

    /// JavaScript's `a < b`; nil when the comparison is undefined (a NaN), which is false for every
    /// relational operator.
    static func less(_ a: JSONValue, _ b: JSONValue) -> Bool? {
        let pa = toPrimitive(a), pb = toPrimitive(b)
        if case .string(let x) = pa, case .string(let y) = pb {
            return x.utf16.lexicographicallyPrecedes(y.utf16)
        }
        let x = toNumber(pa), y = toNumber(pb)
        if x.isNaN || y.isNaN { return nil }
        return x < y
    }

    static func lessOrEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        // JavaScript defines a <= b as !(b < a), except that undefined (NaN) is false.
        guard let greater = less(b, a) else { return false }
        return !greater
    }

    /// JavaScript's string equality: the same code units. Swift's `==` calls two encodings of one
    /// character equal (`é` and `e` with a combining accent), which JavaScript and the program behind
    /// the guard do not; equal UTF-8 bytes are equal UTF-16 units.
    static func sameText(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// JavaScript's `haystack.indexOf(needle) !== -1`: the needle's UTF-16 units, in a row, anywhere
    /// in the haystack's (never Swift's character matching, which skips a needle that a combining mark
    /// follows). Linear in both lengths: both may come from the agent.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let n = Array(needle.utf16)
        guard !n.isEmpty else { return true }
        let h = Array(haystack.utf16)
        guard n.count <= h.count else { return false }
        // Knuth-Morris-Pratt: how far the needle's own prefix repeats at each place.
        var border = [Int](repeating: 0, count: n.count)
        var k = 0
        for i in 1..<n.count {
            while k > 0 && n[i] != n[k] { k = border[k - 1] }
            if n[i] == n[k] { k += 1 }
            border[i] = k
        }
        k = 0
        for unit in h {
            while k > 0 && unit != n[k] { k = border[k - 1] }
            if unit == n[k] { k += 1 }
            if k == n.count { return true }
        }
        return false
    }

    /// The array index a property name names in JavaScript: a plain decimal number (`0`, `12`), never
    /// `01`, `+1`, `-1` or ` 1`, which name a property no array has.
    static func arrayIndex(_ name: String) -> Int? {
        guard let first = name.utf8.first, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              first != 0x30 || name.utf8.count == 1, name.utf8.count <= 15 else { return nil }
        return Int(name)
    }
}
