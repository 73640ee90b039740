import Foundation

/// Finds internals in an answer meant for an agent: SQL statements and their parameters, stack traces,
/// source file paths, exception class names, connection strings. An answer that carries them tells an
/// attacker the schema, and its parameters may hold another user's data: the adversary reports it as a
/// `leak` finding, and the guard withholds it.
public enum LeakDetector {
    /// What was found, in words, or nil.
    public static func leak(in text: String) -> String? {
        guard !text.isEmpty else { return nil }
        for (name, regex) in patterns {
            let range = NSRange(text.startIndex..., in: text)
            if let match = regex.firstMatch(in: text, range: range), let r = Range(match.range, in: text) {
                return "\(name): \(String(text[r]).prefix(80))"
            }
        }
        return nil
    }

    /// `text` with every leaking part replaced, for the audit log.
    public static func scrub(_ text: String) -> String {
        var out = text
        for (_, regex) in patterns {
            out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "[internal detail withheld]")
        }
        return out
    }

    static let patterns: [(String, NSRegularExpression)] = [
        ("an SQL statement", #"(?i)\b(SELECT\s+[\w*,\s.]+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b[^\n"]*"#),
        ("SQL parameters", #"\[parameters:[^\]]*\]"#),
        ("a stack trace", #"Traceback \(most recent call last\)|\bat [\w.$]+\([\w]+\.(java|kt|swift|scala):\d+\)"#),
        ("a source file path", #"(/[\w.\-]+)+\.(py|rb|js|ts|java|go|swift|php)"?, line \d+"#),
        ("an exception class", #"\b(sqlite3|psycopg2|sqlalchemy|pymysql)\.\w*(Error|Exception)\b"#),
        ("a connection string", #"\b(postgres(ql)?|mysql|mongodb|redis)://[^\s"']+"#),
    ].compactMap { name, pattern in (try? NSRegularExpression(pattern: pattern)).map { (name, $0) } }
}
