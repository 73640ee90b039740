import RolloutCore

/// Reading JSON text that is known to be valid (an indexed body's members), and telling which of it is
/// already in canonical form, without building values.
enum PlainJSON {
    /// Where the plainly canonical value starting at `start` ends, or nil when it is not one: `null`,
    /// `true`, `false`; a string without escapes or control characters; a whole number of at most 15
    /// digits without a sign on zero (RFC 8785 writes those digits as they are); an array of such
    /// values without whitespace.
    static func end(of text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < text.count else { return nil }
        var i = start
        switch text[i] {
        case UInt8(ascii: "\""):
            i += 1
            while true {
                i = ASCIIBytes.plainRunEnd(text, from: i)
                guard i < text.count else { return nil }
                let b = text[i]
                if b == UInt8(ascii: "\"") { return i + 1 }
                // Control characters and escapes are written otherwise; any other byte as it is (the text
                // was read as valid UTF-8, and RFC 8785 copies every other character).
                guard b >= 0x80 else { return nil }
                i += 1
            }
        case UInt8(ascii: "n"): return literal(text, i, "null")
        case UInt8(ascii: "t"): return literal(text, i, "true")
        case UInt8(ascii: "f"): return literal(text, i, "false")
        case UInt8(ascii: "["):
            i += 1
            if i < text.count, text[i] == UInt8(ascii: "]") { return i + 1 }
            while true {
                guard let next = end(of: text, from: i), next < text.count else { return nil }
                if text[next] == UInt8(ascii: "]") { return next + 1 }
                guard text[next] == UInt8(ascii: ",") else { return nil }
                i = next + 1
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let negative = text[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            let digits = i
            while i < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) { i += 1 }
            let count = i - digits
            guard count >= 1, count <= 15 else { return nil }
            if text[digits] == UInt8(ascii: "0") && (count > 1 || negative) { return nil }
            if i < text.count, text[i] == UInt8(ascii: ".") || text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") { return nil }
            return i
        default:
            return nil
        }
    }

    private static func literal(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ word: StaticString) -> Int? {
        let count = word.utf8CodeUnitCount
        guard start + count <= text.count else { return nil }
        for k in 0..<count where text[start + k] != word.utf8Start[k] { return nil }
        return start + count
    }

    /// Calls `body` with each member's name (with its quotes) and value of the object starting at
    /// `start`, until it returns false; false then, or when the text there is not an object. The text
    /// must be valid JSON.
    static func members(of text: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (Range<Int>, Range<Int>) -> Bool) -> Bool {
        var i = start
        guard i < text.count, text[i] == UInt8(ascii: "{") else { return false }
        i = skipSpace(text, i + 1)
        guard i < text.count else { return false }
        if text[i] == UInt8(ascii: "}") { return true }
        while true {
            let nameStart = i
            guard let nameEnd = skip(text, i) else { return false }
            i = skipSpace(text, nameEnd)
            guard i < text.count, text[i] == UInt8(ascii: ":") else { return false }
            i = skipSpace(text, i + 1)
            let valueStart = i
            guard let valueEnd = skip(text, i) else { return false }
            guard body(nameStart..<nameEnd, valueStart..<valueEnd) else { return false }
            i = skipSpace(text, valueEnd)
            guard i < text.count else { return false }
            if text[i] == UInt8(ascii: "}") { return true }
            guard text[i] == UInt8(ascii: ",") else { return false }
            i = skipSpace(text, i + 1)
        }
    }

    /// Past the value at `start` of valid JSON text.
    private static func skip(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard start < text.count else { return nil }
        switch text[start] {
        case UInt8(ascii: "\""):
            var i = start + 1
            while true {
                i = ASCIIBytes.plainRunEnd(text, from: i)
                guard i < text.count else { return nil }
                switch text[i] {
                case UInt8(ascii: "\""): return i + 1
                case UInt8(ascii: "\\"): i += 2
                default: i += 1  // a control character or a byte beyond ASCII: part of the string
                }
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < text.count {
                switch text[i] {
                case UInt8(ascii: "\""):
                    guard let end = skip(text, i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:
            // A number or a literal: up to the next delimiter.
            var i = start
            while i < text.count, !isSpace(text[i]), text[i] != UInt8(ascii: ","), text[i] != UInt8(ascii: "}"), text[i] != UInt8(ascii: "]"),
                  text[i] != UInt8(ascii: ":") { i += 1 }
            return i
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
    }

    private static func skipSpace(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < text.count, isSpace(text[i]) { i += 1 }
        return i
    }

    /// Whether a name (with its quotes) is printable ASCII without an escape.
    static func isPlainName(_ text: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Bool {
        guard name.count >= 2 else { return false }
        for i in (name.lowerBound + 1)..<(name.upperBound - 1) {
            let b = text[i]
            guard b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") else { return false }
        }
        return true
    }

    static func equal(_ text: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for k in 0..<a.count where text[a.lowerBound + k] != text[b.lowerBound + k] { return false }
        return true
    }

    static func equal(_ text: UnsafeBufferPointer<UInt8>, _ bytes: [UInt8]) -> Bool {
        equal(text, 0..<text.count, bytes)
    }

    static func equal(_ text: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ bytes: [UInt8]) -> Bool {
        guard a.count == bytes.count else { return false }
        for k in 0..<a.count where text[a.lowerBound + k] != bytes[k] { return false }
        return true
    }

    /// Byte order of two quoted names (their closing quotes compare as the shorter name's end).
    static func less(_ text: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let x = UnsafeBufferPointer(rebasing: text[(a.lowerBound + 1)..<(a.upperBound - 1)])
        let y = UnsafeBufferPointer(rebasing: text[(b.lowerBound + 1)..<(b.upperBound - 1)])
        return x.lexicographicallyPrecedes(y)
    }
}
