import Foundation

/// Finds the SQL statements of a text as `expression` does, in time linear in the text. An answer that
/// holds "select " thousands of times and no FROM took the expression quadratic time (from each SELECT
/// its column list ran to the end of its run of list characters, then backtracked): 52 KB took 4.5 s,
/// and an upstream's answer or error message could stall the guard that checks it.
///
/// The search gives the expression's matches. A SELECT at `at`, whose list starts at `list`, matches
/// exactly when a separator then FROM (`froms`) starts after `list` and before the first character the
/// list cannot hold (`breaks`): the list is greedy, so the match runs to the last such FROM of that run,
/// then to the end of its line or the next quote. Each part is one of ICU's passes over the whole text
/// (ICU decides every character class and case fold, as in the expression), and SELECTs share their run's
/// answer, so nothing is scanned twice. The other statements (INSERT … INTO, UPDATE … SET, DELETE …
/// FROM) are found by a look-ahead at each start. A pass per SELECT would not do: every call into
/// `NSRegularExpression` copies the whole text first.
struct SQLStatementSearch: Sendable {
    /// What separates an SQL statement's words: ICU's `\s`, every control character (`\p{Cc}`: ICU's
    /// `\s` leaves out NUL, 0x1C–0x1F, DEL and most of 0x80–0x9F) and every invisible format character
    /// (`\p{Cf}`: U+200B, U+FEFF, U+2060, …): "delete\u{0}from x" is as much a statement.
    static let separator = #"[\s\p{Cc}\p{Cf}]"#
    /// What SELECT's column list may hold: words, `*`, `,`, `.` and separators.
    static let listCharacters = #"\w*,.\s\p{Cc}\p{Cf}"#
    /// A word character that is not a separator too. U+200C and U+200D are both (`\w` holds the joiners,
    /// and they are format characters): a table name of `\w+` between runs of separators split a run of
    /// joiners every way, and 800 of them after UPDATE took seconds.
    static let wordOnly = #"[\w--\p{Cf}]"#
    /// Where a keyword starts and ends. ICU's `\b` is never true before a format character and looks past
    /// one behind it, so "delete from\u{200B}users" and "a\u{200B}delete from users" held no statement:
    /// the keyword must not touch a word character other than a format character, nor follow one other
    /// than a mark (an emoji's variation selector, "⚠️SELECT", or an accent that joins nothing).
    static let before = #"(?<![\w--[\p{Cf}\p{M}]])"#, after = #"(?!\#(wordOnly))"#
    /// INSERT … INTO, UPDATE t SET, DELETE … FROM: the other statements' words, which the rest of the
    /// line follows.
    static let otherStatements = #"(INSERT\#(separator)+INTO|UPDATE\#(separator)+\#(wordOnly)+\#(separator)+SET|DELETE\#(separator)+FROM)\#(after)"#
    /// The one expression whose matches the search gives: one separator on each side of SELECT's column
    /// list, which may hold separators itself (with `+` on both sides as well, a run of separators
    /// without FROM made it cubic).
    static let expression = #"(?i)\#(before)(SELECT\#(separator)[\#(listCharacters)]+\#(separator)FROM|"#
        + #"INSERT\#(separator)+INTO|UPDATE\#(separator)+\#(wordOnly)+\#(separator)+SET|DELETE\#(separator)+FROM)\#(after)[^\n"]*"#

    static let shared = SQLStatementSearch()

    /// Where each other statement starts, overlapping ones too: the words in a look-ahead, so a match
    /// that runs on past the next start (its words may span lines) does not hide it. The expression's own
    /// iteration starts again after each of its matches, and a SELECT's match may end inside the words of
    /// an UPDATE whose match, taken whole, would hide the next statement.
    private let others = Self.compile(#"(?i)\#(before)(?=\#(otherStatements))"#)
    private let selects = Self.compile(#"(?i)\#(before)SELECT\#(separator)"#)
    private let froms = Self.compile(#"(?i)\#(separator)FROM\#(after)"#)
    /// Under the expression's flags, as its list is (case closure adds nothing to a set that holds `\w`).
    private let breaks = Self.compile("(?i)[^\(listCharacters)]+")

    /// Literals written here: one that did not compile is a bug, and dropping it would let statements
    /// through the guard unseen.
    private static func compile(_ pattern: String) -> NSRegularExpression {
        try! NSRegularExpression(pattern: pattern)
    }

    /// The expression's first match in `text` (UTF-16 offsets), or nil.
    func firstMatch(in text: String) -> NSRange? {
        let length = text.utf16.count
        let lineEnds = LineEnds(text: text)
        let other = firstOtherStatement(in: text, length: length, lineEnds: lineEnds)
        guard let select = firstSelect(in: text, length: length, lineEnds: lineEnds) else { return other }
        guard let other else { return select }
        return select.location < other.location ? select : other
    }

    /// The first match of the expression's other branches: the first start (the look-ahead finds
    /// overlapping ones too), its words, then the rest of their line.
    private func firstOtherStatement(in text: String, length: Int, lineEnds: LineEnds) -> NSRange? {
        var found: NSRange?
        others.enumerateMatches(in: text, range: NSRange(location: 0, length: length)) { match, _, stop in
            guard let match else { return }
            found = NSRange(location: match.range.location, length: lineEnds.end(from: match.range(at: 1).upperBound) - match.range.location)
            stop.pointee = true
        }
        return found
    }

    /// The first match of the expression's SELECT branch: the first SELECT that starts one.
    private func firstSelect(in text: String, length: Int, lineEnds: LineEnds) -> NSRange? {
        var starts: [(at: Int, list: Int)] = []
        selects.enumerateMatches(in: text, range: NSRange(location: 0, length: length)) { match, _, _ in
            if let match { starts.append((match.range.location, match.range.upperBound)) }
        }
        guard let first = starts.first else { return nil }
        let rest = NSRange(location: first.list, length: length - first.list)
        var fromAt: [(separator: Int, end: Int)] = []
        froms.enumerateMatches(in: text, options: .withTransparentBounds, range: rest) { match, _, _ in
            if let match { fromAt.append((match.range.location, match.range.upperBound)) }
        }
        guard !fromAt.isEmpty else { return nil }

        var found: NSRange?
        var next = 0, nextFrom = 0, lastFrom = -1
        // Settles every SELECT whose list starts at or before `runEnd`, the first character after `list`
        // that a list cannot hold (or the text's end). Returns true once one matches or none is left.
        func settle(upTo runEnd: Int) -> Bool {
            while lastFrom + 1 < fromAt.count, fromAt[lastFrom + 1].separator < runEnd { lastFrom += 1 }
            while next < starts.count, starts[next].list <= runEnd {
                let start = starts[next]
                next += 1
                // The list holds one character at least: FROM's separator comes after its first.
                while nextFrom < fromAt.count, fromAt[nextFrom].separator <= start.list { nextFrom += 1 }
                guard nextFrom < fromAt.count, fromAt[nextFrom].separator < runEnd else { continue }
                // Greedy: the list gives back characters from its run's end until a FROM follows.
                assert(lastFrom >= nextFrom, "the last FROM of a run is at or after its first")
                found = NSRange(location: start.at, length: lineEnds.end(from: fromAt[lastFrom].end) - start.at)
                return true
            }
            return next == starts.count
        }
        var stopped = false
        breaks.enumerateMatches(in: text, options: .withTransparentBounds, range: rest) { match, _, stop in
            guard let match, settle(upTo: match.range.location) else { return }
            stopped = true
            stop.pointee = true
        }
        if !stopped { _ = settle(upTo: length) }
        return found
    }

    /// Where the rest of a line ends (`[^\n"]*`): the first newline or quote at or after an offset, or the
    /// text's end, found by halving among the text's newlines and quotes, gathered when a statement
    /// first matches.
    final class LineEnds {
        let text: String
        private var stops: [Int]?

        init(text: String) { self.text = text }

        func end(from offset: Int) -> Int {
            if stops == nil {
                var found: [Int] = []
                for (i, unit) in text.utf16.enumerated() where unit == 0x0A || unit == 0x22 { found.append(i) }
                stops = found
            }
            let stops = stops!
            var low = 0, high = stops.count
            while low < high {
                let middle = (low + high) / 2
                if stops[middle] < offset { low = middle + 1 } else { high = middle }
            }
            return low < stops.count ? stops[low] : text.utf16.count
        }
    }
}
