/// Writes one JSON object in canonical form (RFC 8785) member by member, for hot paths that would
/// otherwise build a `JSONValue` object only to print it (a report's line per call). The caller gives
/// the members in canonical key order; a key out of order is a bug, caught in debug builds.
public struct CanonicalObjectWriter {
    private var bytes: [UInt8] = [0x7B]
    private var lastKey: String?

    public init() {
        bytes.reserveCapacity(256)
    }

    /// Appends `key: value`.
    public mutating func member(_ key: String, _ value: JSONValue) {
        assert(lastKey.map { JSONValue.canonicalKeyLess($0, key) } ?? true, "canonical members must come in key order: \(key) after \(lastKey!)")
        lastKey = key
        if bytes.count > 1 { bytes.append(0x2C) }
        JSONValue.writeString(key, into: &bytes)
        bytes.append(0x3A)
        JSONValue.write(value, into: &bytes, indent: nil, level: 0)
    }

    /// Appends `key:` and the canonical text `value` writes, for a value not built as a `JSONValue` first.
    public mutating func member(_ key: String, writing value: (inout [UInt8]) -> Void) {
        assert(lastKey.map { JSONValue.canonicalKeyLess($0, key) } ?? true, "canonical members must come in key order: \(key) after \(lastKey!)")
        lastKey = key
        if bytes.count > 1 { bytes.append(0x2C) }
        JSONValue.writeString(key, into: &bytes)
        bytes.append(0x3A)
        value(&bytes)
    }

    /// Appends `key: value`, null when there is no value.
    public mutating func member(_ key: String, _ value: String?) {
        member(key, value.map(JSONValue.string) ?? .null)
    }

    /// The object's text.
    public mutating func finish() -> String {
        String(decoding: finishBytes(), as: UTF8.self)
    }

    /// Appends the object's UTF-8 bytes to `out`.
    public mutating func finish(appendingTo out: inout [UInt8]) {
        bytes.append(0x7D)
        out.append(contentsOf: bytes)
    }

    /// The object's UTF-8 bytes.
    public mutating func finishBytes() -> [UInt8] {
        bytes.append(0x7D)
        return bytes
    }
}
