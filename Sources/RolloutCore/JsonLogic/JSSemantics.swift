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

    /// JavaScript's `Number(string)`: trimmed of JavaScript's white space (not Foundation's, which
    /// leaves U+FEFF and takes U+0085), then a decimal, `Infinity`, or an unsigned `0x`, `0o` or `0b`
    /// integer of any length; anything else is NaN.
    static func stringToNumber(_ s: String) -> Double {
        let trimmed = trimmed(s)
        if trimmed.isEmpty { return 0 }
        if trimmed == "Infinity" || trimmed == "+Infinity" { return .infinity }
        if trimmed == "-Infinity" { return -.infinity }
        let bytes = Array(trimmed.utf8)
        if bytes.count > 2, bytes[0] == 0x30 {
            let radix: Double? = switch bytes[1] | 0x20 {
            case UInt8(ascii: "x"): 16
            case UInt8(ascii: "o"): 8
            case UInt8(ascii: "b"): 2
            default: nil
            }
            if let radix {
                // The digits' bits as hexadecimal, read by strtod, which rounds once to the nearest
                // double as JavaScript does (adding digit by digit in doubles rounds at every step).
                let width = radix == 16 ? 4 : radix == 8 ? 3 : 1
                var bits: [Bool] = []
                for byte in bytes[2...] {
                    guard let digit = hexDigit(byte), Double(digit) < radix else { return .nan }
                    for shift in stride(from: width - 1, through: 0, by: -1) { bits.append(digit >> shift & 1 == 1) }
                }
                bits.insert(contentsOf: repeatElement(false, count: (4 - bits.count % 4) % 4), at: 0)
                var hex = "0x"
                for start in stride(from: 0, to: bits.count, by: 4) {
                    let nibble = bits[start..<(start + 4)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
                    hex.append(String(nibble, radix: 16))
                }
                return Double(hex + "p0") ?? .nan
            }
        }
        // Swift accepts "nan", "inf" and hex floats, which JavaScript does not.
        guard bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E || $0 == 0x45 || $0 == 0x65 }) else { return .nan }
        return Double(trimmed) ?? .nan
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// JavaScript's white space and line terminators (`String.prototype.trim`): tab, vertical tab, form
    /// feed, space, no-break space, U+FEFF, every space separator, line feed, carriage return, U+2028
    /// and U+2029. Not U+0085, which Foundation counts.
    static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0xFEFF, 0x2028, 0x2029: true
        case 0..<0x80: false
        default: scalar.properties.generalCategory == .spaceSeparator
        }
    }

    /// `s` without JavaScript's white space at either end, by code point (a combining mark after a
    /// space is not white space, nor does it hide the space before it).
    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, isWhiteSpace(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isWhiteSpace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    /// JavaScript's `parseFloat(String(value))`: the longest numeric prefix after leading white space,
    /// read by code unit (a combining mark after a digit ends the number there, it does not take the
    /// digit with it), else NaN.
    static func parseFloat(_ value: JSONValue) -> Double {
        if case .number(let d) = value { return d }
        let text = toString(value)
        let scalars = text.unicodeScalars
        var first = scalars.startIndex
        while first < scalars.endIndex, isWhiteSpace(scalars[first]) { first = scalars.index(after: first) }
        let s = Array(String(scalars[first...]).utf8)
        func hasPrefix(_ word: String, at offset: Int) -> Bool {
            let w = Array(word.utf8)
            return s.count >= offset + w.count && Array(s[offset..<(offset + w.count)]) == w
        }
        if hasPrefix("Infinity", at: 0) || hasPrefix("+Infinity", at: 0) { return .infinity }
        if hasPrefix("-Infinity", at: 0) { return -.infinity }
        var end = 0
        var seenDigit = false, seenDot = false, seenExp = false
        var i = 0
        if i < s.count, s[i] == 0x2B || s[i] == 0x2D { i += 1 }
        while i < s.count {
            let c = s[i]
            if c >= 0x30 && c <= 0x39 {
                seenDigit = true
                end = i + 1
            } else if c == 0x2E, !seenDot, !seenExp {
                seenDot = true
            } else if c == 0x45 || c == 0x65, seenDigit, !seenExp {
                seenExp = true
                if i + 1 < s.count, s[i + 1] == 0x2B || s[i + 1] == 0x2D { i += 1 }
            } else {
                break
            }
            i += 1
        }
        guard seenDigit else { return .nan }
        var prefix = String(decoding: s[0..<end], as: UTF8.self)
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

    /// JavaScript's `Number.prototype.toString()`: the canonical form's number text (RFC 8785 prints
    /// numbers as ECMAScript does: `0.00001`, `1e-7`, `1e+21`, 2^60 as `1152921504606847000`).
    static func numberToString(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return JSONValue.formatNumber(d)
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
        a.hasSameBytes(as: b)
    }

    /// json-logic-js's `in` on a string: `haystack.indexOf(needle) !== -1`, the needle's UTF-16 units, in a row, anywhere
    /// in the haystack's (never Swift's character matching, which skips a needle that a combining mark
    /// follows). Linear in both lengths: both may come from the agent.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        // json-logic-js: `if (!b) return false`: an empty haystack holds nothing, not even "".
        guard !haystack.isEmpty else { return false }
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
