import Crypto
import RolloutCore

/// Verification's shortcut for the derived columns (`effect`, `shape`) of the common event: a one-row
/// write (or one that changed no field: a refusal) whose body `JSONMembers` indexes and whose tool,
/// targets and after values are written as their canonical text already (compact, printable ASCII
/// strings without escapes, whole numbers, literals).
/// Such an event's effect is hashed from the body's own bytes, and its shape is its field names as
/// written, so no value is built, and nothing is allocated: a million rows are checked.
///
/// It only ever *confirms*: `confirms` is true when both stored columns are exactly what
/// `DerivedColumns(members:)` gives for the body, and false when it cannot tell (another form of
/// event, a value that is not plainly canonical) or they differ; the caller then derives the columns
/// the general way, which also words the problem.
enum PlainDerivedColumns {
    /// Members `DerivedColumns` requires to be non-empty strings.
    private static let required = ["tenant", "tool", "decision"]
    /// Members it requires to be absent, null or strings (`DerivedColumns.optionalStrings`).
    private static let optionalStrings = ["actor", "session", "model", "operation", "reason", "idempotency_key", "approver",
                                          "policy_digest", "backend", "message"]

    /// Whether the stored `effect` and `shape` (nil for null) are what the body gives; see the type.
    static func confirms(_ members: JSONMembers, effect: UnsafeBufferPointer<UInt8>?, shape: UnsafeBufferPointer<UInt8>?) -> Bool {
        derive(members, shape: shape) { document in
            // No document: a write without targets, which has no effect.
            guard let document else { return effect == nil }
            guard let effect, effect.count == 16 else { return false }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(document))
            return hasher.finalize().withUnsafeBytes { bytes in
                for i in 0..<8 {
                    if effect[2 * i] != hex[Int(bytes[i] >> 4)] || effect[2 * i + 1] != hex[Int(bytes[i] & 0x0F)] { return false }
                }
                return true
            }
        } ?? false
    }

    /// Calls `body` with the canonical document the body's effect is the digest of (nil for a write
    /// without targets, which has none) when the shortcut reads the body and `shape` (nil for null) is
    /// its shape; nil, without calling it, otherwise. The document is built in place and valid only in
    /// `body`.
    static func derive<R>(_ members: JSONMembers, shape: UnsafeBufferPointer<UInt8>?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R? {
        // The conditions under which `DerivedColumns(members:)` reads the one-row form (`fields_changed`).
        for name in required where !members.isNonEmptyString(name) { return nil }
        for name in optionalStrings where !members.isStringOrNull(name) { return nil }
        switch members.value("row_count") {
        case nil, .null?: break
        case .number(let d)? where d >= 0 && d.rounded() == d && d <= Double(AuditEvent.maxRowCount): break
        default: return nil
        }
        switch members.kind("changes") {
        case nil, .null?: break
        default: return nil
        }
        guard let tool = members.raw("tool"), tool[0] == UInt8(ascii: "\""), PlainJSON.end(of: tool, from: 0) == tool.count else { return nil }
        // No `fields_changed` (absent, null or empty: a refusal, a denial) is a write that changed no field.
        let fields: UnsafeBufferPointer<UInt8>?
        switch members.kind("fields_changed") {
        case nil, .null?: fields = nil
        case .object?: fields = members.raw("fields_changed")
        default: return nil
        }
        // Without targets there is no effect; with them, the targets must be written canonically.
        let targets = members.raw("targets")
        let untargeted: Bool
        switch targets {
        case nil: untargeted = true
        case let targets?:
            if PlainJSON.equal(targets, Self.null) || PlainJSON.equal(targets, Self.emptyList) {
                untargeted = true
            } else if targets[0] == UInt8(ascii: "["), PlainJSON.end(of: targets, from: 0) == targets.count {
                untargeted = false
            } else {
                return nil
            }
        }

        return withUnsafeTemporaryAllocation(of: FieldSpan.self, capacity: JSONMembers.maxMembers) { spans -> R? in
            // Each field: its name (as written, with quotes) and its after value (as written), sorted by name.
            var count = 0
            if let fields {
                guard let found = fieldSpans(fields, into: spans) else { return nil }
                count = found
            }
            let sorted = UnsafeMutableBufferPointer(rebasing: spans[0..<count])
            if let fields, count > 0 {
                sortByName(sorted, in: fields)
                for k in 1..<count where PlainJSON.equal(fields, sorted[k - 1].name, sorted[k].name) { return nil }
                // The shape: the names, sorted, comma-separated.
                guard let shape else { return nil }
                var at = 0
                for (k, field) in sorted.enumerated() {
                    if k > 0 {
                        guard at < shape.count, shape[at] == UInt8(ascii: ",") else { return nil }
                        at += 1
                    }
                    let length = field.name.count - 2
                    guard at + length <= shape.count else { return nil }
                    for i in 0..<length where shape[at + i] != fields[field.name.lowerBound + 1 + i] { return nil }
                    at += length
                }
                guard at == shape.count else { return nil }
            } else {
                // No field: no shape.
                guard shape == nil else { return nil }
            }
            guard !untargeted, let targets else { return body(nil) }
            // The effect: SHA-256 of {"after":[{<name>:<after>,…}],"targets":<targets>,"tool":<tool>}, its first 16 hex
            // digits; with no field, of {"after":[],"targets":<targets>,"tool":<tool>}.
            var size = prefix.count + middle.count + targets.count + suffix.count + tool.count + 1
            for field in sorted where !field.after.isEmpty { size += field.name.count + 1 + field.after.count + 1 }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { out -> R in
                var n = 0
                func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                    for b in bytes {
                        out[n] = b
                        n += 1
                    }
                }
                if let fields, count > 0 {
                    prefix.withUnsafeBufferPointer(put)
                    var first = true
                    for field in sorted where !field.after.isEmpty {
                        if !first {
                            out[n] = UInt8(ascii: ",")
                            n += 1
                        }
                        first = false
                        put(UnsafeBufferPointer(rebasing: fields[field.name]))
                        out[n] = UInt8(ascii: ":")
                        n += 1
                        put(UnsafeBufferPointer(rebasing: fields[field.after]))
                    }
                    middle.withUnsafeBufferPointer(put)
                } else {
                    noFields.withUnsafeBufferPointer(put)
                }
                put(targets)
                suffix.withUnsafeBufferPointer(put)
                put(tool)
                out[n] = UInt8(ascii: "}")
                n += 1
                return body(UnsafeBufferPointer(rebasing: out[0..<n]))
            }
        }
    }

    /// One member of `fields_changed`: its name with its quotes, and its `after` value (empty when it
    /// has none), as ranges of the `fields_changed` text.
    struct FieldSpan {
        var name: Range<Int>
        var after: Range<Int>
    }

    /// The members of `fields_changed` (a valid JSON object text) into `spans`: their count, or nil when
    /// `DerivedColumns` would read them another way (a name with an escape or a byte outside printable
    /// ASCII, a value that is not an object of such names, a repeated name within a value, more than
    /// `JSONMembers.maxMembers`) or an after value is not plainly canonical.
    private static func fieldSpans(_ text: UnsafeBufferPointer<UInt8>, into spans: UnsafeMutableBufferPointer<FieldSpan>) -> Int? {
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 4) { inner in
            var count = 0
            let scanned = PlainJSON.members(of: text, from: 0) { name, value in
                guard count < spans.count, PlainJSON.isPlainName(text, name), text[value.lowerBound] == UInt8(ascii: "{") else { return false }
                // A field's object holds before and after: more than four members are left to the general way.
                var seen = 0
                var after: Range<Int>? = nil
                let read = PlainJSON.members(of: text, from: value.lowerBound) { innerName, innerValue in
                    guard seen < inner.count, PlainJSON.isPlainName(text, innerName) else { return false }
                    for k in 0..<seen where PlainJSON.equal(text, inner[k], innerName) { return false }
                    inner[seen] = innerName
                    seen += 1
                    if PlainJSON.equal(text, innerName, afterName) {
                        guard PlainJSON.end(of: text, from: innerValue.lowerBound) == innerValue.upperBound else { return false }
                        after = innerValue
                    }
                    return true
                }
                guard read else { return false }
                spans[count] = FieldSpan(name: name, after: after ?? 0..<0)
                count += 1
                return true
            }
            return scanned ? count : nil
        }
    }

    private static let null = Array("null".utf8), emptyList = Array("[]".utf8)
    /// `"after"` with its quotes.
    private static let afterName = Array(#""after""#.utf8)
    /// The effect document's fixed parts, around the after values, the targets and the tool.
    private static let prefix = Array(#"{"after":[{"#.utf8), middle = Array(#"}],"targets":"#.utf8), suffix = Array(#","tool":"#.utf8)
    private static let noFields = Array(#"{"after":[],"targets":"#.utf8)
    private static let hex = Array("0123456789abcdef".utf8)

    /// Insertion sort by name bytes (a handful of fields): for printable ASCII names, the order of
    /// `sorted()` and of RFC 8785's keys alike.
    private static func sortByName(_ spans: UnsafeMutableBufferPointer<FieldSpan>, in text: UnsafeBufferPointer<UInt8>) {
        guard spans.count > 1 else { return }
        for i in 1..<spans.count {
            let item = spans[i]
            var j = i
            while j > 0, PlainJSON.less(text, item.name, spans[j - 1].name) {
                spans[j] = spans[j - 1]
                j -= 1
            }
            spans[j] = item
        }
    }
}

/// Reading JSON text that is known to be valid (an indexed body's members), and telling which of it is
/// already in canonical form, without building values.
enum PlainJSON {
    /// Where the plainly canonical value starting at `start` ends, or nil when it is not one: `null`,
    /// `true`, `false`; a string of printable ASCII without escapes; a whole number of at most 15
    /// digits without a sign on zero (RFC 8785 writes those digits as they are); an array of such
    /// values without whitespace.
    static func end(of text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < text.count else { return nil }
        var i = start
        switch text[i] {
        case UInt8(ascii: "\""):
            i += 1
            while i < text.count {
                let b = text[i]
                if b == UInt8(ascii: "\"") { return i + 1 }
                // Control characters and escapes are written otherwise; any other byte as it is (the text
                // was read as valid UTF-8, and RFC 8785 copies every other character).
                guard b >= 0x20, b != UInt8(ascii: "\\") else { return nil }
                i += 1
            }
            return nil
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
            while i < text.count {
                if text[i] == UInt8(ascii: "\\") {
                    i += 2
                } else if text[i] == UInt8(ascii: "\"") {
                    return i + 1
                } else {
                    i += 1
                }
            }
            return nil
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
