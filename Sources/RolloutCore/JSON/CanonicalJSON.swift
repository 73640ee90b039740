import Crypto
import Foundation

extension JSONValue {
    /// Compact JSON with object keys sorted by their UTF-8 bytes and no insignificant whitespace:
    /// the same value always gives the same bytes, so digests and hash chains can be taken over it.
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

    /// Indented JSON with sorted keys, for people and for files written to disk.
    public func prettyText(indent: Int = 2) -> String {
        var out: [UInt8] = []
        Self.write(self, into: &out, indent: indent, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of the canonical text, as lowercase hex.
    public var canonicalDigest: String {
        SHA256.hash(data: canonicalBytes).hexString
    }

    static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
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
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out.append(0x5D)
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: [0x7B, 0x7D])
                return
            }
            out.append(0x7B)
            let keys = members.count == 1 ? [members.first!.key] : members.keys.sorted(by: utf8Less)
            for (i, key) in keys.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(&out, indent: indent, level: level + 1)
                writeString(key, into: &out)
                out.append(0x3A)
                if indent != nil { out.append(0x20) }
                write(members[key]!, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out.append(0x7D)
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    /// Orders strings by their UTF-8 bytes: stable across platforms and locales.
    static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Integral values within ±2^53 print as integers; others in Swift's shortest round-trip form;
    /// NaN and infinities, which JSON cannot hold, print as null.
    public static func formatNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 9.007_199_254_740_992e15 {
            return String(Int64(d))
        }
        return "\(d)"
    }

    static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        if d.rounded() == d, abs(d) < 9.007_199_254_740_992e15 {
            var n = Int64(d)
            if n == 0 {
                out.append(0x30)
                return
            }
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
            return
        }
        out.append(contentsOf: "\(d)".utf8)
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        // Most strings need no escape: copy them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(contentsOf: s.utf8)
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
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            let high = byte >> 4, low = byte & 0x0F
            out.append(high < 10 ? high + 0x30 : high + 0x57)
            out.append(low < 10 ? low + 0x30 : low + 0x57)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
