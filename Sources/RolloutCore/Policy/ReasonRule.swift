import Foundation

/// What counts as a real reason for a write. A reason that is missing, blank, too short, only
/// punctuation or a stock phrase ("n/a", "test", "as requested") is refused when reasons are required.
public struct ReasonRule: Sendable, Hashable {
    public var required: Bool
    public var minLength: Int
    public var maxLength: Int
    /// Stock phrases refused as reasons, compared case-insensitively after trimming.
    public var boilerplate: [String] { didSet { stock = Stock(boilerplate) } }
    /// The stock phrases lowercased, once (not for every reason), and the longest one's length in
    /// bytes: a longer ASCII text cannot equal any of them, not even in another Unicode form (a scalar
    /// whose canonical form is ASCII takes two bytes or more), so it is not made a string to compare.
    private var stock: Stock

    private struct Stock: Sendable, Hashable {
        let phrases: Set<String>
        let longestBytes: Int

        init(_ boilerplate: [String]) {
            phrases = Set(boilerplate.map { $0.lowercased() })
            longestBytes = phrases.map(\.utf8.count).max() ?? -1
        }
    }

    public static let defaultBoilerplate = [
        "n/a", "na", "none", "null", "nil", "test", "testing", "todo", "tbd", "fix", "update", "change",
        "because", "reason", "no reason", "as requested", "requested", "user asked", "asked", "ok", "done",
        "asdf", "xxx", "-", "...", "?", "see above", "misc",
    ]

    public init(required: Bool = true, minLength: Int = 8, maxLength: Int = 2_000, boilerplate: [String] = defaultBoilerplate) {
        self.required = required
        self.minLength = minLength
        self.maxLength = maxLength
        self.boilerplate = boilerplate
        stock = Stock(boilerplate)
    }

    /// Why `reason` is not acceptable, or nil. When reasons are optional only the length limit applies.
    public func problem(with reason: String?) -> String? {
        guard var text = reason else { return problem(ofString: nil) }
        return text.withUTF8 { problem(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The verdict `problem(with:)` gives on the text of these UTF-8 bytes. ASCII, what agents write,
    /// is judged on its bytes with the Unicode properties of ASCII looked up in a table (the scorer
    /// meets a million reasons, most of them unique); other text is made a string.
    public func problem(utf8 bytes: UnsafeRawBufferPointer) -> String? {
        guard let ascii = ASCIIText(bytes) else { return problem(ofString: String(decoding: bytes, as: UTF8.self)) }
        return problem(ascii: ascii)
    }

    /// The verdict on ASCII text, judged on its bytes.
    public func problem(ascii text: ASCIIText) -> String? {
        let bytes = text.bytes
        let classes = ASCIIClasses.table
        var start = 0, end = bytes.count
        while start < end, classes[Int(bytes[start])].contains(.whitespace) { start += 1 }
        while end > start, classes[Int(bytes[end - 1])].contains(.whitespace) { end -= 1 }
        // In ASCII every scalar is a character but a CR LF pair, which is one.
        var length = end - start
        if length > 1 {
            for i in start..<(end - 1) where bytes[i] == 0x0D && bytes[i + 1] == 0x0A { length -= 1 }
        }
        // The maximum counts scalars (a CR LF is two), as for any text below.
        if end - start > maxLength { return "the reason is \(end - start) characters (Unicode scalars), at most \(maxLength) allowed" }
        guard required else { return nil }
        if length == 0 { return "the reason is blank" }
        if !(start..<end).contains(where: { classes[Int(bytes[$0])].contains(.wordy) }) { return "the reason has no words" }
        if length <= 40 {
            var keyStart = start, keyEnd = end
            // Punctuation and the spaces it leaves ("as requested ." is "as requested").
            while keyStart < keyEnd, !classes[Int(bytes[keyStart])].isDisjoint(with: [.punctuation, .whitespace]) { keyStart += 1 }
            while keyEnd > keyStart, !classes[Int(bytes[keyEnd - 1])].isDisjoint(with: [.punctuation, .whitespace]) { keyEnd -= 1 }
            if keyEnd - keyStart <= stock.longestBytes {
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyEnd]), as: UTF8.self).lowercased()
                if stock.phrases.contains(key) {
                    return "\"\(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))\" is boilerplate, not a reason"
                }
            }
        }
        if length < minLength { return "the reason is \(length) characters, at least \(minLength) required" }
        return nil
    }

    /// The verdict on any text, by its characters and their Unicode properties.
    func problem(ofString reason: String?) -> String? {
        let trimmed = reason.map(Self.trim) ?? ""
        // A maximum bounds the text: Unicode scalars (accents that join a letter count); the minimum counts
        // characters as read, so accents do not pad a reason to it.
        let scalars = trimmed.unicodeScalars.count
        if scalars > maxLength { return "the reason is \(scalars) characters (Unicode scalars), at most \(maxLength) allowed" }
        guard required else { return nil }
        guard reason != nil else { return "a reason is required" }
        // What a reader sees: characters that show nothing (zero-width spaces, soft hyphens, fillers) are
        // not there, so they neither pad a reason to its minimum nor hide a stock phrase.
        let seen = Self.trim(VisibleText.withoutIgnorables(trimmed))
        let length = seen.count
        if seen.isEmpty { return "the reason is blank" }
        if !seen.unicodeScalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) {
            return "the reason has no words"
        }
        // Stock phrases are short; only short reasons need the comparison.
        if length <= 40 {
            let key = Self.trimPunctuation(seen.lowercased())
            if stock.phrases.contains(key) { return "\"\(seen)\" is boilerplate, not a reason" }
        }
        if length < minLength { return "the reason is \(length) characters, at least \(minLength) required" }
        return nil
    }

    /// Whitespace and newlines removed from both ends, without Foundation's bridging.
    static func trim(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// Punctuation and whitespace removed from both ends.
    static func trimPunctuation(_ s: String) -> String {
        let scalars = s.unicodeScalars
        func edge(_ c: Unicode.Scalar) -> Bool { ASCIIClasses.isPunctuation(c) || c.properties.isWhitespace }
        guard let first = scalars.firstIndex(where: { !edge($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !edge($0) })!
        return String(scalars[first...last])
    }

}
