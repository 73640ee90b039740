/// A value bound to or read from a store's SQL, the same on every engine: SQLite's and PostgreSQL's
/// types are mapped onto these five.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    /// UTF-8 text already in bytes (a canonical body): bound as text, never as a blob.
    case bytes([UInt8])

    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    public init(_ value: Int64?) { self = value.map(SQLValue.int) ?? .null }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map(SQLValue.double) ?? .null }
    public init(_ value: Bool) { self = .int(value ? 1 : 0) }

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var int64: Int64? {
        switch self {
        case .int(let n): n
        case .double(let d): d.isFinite ? Int64(exactly: d.rounded(.towardZero)) : nil
        case .text(let s): Int64(s)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .int(let n): Double(n)
        case .double(let d): d
        case .text(let s): Double(s)
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .text(let s): s
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        case .int(let n): String(n)
        case .double(let d): String(d)
        case .null: nil
        }
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
}
