import Crypto
import Foundation

extension JSONValue {
    /// The JSON Canonicalization Scheme (RFC 8785): compact, object keys sorted by their UTF-16 code
    /// units, numbers as ECMAScript prints them, strings with only the escapes JSON requires. The same
    /// value always gives the same bytes, so digests and hash chains can be taken over it, and any other
    /// RFC 8785 implementation gives the same bytes too.
    public var canonicalText: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// The canonical text as UTF-8 bytes.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        Self.write(self, into: &out, indent: nil, level: 0)
        return out
    }

    /// The canonical text, except that a whole number beyond 2^53 is written with its exact digits
    /// (ECMAScript prints 2^60 as 1152921504606847000, another integer to a reader with exact integers,
    /// such as Python): what goes over the wire to a tool server or an agent, never into a digest.
    public var wireBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        Self.write(self, into: &out, indent: nil, level: 0, exactIntegers: true)
        return out
    }

    /// Indented JSON with sorted keys, for people and for files written to disk.
    public func prettyText(indent: Int = 2) -> String {
        var out: [UInt8] = []
        Self.write(self, into: &out, indent: indent, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the value's canonical text to `out`, for a caller that writes a canonical document from
    /// parts it has not built into one value (verification's effect digest, one per event).
    public func appendCanonical(to out: inout [UInt8]) {
        Self.write(self, into: &out, indent: nil, level: 0)
    }

    /// Appends a string's canonical text (quoted, escaped) to `out`.
    public static func appendCanonical(string: String, to out: inout [UInt8]) {
        writeString(string, into: &out)
    }

    /// SHA-256 of the canonical text, as lowercase hex.
    public var canonicalDigest: String {
        Self.digest(canonicalBytes: canonicalBytes)
    }

    /// SHA-256 of canonical text written in parts, as lowercase hex.
    public static func digest(canonicalBytes: [UInt8]) -> String {
        SHA256.hash(data: canonicalBytes).withUnsafeBytes(Hex.lowercase)
    }

    static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int?, level: Int, exactIntegers: Bool = false) {
        switch value {
        case .null: appendLiteral("null", to: &out)
        case .bool(let b): appendLiteral(b ? "true" : "false", to: &out)
        case .number(let d) where exactIntegers && d.rounded() == d && abs(d) >= 9.007_199_254_740_992e15:
            if let exact = Int64(exactly: d) { writeInteger(exact, into: &out) } else { writeNumber(d, into: &out) }
        case .number(let d): writeNumber(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: [0x5B, 0x5D])
                return
            }
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(&out, indent: indent, level: level + 1)
                write(item, into: &out, indent: indent, level: level + 1, exactIntegers: exactIntegers)
            }
            newline(&out, indent: indent, level: level)
            out.append(0x5D)
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: [0x7B, 0x7D])
                return
            }
            out.append(0x7B)
            func member(_ key: String, _ value: JSONValue, first: Bool) {
                if !first { out.append(0x2C) }
                newline(&out, indent: indent, level: level + 1)
                writeString(key, into: &out)
                out.append(0x3A)
                if indent != nil { out.append(0x20) }
                write(value, into: &out, indent: indent, level: level + 1, exactIntegers: exactIntegers)
            }
            if members.count == 1, let only = members.first {
                member(only.key, only.value, first: true)
            } else {
                // The members sorted as pairs: each value is at hand, not looked up again by its key.
                for (i, pair) in members.sorted(by: { canonicalKeyLess($0.key, $1.key) }).enumerated() {
                    member(pair.key, pair.value, first: i == 0)
                }
            }
            newline(&out, indent: indent, level: level)
            out.append(0x7D)
        }
    }

    private static func appendLiteral(_ word: StaticString, to out: inout [UInt8]) {
        word.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    /// RFC 8785's key order: by UTF-16 code units, compared as numbers (never by Swift's canonical
    /// equivalence, which would call two differently encoded keys equal). ASCII keys, nearly all of them,
    /// compare by their bytes, which gives the same order.
    public static func canonicalKeyLess(_ a: String, _ b: String) -> Bool {
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x == y { continue }
                if x < 0x80 && y < 0x80 { return x < y }
                return a.utf16.lexicographicallyPrecedes(b.utf16)
            }
        }
    }

    /// The first version of the canonical form ordered keys by UTF-8 bytes; audit rows written then record
    /// form 1 and still verify, because verification hashes the stored bytes.
    static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// A number as ECMAScript's `Number.prototype.toString` prints it (RFC 8785 section 3.2.2.3): the
    /// shortest digits that read back as the same double, without an exponent from 1e-6 up to 1e21.
    /// NaN and infinities, which JSON cannot hold, print as null.
    public static func formatNumber(_ d: Double) -> String {
        var out: [UInt8] = []
        writeNumber(d, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        if d == 0 {
            out.append(0x30)  // -0 prints as 0
            return
        }
        if d.rounded() == d, abs(d) < 9.007_199_254_740_992e15 {
            writeInteger(Int64(d), into: &out)
            return
        }
        if d < 0 { out.append(0x2D) }
        // Swift's description gives the shortest round-trip digits; ECMAScript decides where they go.
        let text = Array("\(abs(d))".utf8)
        var digits: [UInt8] = []
        var pointAt: Int?
        var exponent = 0
        var index = 0
        while index < text.count {
            let c = text[index]
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exponent = Int(String(decoding: text[(index + 1)...], as: UTF8.self)) ?? 0
                break
            }
            if c == UInt8(ascii: ".") { pointAt = digits.count } else { digits.append(c) }
            index += 1
        }
        // value = 0.digits × 10^n, with the digits' leading and trailing zeros removed.
        var n = (pointAt ?? digits.count) + exponent
        while let first = digits.first, first == UInt8(ascii: "0"), digits.count > 1 {
            digits.removeFirst()
            n -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0"), digits.count > 1 { digits.removeLast() }
        let k = digits.count
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            let e = n - 1
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            out.append(contentsOf: String(abs(e)).utf8)
        }
    }

    private static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
        var n = value
        if n < 0 {
            out.append(0x2D)
            n = -n
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while n > 0 {
                buffer[count] = UInt8(n % 10) + 0x30
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        // Most strings need no escape: copy them whole.
        var text = s
        let copied = text.withUTF8 { bytes in
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(0x22)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x08: out.append(contentsOf: [0x5C, 0x62])
            case 0x0C: out.append(contentsOf: [0x5C, 0x66])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0x0F)]])
            default:
                out.append(b)
            }
        }
        out.append(0x22)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal text of the bytes.
    public var hexString: String {
        if let text = withContiguousStorageIfAvailable({ Hex.lowercase(UnsafeRawBufferPointer($0)) }) { return text }
        return Array(self).withUnsafeBytes(Hex.lowercase)
    }
}
