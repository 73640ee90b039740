import Foundation

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
            // Each name of `a` finds the one name of `b` that `==` calls equal (names are unique under it),
            // which must hold the same bytes: with the counts equal, the names pair up one to one.
            guard a.count == b.count else { return false }
            for (name, value) in a {
                guard let index = b.index(forKey: name) else { return false }
                let member = b[index]
                guard member.key.hasSameBytes(as: name), member.value.isIdentical(to: value) else { return false }
            }
            return true
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
        // A native string's bytes are compared at once; a bridged one is walked.
        let compared = utf8.withContiguousStorageIfAvailable { mine in
            other.utf8.withContiguousStorageIfAvailable { theirs in
                mine.count == theirs.count && (mine.isEmpty || memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0)
            }
        }
        if case .some(.some(let same)) = compared { return same }
        return utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}
