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
        guard !text.isEmpty else { return nil }
        var utf8 = text
        return utf8.withUTF8 { bytes in
            let ascii = !bytes.contains { $0 >= 0x80 }
            for pattern in patterns where !ascii || pattern.isWorded(in: bytes) {
                if let found = pattern.match(in: text) { return found }
            }
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

    /// `text` with every leaking part replaced, for the audit log.
    public static func scrub(_ text: String) -> String {
        var out = text
        for pattern in patterns {
            out = pattern.regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "[internal detail withheld]")
        }
        return out
    }

    /// One kind of internal detail: its expression, and the words a text holds wherever it matches.
    struct Pattern {
        let name: String
        let regex: NSRegularExpression
        /// The expression matches only a text holding one of these (compared ASCII-case-insensitively
        /// when `foldingCase`, as the expression's `(?i)` does).
        let words: [[UInt8]]
        let foldingCase: Bool

        /// Whether the ASCII `text` holds one of `words`; when it does not, the expression cannot match it.
        func isWorded(in text: UnsafeBufferPointer<UInt8>) -> Bool {
            words.contains { LeakDetector.find($0, in: text, foldingCase: foldingCase) }
        }

        /// The expression's first match in `text`, named.
        func match(in text: String) -> String? {
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), let r = Range(match.range, in: text) else {
                return nil
            }
            return "\(name): \(String(text[r]).prefix(80))"
        }
    }

    /// Whether `word` (lowercase when `foldingCase`) occurs in `text`.
    static func find(_ word: [UInt8], in text: UnsafeBufferPointer<UInt8>, foldingCase: Bool) -> Bool {
        guard let first = word.first, word.count <= text.count else { return false }
        let last = text.count - word.count
        var i = 0
        while i <= last {
            if fold(text[i], foldingCase) == first {
                var j = 1
                while j < word.count, fold(text[i + j], foldingCase) == word[j] { j += 1 }
                if j == word.count { return true }
            }
            i += 1
        }
        return false
    }

    private static func fold(_ byte: UInt8, _ foldingCase: Bool) -> UInt8 {
        foldingCase && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// What separates an SQL statement's words: ICU's `\s`, and every other control character (ICU's
    /// `\s` leaves out NUL, 0x1C–0x1F and DEL, and "delete\u{0}from x" is as much a statement).
    static let separator = #"\s\x00-\x1F\x7F"#

    static let patterns: [Pattern] = [
        ("an SQL statement", #"(?i)\b(SELECT[\#(separator)]+[\w*,.\#(separator)]+[\#(separator)]+FROM|INSERT[\#(separator)]+INTO|"#
            + #"UPDATE[\#(separator)]+\w+[\#(separator)]+SET|DELETE[\#(separator)]+FROM)\b[^\n"]*"#,
         ["select", "insert", "update", "delete"], true),
        ("SQL parameters", #"\[parameters:[^\]]*\]"#, ["[parameters:"], false),
        ("a stack trace", #"Traceback \(most recent call last\)|\bat [\w.$]+\([\w]+\.(java|kt|swift|scala):\d+\)"#,
         ["Traceback (most recent call last)", ".java:", ".kt:", ".swift:", ".scala:"], false),
        ("a source file path", #"(/[\w.\-]+)+\.(py|rb|js|ts|java|go|swift|php)"?, line \d+"#, [", line "], false),
        ("an exception class", #"\b(sqlite3|psycopg2|sqlalchemy|pymysql)\.\w*(Error|Exception)\b"#,
         ["sqlite3.", "psycopg2.", "sqlalchemy.", "pymysql."], false),
        ("a connection string", #"\b(postgres(ql)?|mysql|mongodb|redis)://[^\s"']+"#, ["://"], false),
    ].map { (name: String, pattern: String, words: [String], foldingCase: Bool) in
        // Literals written here: one that did not compile is a bug, and dropping it would let that kind
        // of leak through the guard unseen.
        Pattern(name: name, regex: try! NSRegularExpression(pattern: pattern), words: words.map { Array($0.utf8) }, foldingCase: foldingCase)
    }
}
