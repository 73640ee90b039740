import Crypto
import RolloutCore

/// Verification's shortcut for the derived columns (`effect`, `shape`) of the common event: a one-row
/// write (or one that changed no field: a refusal) whose body `JSONMembers` indexes, whose field names
/// are printable ASCII, and whose tool, targets and after values are written as their canonical text
/// already (compact; strings without escapes or control characters, whole numbers, literals).
/// Such an event's effect is hashed from the body's own bytes, and its shape is its field names as
/// written: no value is built and the shortcut allocates nothing, and a million rows are checked.
///
/// It only ever *confirms*: `confirms` is true when both stored columns are exactly what
/// `DerivedColumns(members:)` gives for the body, and false when it cannot tell (another form of
/// event, a value that is not plainly canonical) or they differ; the caller then derives the columns
/// the general way, which also words the problem.
enum PlainDerivedColumns {
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
        guard DerivedColumns.scalarsReadable(members) else { return nil }
        switch members.kind(.changes) {
        case nil, .null?: break
        default: return nil
        }
        guard let tool = members.raw(.tool), tool[0] == UInt8(ascii: "\""), PlainJSON.end(of: tool, from: 0) == tool.count else { return nil }
        // No `fields_changed` (absent, null or empty: a refusal, a denial) is a write that changed no field.
        let fields: UnsafeBufferPointer<UInt8>?
        switch members.kind(.fieldsChanged) {
        case nil, .null?: fields = nil
        case .object?: fields = members.raw(.fieldsChanged)
        default: return nil
        }
        // Without targets there is no effect; with them, the targets must be written canonically.
        let targets = members.raw(.targets)
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
                // Copied by a function that captures nothing: a nested one writing a captured count
                // was checked for exclusive access at every call.
                var n = 0
                if let fields, count > 0 {
                    put(prefix, into: out, at: &n)
                    var first = true
                    for field in sorted where !field.after.isEmpty {
                        if !first {
                            out[n] = UInt8(ascii: ",")
                            n += 1
                        }
                        first = false
                        put(UnsafeBufferPointer(rebasing: fields[field.name]), into: out, at: &n)
                        out[n] = UInt8(ascii: ":")
                        n += 1
                        put(UnsafeBufferPointer(rebasing: fields[field.after]), into: out, at: &n)
                    }
                    put(middle, into: out, at: &n)
                } else {
                    put(noFields, into: out, at: &n)
                }
                put(targets, into: out, at: &n)
                put(suffix, into: out, at: &n)
                put(tool, into: out, at: &n)
                out[n] = UInt8(ascii: "}")
                n += 1
                return body(UnsafeBufferPointer(rebasing: out[0..<n]))
            }
        }
    }

    private static func put(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at n: inout Int) {
        guard let source = bytes.baseAddress, let target = out.baseAddress else { return }
        precondition(n + bytes.count <= out.count, "the effect document outgrew the size reckoned for it")
        (target + n).update(from: source, count: bytes.count)
        n += bytes.count
    }

    private static func put(_ bytes: [UInt8], into out: UnsafeMutableBufferPointer<UInt8>, at n: inout Int) {
        bytes.withUnsafeBufferPointer { put($0, into: out, at: &n) }
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
