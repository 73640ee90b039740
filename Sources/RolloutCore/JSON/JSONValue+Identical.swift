extension JSONValue {
    /// Whether two values are the same JSON down to their text's bytes. Swift's `==` on strings calls two
    /// encodings of one character equal (`é`, and `e` followed by a combining accent), which the
    /// program behind the guard, a database or JavaScript do not: a check that lets a value through
    /// because it equals an allowed one (a subject, a listed value) must compare this way, or an agent
    /// passes the check with one spelling and the upstream receives another.
    public func isIdentical(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)):
            return a.hasSameBytes(as: b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            let left = a.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            let right = b.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return zip(left, right).allSatisfy { $0.key.hasSameBytes(as: $1.key) && $0.value.isIdentical(to: $1.value) }
        default:
            return self == other
        }
    }
}

extension String {
    /// Whether two strings hold the same UTF-8 bytes: what the program behind the guard compares,
    /// where Swift's `==` also calls canonically equivalent spellings equal (`\u{212A}` and `K`).
    @inlinable
    public func hasSameBytes(as other: String) -> Bool {
        // `==` is true for every pair with the same bytes, and quick to say no: the bytes are walked
        // only for a pair it calls equal.
        guard self == other else { return false }
        return utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}
