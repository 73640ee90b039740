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
    /// Each member's name (without its quotes) and value, as written.
    private var spans: [(name: Range<Int>, value: Range<Int>)] = []
    /// Where each name is: the member's position plus one (0 for an empty slot), at the slot its name
    /// hashes to or the first empty one after it. A look-up compares the names of the one or two
    /// members whose slots it meets instead of scanning all of them (verification asks about 35 names
    /// of each body), and a repeated name is found as it is placed. Twice `maxMembers`, so a look-up
    /// always ends at an empty slot. An array, not a table held inline: Swift copied that at each look-up.
    private var slots = [UInt8](unsafeUninitializedCapacity: JSONMembers.slotCount) { slots, count in
        slots.initialize(repeating: 0)
        count = JSONMembers.slotCount
    }
    /// Bit k is set when member k's value is a plain string (see `Member`), as the indexing pass found it.
    private var plainStrings: UInt64 = 0

    /// More members than this are not indexed.
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
                let end = ASCIIBytes.plainRunEnd(bytes, from: nameStart)
                guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
                parser.index = end + 1
                parser.skipWhitespace()
                guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: ":") else { return nil }
                parser.index += 1
                parser.skipWhitespace()
                let valueStart = parser.index
                // A plain string is read in one run, and remembered: verification compares such members with
                // their columns as they are written.
                let plainEnd = valueStart < bytes.count && bytes[valueStart] == UInt8(ascii: "\"")
                    ? ASCIIBytes.plainRunEnd(bytes, from: valueStart + 1) : bytes.count
                if plainEnd < bytes.count, bytes[plainEnd] == UInt8(ascii: "\"") {
                    parser.index = plainEnd + 1
                    plainStrings |= 1 << UInt64(spans.count)
                } else {
                    do { try parser.skipValue(depth: 1) } catch { return nil }
                }
                // A repeated name is declined: `JSONValue.parse` keeps the last, and a reader that kept the
                // first would see another object.
                guard place(nameStart..<end, at: spans.count) else { return nil }
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
    }

    /// How many members the object has.
    public var count: Int { spans.count }

    /// A member name known when the program is built (a literal): its bytes are static and the slot it
    /// hashes to is reckoned once, so a look-up by it neither reaches into a `String` nor hashes again.
    /// Verification asks about 35 names of each of a million bodies.
    public struct Name: Sendable {
        let text: StaticString
        let slot: Int

        public init(_ text: StaticString) {
            self.text = text
            slot = text.withUTF8Buffer { JSONMembers.slot(of: $0) }
        }

        /// The name as a string.
        public var string: String { text.description }
    }

    /// The member's value as `JSONValue.parse` reads it, or nil when the object has no such member.
    public func value(_ name: String) -> JSONValue? {
        Self.parsed(raw(name))
    }

    /// As `value(_:)` for a name known when the program is built.
    public func value(_ name: Name) -> JSONValue? {
        Self.parsed(raw(name))
    }

    private static func parsed(_ raw: UnsafeBufferPointer<UInt8>?) -> JSONValue? {
        guard let raw else { return nil }
        var parser = JSONByteParser(bytes: raw)
        return try? parser.parseValue(depth: 1)
    }

    /// What a member's value is, told from its first byte (the text is valid JSON).
    public enum Kind: Sendable { case null, bool, number, string, array, object }

    /// The member's kind without building its value, or nil when the object has no such member.
    public func kind(_ name: String) -> Kind? {
        raw(name).map(Self.kind(of:))
    }

    /// As `kind(_:)` for a name known when the program is built.
    public func kind(_ name: Name) -> Kind? {
        raw(name).map(Self.kind(of:))
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
        Self.isNonEmptyString(raw(name))
    }

    /// As `isNonEmptyString(_:)` for a name known when the program is built.
    public func isNonEmptyString(_ name: Name) -> Bool {
        Self.isNonEmptyString(raw(name))
    }

    private static func isNonEmptyString(_ raw: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let raw else { return false }
        return raw.count > 2 && raw[0] == UInt8(ascii: "\"")
    }

    /// The member's value as written (its JSON text, valid), or nil when the object has no such member.
    public func raw(_ name: String) -> UnsafeBufferPointer<UInt8>? {
        if #available(macOS 26, iOS 26, tvOS 26, watchOS 26, visionOS 26, *) {
            // The name's bytes through its span: `withUTF8` costs a copy of the string and its retains.
            return name.utf8.span.withUnsafeBufferPointer { position($0, from: Self.slot(of: $0)) }.map(value(at:))
        }
        var name = name
        return name.withUTF8 { position($0, from: Self.slot(of: $0)) }.map(value(at:))
    }

    private func value(at position: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[spans[position].value])
    }

    /// As `raw(_:)` for a name known when the program is built.
    public func raw(_ name: Name) -> UnsafeBufferPointer<UInt8>? {
        member(name)?.raw
    }

    /// A member's value as written, and whether it is a plain string: quoted ASCII without an escape or a
    /// control character (no backslash, no byte below 0x20 or above 0x7F; `ASCIIBytes.plainRunEnd`), whose
    /// bytes between the quotes are its value.
    public struct Member {
        /// The value's JSON text.
        public let raw: UnsafeBufferPointer<UInt8>
        public let isPlainString: Bool

        /// The value of a plain string, without its quotes; nil for a member of another kind or form.
        public var plainText: UnsafeBufferPointer<UInt8>? {
            isPlainString ? UnsafeBufferPointer(rebasing: raw[1..<(raw.count - 1)]) : nil
        }
    }

    /// The member named `name`, or nil when the object has none.
    public func member(_ name: Name) -> Member? {
        guard let position = name.text.withUTF8Buffer({ position($0, from: name.slot) }) else { return nil }
        return Member(raw: value(at: position), isPlainString: plainStrings & (1 << UInt64(position)) != 0)
    }

    /// The position of the member named `wanted`, looked for from `slot`, the slot its name hashes to.
    private func position(_ wanted: UnsafeBufferPointer<UInt8>, from slot: Int) -> Int? {
        let count = wanted.count
        var slot = slot
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let name = spans[entry - 1].name
            if name.count == count, same(name.lowerBound, wanted) {
                return entry - 1
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }

    private static let slotCount = 128

    /// The slot a name of `count` bytes (at least one), first `first` and last `last`, is looked for from.
    private static func slot(_ count: Int, _ first: UInt8, _ last: UInt8) -> Int {
        (count &* 37 &+ Int(first) &* 11 &+ Int(last)) & (slotCount - 1)
    }

    /// The slot the name `name` is looked for from.
    private static func slot(of name: UnsafeBufferPointer<UInt8>) -> Int {
        name.isEmpty ? 0 : slot(name.count, name[0], name[name.count - 1])
    }

    /// Records that the member at `position` has the name at `name`; false when an earlier member has it.
    private mutating func place(_ name: Range<Int>, at position: Int) -> Bool {
        let count = name.count
        var slot = count == 0 ? 0 : Self.slot(count, bytes[name.lowerBound], bytes[name.upperBound - 1])
        while true {
            let entry = Int(slots[slot])
            if entry == 0 {
                slots[slot] = UInt8(position + 1)
                return true
            }
            let other = spans[entry - 1].name
            if other.count == count, same(other.lowerBound, UnsafeBufferPointer(rebasing: bytes[name])) { return false }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }

    /// Whether the `wanted.count` bytes of the body from `start` are `wanted`, eight at a time.
    private func same(_ start: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = wanted.count
        guard count > 0, let base = bytes.baseAddress, let other = wanted.baseAddress else { return count == 0 }
        let name = UnsafeRawPointer(base + start), wanted = UnsafeRawPointer(other)
        var k = 0
        while k + 8 <= count {
            if name.loadUnaligned(fromByteOffset: k, as: UInt64.self) != wanted.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
            k += 8
        }
        while k < count {
            if name.load(fromByteOffset: k, as: UInt8.self) != wanted.load(fromByteOffset: k, as: UInt8.self) { return false }
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
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try parseNumber()
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
        let end = ASCIIBytes.plainRunEnd(bytes, from: index + 1)
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            index = end + 1
            return
        }
        _ = try parseString()
    }
}
