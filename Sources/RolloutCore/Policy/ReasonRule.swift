import Foundation

/// What counts as a real reason for a write. A reason that is missing, blank, too short, only
/// punctuation or a stock phrase ("n/a", "test", "as requested") is refused when reasons are required.
/// Both are judged on what a reader sees: a stock phrase is found through case, spacing, punctuation
/// between its words, compatibility forms (fullwidth or mathematical letters), look-alike letters of other
/// scripts, accents, repetition, several phrases in a row and words run together; the minimum counts a run
/// of spaces as one, characters that show nothing as none and wide (CJK) letters as two.
public struct ReasonRule: Sendable, Hashable {
    public var required: Bool
    public var minLength: Int
    public var maxLength: Int
    /// Stock phrases refused as reasons, compared by their letters and digits (`key`, spaces left out).
    public var boilerplate: [String] { didSet { stock = Stock(boilerplate) } }
    /// The stock phrases' keys, made once (not for every reason).
    private var stock: Stock

    /// The longest text, counted as the minimum counts it, whose key is compared with the stock phrases:
    /// they are short, and a reason that repeats one ("as requested as requested") stays short too.
    static let keyedLength = 80

    private struct Stock: Sendable, Hashable {
        /// Each phrase's key without its spaces, sorted (two rules with the same phrases are equal); none
        /// empty: a reason without words is refused for that.
        let keys: [[UInt8]]

        init(_ boilerplate: [String]) {
            keys = Set(boilerplate.map { ReasonRule.key($0).filter { $0 != 0x20 } }).filter { !$0.isEmpty }.sorted { $0.lexicographicallyPrecedes($1) }
        }

        /// Whether a text whose first word is `word` can still be phrases: a phrase starts with it, or it
        /// starts with a phrase (words run together).
        func opens(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
            keys.contains { phrase in phrase.starts(with: word) || word.starts(with: phrase) }
        }

        /// Whether `key`, its spaces left out, is stock phrases one after another: one phrase, one said
        /// again ("as requested as requested"), several ("todo, test, fix"), or run together ("asrequested").
        func contains(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
            let letters = key.filter { $0 != 0x20 }
            guard !letters.isEmpty else { return false }
            // reached[i]: the first i letters are whole phrases.
            var reached = [Bool](repeating: false, count: letters.count + 1)
            reached[0] = true
            for start in 0..<letters.count where reached[start] {
                for phrase in keys where phrase.count <= letters.count - start && !reached[start + phrase.count] {
                    if letters[start..<(start + phrase.count)].elementsEqual(phrase) { reached[start + phrase.count] = true }
                }
                if reached[letters.count] { return true }
            }
            return reached[letters.count]
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
        // One look at the bytes at or below the space: a control shows nothing, so text that holds one is
        // judged as a string, which leaves it out; two blanks in a row make a run, counted below.
        var paired = false
        var previousBlank = false
        for i in start..<end {
            let byte = bytes[i]
            guard byte <= 0x20 || byte == 0x7F else {
                previousBlank = false
                continue
            }
            if byte == 0x7F || !classes[Int(byte)].contains(.whitespace) { return problem(ofString: String(decoding: bytes, as: UTF8.self)) }
            if previousBlank { paired = true }
            previousBlank = true
        }
        // The maximum counts scalars (a CR LF is two), as for any text below.
        if end - start > maxLength { return "the reason is \(end - start) characters (Unicode scalars), at most \(maxLength) allowed" }
        guard required else { return nil }
        // In ASCII every scalar is a character (a CR LF pair is one, and whitespace): a run of whitespace
        // counts as one. Only text with two blanks in a row holds a run, so only such text is counted byte
        // by byte.
        var length = end - start
        if paired {
            length = 0
            var inGap = false
            for i in start..<end {
                let gap = classes[Int(bytes[i])].contains(.whitespace)
                if !(gap && inGap) { length += 1 }
                inGap = gap
            }
        }
        if length == 0 { return "the reason is blank" }
        if !(start..<end).contains(where: { classes[Int(bytes[$0])].contains(.wordy) }) { return "the reason has no words" }
        if length <= Self.keyedLength, isStock(ascii: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
            return "\"\(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))\" is boilerplate, not a reason"
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
        // What a reader sees: characters that show nothing (zero-width spaces, soft hyphens, fillers, the
        // blank braille pattern) are not there, so they neither pad a reason to its minimum nor hide a stock
        // phrase; a run of spaces is one.
        let seen = Self.trim(VisibleText.withoutUnseen(trimmed))
        let length = VisibleText.seenLength(seen)
        if seen.isEmpty { return "the reason is blank" }
        if !seen.unicodeScalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) {
            return "the reason has no words"
        }
        // Stock phrases are short; only short reasons need the comparison.
        if length <= Self.keyedLength, Self.key(seen).withUnsafeBufferPointer(stock.contains) { return "\"\(seen)\" is boilerplate, not a reason" }
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

    /// The words of a text, as stock phrases are compared: letters and digits lowercased, in their
    /// compatibility form (a fullwidth or mathematical letter is the letter, the Kelvin sign a K), without
    /// accents or characters that show nothing; anything else between words is one space (UTF-8).
    static func key(_ text: String) -> [UInt8] {
        var key: [UInt8] = []
        var gap = false
        for scalar in text.decomposedStringWithCompatibilityMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: continue
            default: if VisibleText.showsNothing(scalar) { continue }
            }
            guard scalar.properties.isAlphabetic || scalar.properties.numericType != nil else {
                gap = true
                continue
            }
            if gap, !key.isEmpty { key.append(0x20) }
            gap = false
            for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                if let latin = confusables[lower.value] { key.append(latin) } else { key.append(contentsOf: String(lower).utf8) }
            }
        }
        return key
    }

    /// Letters drawn as Latin ones (Cyrillic, Greek, Armenian, small capitals, the dotless i): a stock
    /// phrase spelled with them reads as the phrase ("аs requested" with a Cyrillic а).
    static let confusables: [UInt32: UInt8] = [
        0x430: 0x61, 0x435: 0x65, 0x43E: 0x6F, 0x440: 0x70, 0x441: 0x63, 0x443: 0x79, 0x445: 0x78, 0x456: 0x69, 0x458: 0x6A,
        0x455: 0x73, 0x501: 0x64, 0x4CF: 0x6C, 0x4BB: 0x68, 0x51B: 0x71, 0x51D: 0x77, 0x3B1: 0x61, 0x3BF: 0x6F, 0x3C1: 0x70,
        0x3B5: 0x65, 0x3B9: 0x69, 0x3BA: 0x6B, 0x3BD: 0x76, 0x3C4: 0x74, 0x3C5: 0x75, 0x3C7: 0x78, 0x131: 0x69, 0x237: 0x6A,
        // Cyrillic к, м, т, в, н drawn as Latin capitals' small forms; Latin alpha and script g; Armenian о, հ, ց, ս, ո.
        0x43A: 0x6B, 0x43C: 0x6D, 0x442: 0x74, 0x432: 0x62, 0x43D: 0x68, 0x251: 0x61, 0x261: 0x67,
        0x585: 0x6F, 0x570: 0x68, 0x581: 0x67, 0x57D: 0x75, 0x578: 0x6E,
        // Small capitals.
        0x1D00: 0x61, 0x299: 0x62, 0x1D04: 0x63, 0x1D05: 0x64, 0x1D07: 0x65, 0xA730: 0x66, 0x262: 0x67, 0x29C: 0x68, 0x26A: 0x69,
        0x1D0A: 0x6A, 0x1D0B: 0x6B, 0x29F: 0x6C, 0x1D0D: 0x6D, 0x274: 0x6E, 0x1D0F: 0x6F, 0x1D18: 0x70, 0x280: 0x72, 0xA731: 0x73,
        0x1D1B: 0x74, 0x1D1C: 0x75, 0x1D20: 0x76, 0x1D21: 0x77, 0x28F: 0x79, 0x1D22: 0x7A,
    ]

    /// Whether ASCII text is a stock phrase: its `key` made on its bytes, in a buffer on the stack, and
    /// given up after its first word when no phrase starts with it (the scorer asks this of every short
    /// reason it meets, and real reasons seldom start as a stock phrase does).
    func isStock(ascii bytes: UnsafeRawBufferPointer) -> Bool {
        let classes = ASCIIClasses.table
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(bytes.count, 1)) { key in
            var count = 0
            var gap = false
            var firstWord = true
            for byte in bytes {
                guard classes[Int(byte)].contains(.wordy) else {
                    gap = true
                    continue
                }
                if gap, count > 0 {
                    if firstWord {
                        guard stock.opens(UnsafeBufferPointer(rebasing: key[..<count])) else { return false }
                        firstWord = false
                    }
                    key[count] = 0x20
                    count += 1
                }
                gap = false
                key[count] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                count += 1
            }
            return stock.contains(UnsafeBufferPointer(rebasing: key[..<count]))
        }
    }

}
