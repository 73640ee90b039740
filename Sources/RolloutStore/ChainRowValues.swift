/// A row as verification (`ChainRowCheck.select`) and scoring (`ScoringChunk`) read it: an `SQLRow`
/// (any engine), or SQLite's current row read in place (`SQLiteRowView`), which spares making a string
/// of every column of a million rows. Both give the same values and the same bytes: text as stored (bytes that are not
/// UTF-8 are kept as `.bytes`, never repaired), so the hash is checked over what is stored.
protocol ChainRowValues {
    /// The column's value, as `SQLRow` holds it.
    subscript(_ index: Int) -> SQLValue { get }
    /// `self[index].int64 ?? 0`.
    func int(_ index: Int) -> Int64
    /// Calls `body` with the column's bytes as stored: a string's UTF-8, `.bytes` as they are, a
    /// number's text, nothing for null.
    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R
    /// Whether `self[index]` is `.text`; a view of SQLite's row also says so of text that is not UTF-8
    /// (`.bytes` in a row), whose bytes equal no string's either way.
    func isText(_ index: Int) -> Bool
    /// Whether `self[index]` is `.null`.
    func isNull(_ index: Int) -> Bool
    /// The scorer's reading: as `withText`, with nil for null, except that a number stored in a text
    /// column may be handed out as SQLite writes it (verification never reads this way).
    func withOptionalText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R
}

extension ChainRowValues {
    func string(_ index: Int) -> String { self[index].string ?? "" }
    func optionalString(_ index: Int) -> String? { self[index].string }
}

extension SQLRow: ChainRowValues {
    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if case .bytes(let bytes) = self[index] { return try bytes.withUnsafeBufferPointer(body) }
        var text = string(index)
        return try text.withUTF8(body)
    }

    func isText(_ index: Int) -> Bool {
        if case .text = self[index] { return true }
        return false
    }

    func isNull(_ index: Int) -> Bool { self[index].isNull }

    func withOptionalText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        if isNull(index) { return try body(nil) }
        return try withText(index) { try body($0) }
    }
}
