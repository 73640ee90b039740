import Foundation

/// Finds internals in an answer meant for an agent: SQL statements and their parameters, stack traces,
/// source file paths, exception class names, connection strings. An answer that carries them tells an
/// attacker the schema, and its parameters may hold another user's data: the adversary reports it as a
/// `leak` finding, and the guard withholds it.
///
/// Every answer is checked (the fuzzer's every call, the guard's every upstream result), and most hold
/// nothing: a pattern's expression runs only on a text that holds one of the words it cannot match
/// without. The words are checked on an ASCII text's bytes; any other text goes to the expressions,
/// whose case-insensitive match also folds letters such as 'ſ' to 's'.
public enum LeakDetector {
    /// What was found, in words, or nil.
    public static func leak(in text: String) -> String? {
        let candidates = candidates(in: text)
        for (index, pattern) in patterns.enumerated() where candidates & (1 << index) != 0 {
            if let found = pattern.match(in: text) { return found }
        }
        return nil
    }

    /// The patterns (bits by index in `patterns`) whose expressions can match `text`: on an ASCII text,
    /// those one of whose words it holds; on any other, all.
    static func candidates(in text: String) -> UInt64 {
        guard !text.isEmpty else { return 0 }
        var utf8 = text
        return utf8.withUTF8 { bytes in
            bytes.contains { $0 >= 0x80 } ? ~0 : WordTable.shared.patterns(wordedIn: bytes)
        }
    }

    /// What was found in a JSON answer, or nil: in its canonical text, and in every string of it as
    /// decoded. The canonical text writes a NUL or a newline inside a string as `\u0000` or `\n`, which
    /// no expression reads as a separator, so "SELECT id\nFROM users" in a JSON string is found only
    /// decoded. A string that is JSON itself (a tool's text content often is) is read the same way, two
    /// levels deep. `cleaning` prepares each text before the expressions see it (the fuzzer takes out
    /// what it sent, which an answer may echo).
    public static func leak(in value: JSONValue, cleaning: (String) -> String = { $0 }) -> String? {
        if let found = leak(in: cleaning(value.canonicalText)) { return found }
        return leak(inStringsOf: value, cleaning: cleaning, depth: 0)
    }

    private static func leak(inStringsOf value: JSONValue, cleaning: (String) -> String, depth: Int) -> String? {
        switch value {
        case .string(let text):
            // A string the canonical text holds as it is (no control character, quote or backslash to
            // escape) was read there already; so were the strings of a JSON text without a backslash.
            guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return nil }
            if let found = leak(in: cleaning(text)) { return found }
            guard depth < 2, text.utf8.contains(0x5C), let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
                  first == UInt8(ascii: "{") || first == UInt8(ascii: "["), let inner = try? JSONValue.parse(text) else { return nil }
            return leak(inStringsOf: inner, cleaning: cleaning, depth: depth + 1)
        case .array(let items):
            for item in items {
                if let found = leak(inStringsOf: item, cleaning: cleaning, depth: depth) { return found }
            }
            return nil
        case .object(let members):
            for (name, member) in members {
                if let found = leak(inStringsOf: .string(name), cleaning: cleaning, depth: 2) ?? leak(inStringsOf: member, cleaning: cleaning, depth: depth) {
                    return found
                }
            }
            return nil
        case .null, .bool, .number:
            return nil
        }
    }

    /// What `leak(in:)` finds by running every expression, none skipped: what the word check must agree with.
    static func leakByExpressions(in text: String) -> String? {
        guard !text.isEmpty else { return nil }
        for pattern in patterns {
            if let found = pattern.match(in: text) { return found }
        }
        return nil
    }

    /// What a withheld part of a text is replaced with.
    static let withheld = "[internal detail withheld]"

    /// `text` with what leaks withheld, for the audit log and the agent: everything from the start of the
    /// line where the first leak starts. A leak runs on past what its pattern matches (a statement's
    /// next lines, `WHERE email = '…'`; a driver's `DETAIL:` line; a password after a quote; parameters
    /// past 200 characters), so what follows is never kept, and what precedes it on its line neither.
    /// A text whose kept part still leaks is withheld whole.
    public static func scrub(_ text: String) -> String {
        guard let first = firstLeakOffset(in: text) else { return text }
        let units = Array(text.utf16)
        var lineStart = first
        while lineStart > 0, units[lineStart - 1] != 0x0A { lineStart -= 1 }
        let kept = String(decoding: units[..<lineStart], as: UTF16.self) + withheld
        return leak(in: kept) == nil ? kept : withheld
    }

    /// Where the first match of any pattern starts (UTF-16 offset), or nil: the patterns `leak(in:)` would
    /// run, each asked for its first match.
    static func firstLeakOffset(in text: String) -> Int? {
        let candidates = candidates(in: text)
        var first: Int?
        for (index, pattern) in patterns.enumerated() where candidates & (1 << index) != 0 {
            if let range = pattern.firstRange(in: text), range.location < first ?? .max { first = range.location }
        }
        return first
    }

    /// One kind of internal detail: its expression, and the words a text holds wherever it matches.
    struct Pattern {
        let name: String
        let regex: NSRegularExpression
        /// The expression matches only a text holding one of these (compared ASCII-case-insensitively
        /// when `foldingCase`, as the expression's `(?i)` does).
        let words: [[UInt8]]
        let foldingCase: Bool
        /// Whether the expression has a separator right after each of its words (an SQL keyword): the
        /// text must then hold the word followed by one. Tool names such as `orders.update`, in nearly
        /// every answer the fuzzer reads, then no longer send the answer to the expression.
        let separated: Bool
        /// The search that gives `regex`'s matches in linear time, where the expression alone may not.
        let search: SQLStatementSearch?

        /// The expression's first match in `text` (UTF-16 offsets), or nil.
        func firstRange(in text: String) -> NSRange? {
            search.map { $0.firstMatch(in: text) } ?? regex.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count))?.range
        }

        /// The expression's first match in `text`, named. The match is quoted from its UTF-16 offsets:
        /// it may start or end inside a character as Swift counts them (ICU's `\b` passes over a format
        /// character such as U+0600, which joins the next letter; CR LF is one character), where a
        /// `Range` of the string's indices would be nil, and a match found must never read as none.
        func match(in text: String) -> String? {
            guard let range = firstRange(in: text) else { return nil }
            let units = text.utf16.dropFirst(range.location).prefix(min(range.length, 160))
            return "\(name): \(String(decoding: Array(units), as: UTF16.self).prefix(80))"
        }
    }

    /// Every pattern's words, found in one pass over an ASCII text: the first byte of each word (both
    /// cases where the pattern folds case) marks, in a table of 256, the words that may start there; only
    /// those are compared. A pass per word was 6.8% of a fuzz run once the stack frames' words came in.
    struct WordTable: Sendable {
        struct Word: Sendable {
            let bytes: [UInt8]
            let pattern: Int
            let foldingCase: Bool
            let separated: Bool
        }

        let words: [Word]
        /// By byte: the words (bits by index in `words`) whose first byte it is.
        let starts: [UInt64]

        static let shared = WordTable(LeakDetector.patterns)

        init(_ patterns: [Pattern]) {
            precondition(patterns.count <= 64, "a pattern's bit must fit in a word")
            var words: [Word] = []
            var starts = [UInt64](repeating: 0, count: 256)
            for (index, pattern) in patterns.enumerated() {
                for word in pattern.words {
                    guard let first = word.first else { continue }
                    precondition(words.count < 64, "a word's bit must fit in a word")
                    let bit: UInt64 = 1 << words.count
                    starts[Int(first)] |= bit
                    if pattern.foldingCase, first >= 0x61, first <= 0x7A { starts[Int(first - 0x20)] |= bit }
                    words.append(Word(bytes: word, pattern: index, foldingCase: pattern.foldingCase, separated: pattern.separated))
                }
            }
            self.words = words
            self.starts = starts
        }

        /// The patterns (bits by index) one of whose words the ASCII `text` holds; when a pattern's bit is
        /// clear, its expression cannot match the text. A separated word must be followed by a byte an
        /// ASCII text's separator can be (a control character, space or DEL: `SQLStatementSearch.separator` on ASCII).
        func patterns(wordedIn text: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var found: UInt64 = 0
            var open: UInt64 = words.count == 64 ? ~0 : (1 << words.count) - 1
            starts.withUnsafeBufferPointer { starts in
                var i = 0
                while i < text.count, open != 0 {
                    var candidates = starts[Int(text[i])] & open
                    while candidates != 0 {
                        let index = candidates.trailingZeroBitCount
                        candidates &= candidates - 1
                        let word = words[index]
                        guard Self.holds(word, in: text, at: i) else { continue }
                        found |= 1 << word.pattern
                        // The pattern is found: none of its words need looking for again.
                        for (other, candidate) in words.enumerated() where candidate.pattern == word.pattern { open &= ~(1 << other) }
                    }
                    i += 1
                }
            }
            return found
        }

        private static func holds(_ word: Word, in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
            let needed = word.bytes.count + (word.separated ? 1 : 0)
            guard text.count - start >= needed else { return false }
            for (j, byte) in word.bytes.enumerated() where fold(text[start + j], word.foldingCase) != byte { return false }
            guard word.separated else { return true }
            let next = text[start + word.bytes.count]
            return next <= 0x20 || next == 0x7F
        }

        private static func fold(_ byte: UInt8, _ foldingCase: Bool) -> UInt8 {
            foldingCase && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        }
    }

    /// A path (`/srv/app/db.py`, `app/models/order.rb`, `./x.go`), up to its last segment, which the
    /// extension that follows ends. Matched only from the start of a run of path characters, and with
    /// loops over single characters: from every `/` of a run, a text of 20,000 `/a` took 13 s against one
    /// expression (quadratic), and a group repeated once per segment overflowed ICU's stack on a long
    /// path (no match: the leak unseen), so an upstream's answer could stall the guard or hide a leak.
    static let path = #"(?<![\w.\-/])[\w.\-/]*/[\w.\-]*"#

    static let patterns: [Pattern] = [
        // Searched by `SQLStatementSearch`, which gives this expression's matches in linear time.
        ("an SQL statement", SQLStatementSearch.expression, ["select", "insert", "update", "delete"], true, true),
        ("SQL parameters", #"\[parameters:[^\]\n]{0,200}"#, ["[parameters:"], false, false),
        // Python's header; a JVM frame; a Node frame (`at f (/srv/db.js:42:13)`, or without its function);
        // a Ruby frame (`/app/order.rb:12:in `save!'`); a Go frame (`/app/main.go:27 +0x1d`).
        // Numbers and names are bounded: ICU keeps a state per character of `\d+` or `\w*` in an
        // alternation, and past about 250,000 of them its stack ends the search with no match, so a run
        // of digits before a real frame hid the frame.
        ("a stack trace", #"Traceback \(most recent call last\)|\bat [\w.$]+\([\w]+\.(java|kt|swift|scala):\d{1,12}\)|"#
            + #"\bat ([^\s()]+ \()?\#(path)\.(js|mjs|cjs|ts):\d{1,12}:\d{1,12}|\#(path)\.rb:\d{1,12}:in [`']|\#(path)\.go:\d{1,12} \+0x[0-9a-f]+"#,
         ["Traceback (most recent call last)", ".java:", ".kt:", ".swift:", ".scala:", ".js:", ".mjs:", ".cjs:", ".ts:", ".rb:", ".go:"], false, false),
        ("a source file path", #"\#(path)\.(py|rb|js|ts|java|go|swift|php)"?, line \d{1,12}"#, [", line "], false, false),
        // A class by its module path too: `sqlalchemy.exc.IntegrityError`, `pymysql.err.OperationalError`.
        ("an exception class", #"\b(sqlite3|psycopg2|sqlalchemy|pymysql)\.([\w]{1,64}\.){0,3}[\w]{0,64}(Error|Exception)\b|\bpsycopg2\.errors\.[\w]{1,64}"#,
         ["sqlite3.", "psycopg2.", "sqlalchemy.", "pymysql."], false, false),
        // Any case of the scheme, with a driver after `+` (`postgresql+psycopg2://`, `mongodb+srv://`).
        ("a connection string", #"(?i)\b(postgres(ql)?|mysql|mariadb|mongodb|rediss?|amqps?|mssql)(\+[\w]{1,40}){0,3}://[^\s"']+"#, ["://"], false, false),
    ].map { (name: String, pattern: String, words: [String], foldingCase: Bool, separated: Bool) in
        // Literals written here: one that did not compile is a bug, and dropping it would let that kind
        // of leak through the guard unseen.
        Pattern(name: name, regex: try! NSRegularExpression(pattern: pattern), words: words.map { Array($0.utf8) }, foldingCase: foldingCase,
                separated: separated, search: pattern == SQLStatementSearch.expression ? SQLStatementSearch.shared : nil)
    }
}
