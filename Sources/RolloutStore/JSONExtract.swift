import RolloutCore

/// What SQLite's `json_extract` returns for a member, read from the member's JSON text (as
/// `JSONMembers.raw` finds it in a body) instead of by SQLite's parser: the listing and the scorer read
/// a million bodies and `json_extract` was most of their time. Tested value by value against SQLite.
enum JSONExtract {
    /// The member's value as `json_extract` hands it to an `SQLRow`: nil for null, a string's value,
    /// an integer or real as SQLite's number made text, true and false as 1 and 0, an array or object
    /// as its JSON text (bodies are canonical: there is no space for SQLite to drop).
    static func value(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        switch raw.first {
        case UInt8(ascii: "n"): return nil
        case UInt8(ascii: "t"): return "1"
        case UInt8(ascii: "f"): return "0"
        case UInt8(ascii: "["), UInt8(ascii: "{"): return String(decoding: raw, as: UTF8.self)
        case UInt8(ascii: "\""):
            guard case .string(let value)? = try? JSONValue.parse(bytes: raw) else { return nil }
            return value
        default:
            let text = String(decoding: raw, as: UTF8.self)
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let integer = Int64(text) { return String(integer) }
            return Double(text).map { SQLValue.double($0).string } ?? text
        }
    }
}
