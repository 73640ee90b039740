/// The top-level members of a JSON object text, found by one validating pass that builds no values;
/// a member's value is parsed when it is asked for. `rollout audit verify` reads about twenty members
/// of every body it checks, and building each body's dictionaries (hashing every name) cost more than
/// the rest of the check.
///
/// It accepts only texts `JSONValue.parse` accepts, and then means the same object: every value is
/// checked by the parser's own rules as it is skipped, and `value(_:)` is the parser's value. It
/// declines (nil) a text that is not an object, and an object it cannot index plainly: a name with an
/// escape or a byte outside printable ASCII, a repeated name, more than `maxMembers` members. The caller
/// then parses the text whole, so declining costs time, never a different answer.
///
/// It reads the buffer it was made from: use it only while that buffer is alive (inside the
/// `withUTF8` that gave it).
public struct JSONMembers {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Each member's name (without its quotes) and value, as written: one array, so one allocation.
    private var spans: [(name: Range<Int>, value: Range<Int>)] = []
    /// Whether every name sorts after the one before it, byte by byte, as rollout's canonical bodies are
    /// written: then no name is repeated, and the search for a repeated one is skipped.
    private var ascending = true

    /// More members than this are not indexed (finding a repeated name costs the square of the count).
    public static let maxMembers = 64

    public init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        spans.reserveCapacity(16)
        var parser = JSONByteParser(bytes: bytes)
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        parser.skipWhitespace()
        if parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                guard spans.count < Self.maxMembers, parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "\"") else { return nil }
                let nameStart = parser.index + 1
                var end = nameStart
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    guard (0x20..<0x80).contains(bytes[end]), bytes[end] != UInt8(ascii: "\\") else { return nil }
                    end += 1
                }
                guard end < bytes.count else { return nil }
                parser.index = end + 1
                parser.skipWhitespace()
                guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: ":") else { return nil }
                parser.index += 1
                parser.skipWhitespace()
                let valueStart = parser.index
                do { try parser.skipValue(depth: 1) } catch { return nil }
                if ascending, let last = spans.last, order(last.name, nameStart..<end) >= 0 { ascending = false }
                spans.append((nameStart..<end, valueStart..<parser.index))
                parser.skipWhitespace()
                guard parser.index < bytes.count else { return nil }
                if bytes[parser.index] == UInt8(ascii: ",") {
                    parser.index += 1
                    continue
                }
                guard bytes[parser.index] == UInt8(ascii: "}") else { return nil }
                parser.index += 1
                break
            }
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { return nil }
        if !ascending {
            for i in spans.indices {
                for j in spans.indices where j > i && same(spans[i].name, spans[j].name) { return nil }
            }
        }
    }

    /// How many members the object has.
    public var count: Int { spans.count }

    /// The member's value as `JSONValue.parse` reads it, or nil when the object has no such member.
    public func value(_ name: String) -> JSONValue? {
        guard let raw = raw(name) else { return nil }
        var parser = JSONByteParser(bytes: raw)
        return try? parser.parseValue(depth: 1)
    }

    /// What a member's value is, told from its first byte (the text is valid JSON).
    public enum Kind: Sendable { case null, bool, number, string, array, object }

    /// The member's kind without building its value, or nil when the object has no such member.
    public func kind(_ name: String) -> Kind? {
        guard let raw = raw(name) else { return nil }
        return Self.kind(of: raw)
    }

    /// The kind of the `index`th member (in the order written).
    public func kind(at index: Int) -> Kind {
        Self.kind(of: UnsafeBufferPointer(rebasing: bytes[spans[index].value]))
    }

    /// The name of the `index`th member (in the order written).
    public func name(at index: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[spans[index].name]), as: UTF8.self)
    }

    private static func kind(of raw: UnsafeBufferPointer<UInt8>) -> Kind {
        switch raw.first ?? 0 {
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        default: return .number
        }
    }

    /// Whether the member is a string of at least one character, without building it.
    public func isNonEmptyString(_ name: String) -> Bool {
        guard let raw = raw(name) else { return false }
        return raw.count > 2 && raw[0] == UInt8(ascii: "\"")
    }

    /// The member's value as written (its JSON text, valid), or nil when the object has no such member.
    public func raw(_ name: String) -> UnsafeBufferPointer<UInt8>? {
        var name = name
        return name.withUTF8 { wanted in
            for span in spans where matches(span.name, wanted) {
                return UnsafeBufferPointer(rebasing: bytes[span.value])
            }
            return nil
        }
    }

    /// How the name at `range` sorts against `other`, byte by byte (a prefix first): negative, zero or positive.
    private func order(_ range: Range<Int>, _ other: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(range.count, other.count)
        var k = 0
        while k < common {
            let a = bytes[range.lowerBound + k], b = other[k]
            if a != b { return a < b ? -1 : 1 }
            k += 1
        }
        return range.count - other.count
    }

    private func order(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        order(a, UnsafeBufferPointer(rebasing: bytes[b]))
    }

    private func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        matches(a, UnsafeBufferPointer(rebasing: bytes[b]))
    }

    private func matches(_ range: Range<Int>, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        guard range.count == wanted.count else { return false }
        var k = 0
        while k < wanted.count {
            if bytes[range.lowerBound + k] != wanted[k] { return false }
            k += 1
        }
        return true
    }
}

extension JSONByteParser {
    /// Moves past one value, checking it by the rules `parseValue` has, building nothing: a string
    /// of printable ASCII without escapes is scanned, any other string, number or literal is read by
    /// the parser itself.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try skipObject(depth: depth)
        case UInt8(ascii: "["): try skipArray(depth: depth)
        case UInt8(ascii: "\""): try skipString()
        default: _ = try parseValue(depth: depth)
        }
    }

    private mutating func skipObject(depth: Int) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted member name") }
            try skipString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            try skipValue(depth: depth + 1)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func skipArray(depth: Int) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try skipValue(depth: depth + 1)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func skipString() throws(JSONParseError) {
        let start = index
        index += 1
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return
            }
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { break }
            index += 1
        }
        index = start
        _ = try parseString()
    }
}
