import Foundation
import Testing

@testable import RolloutCore

/// Every answer the fuzzer gets and every upstream result the guard passes on is checked for leaks, so
/// the detector runs a pattern's expression only on text holding a word the pattern cannot match
/// without. Skipping must never hide a leak: it finds what running every expression finds.
@Suite("Leak detector: the word check skips only what the expressions would not find")
struct LeakDetectorTests {
    static let texts: [String] = [
        "", "{\"ok\":true,\"rows\":[{\"id\":42,\"status\":\"shipped\"}]}",
        "(sqlite3.OperationalError) no such column: x [SQL: SELECT id, email FROM users WHERE id = ?] [parameters: (7,)]",
        "sElEcT a, b FROM t", "please update the order", "UPDATE orders SET status = 'x' WHERE id = 1", "insert into t values (1)",
        "DELETE  FROM carts", "delete the cart", "[parameters: ('alice@example.com',)]", "[parameters",
        "Traceback (most recent call last):\n  File \"/srv/app/main.py\", line 12, in <module>", "traceback (most recent call last)",
        "at com.acme.Orders.update(Orders.java:88)", "at Main(Main.kt:1)", "at x.y(Foo.swift:3)", "at a.b(C.scala:10)",
        "File \"/usr/lib/python3/site.py\", line 9", "/home/app/server.rb\", line 7", "/a/b.go, line x",
        "psycopg2.errors.UniqueViolation", "sqlalchemy.exc.IntegrityError: boom", "pymysql.err.OperationalError", "sqlite3.Error",
        "connect to postgresql://user:pw@db:5432/app failed", "redis://cache:6379", "mysql://root@localhost", "https://example.com",
        // Not ASCII: the expressions decide. ICU's (?i) folds the long s 'ſ' to 's' and the Kelvin sign to 'k'.
        "ſelect id FROM users", "ſELECT * FROM t", "commande ¡update ventes SET total = 1!", "café://x", "mongodb://hôte/db",
        "naïve text with no internals", String(repeating: "a", count: 5000) + " SELECT x FROM y",
        // Words apart by control characters that ICU's `\s` is not.
        "delete\u{0}from x", "SELECT\u{1C}a\u{1F}FROM b", "update\u{7F}t\u{1E}set x = 1", "INSERT\u{1D}INTO t", "select\u{0}",
        // A keyword not followed by a separator (a tool's name) sends nothing to the SQL expression.
        #"{"tool":"orders.update","result":{"set":1}}"#, "orders.update SET x", "updates SET x = 1", "update\"t SET x", "UPDATE\tt\tSET",
        "select", "SELECT", "deleteFROM x", "x.delete FROM carts",
        // Node, Ruby and Go frames, and psycopg2's error classes by module.
        "    at Object.<anonymous> (/srv/app/db.js:42:13)", "at /srv/app/db.mjs:1:2", "at f (/a/b.ts:3)", "see app.js:42:13",
        "/app/models/order.rb:12:in `save!'", "/app/models/order.rb:12", "/app/main.go:27 +0x1d", "main.go:27 +0x1d",
        "psycopg2.errors.UndefinedTable: relation \"orders\" does not exist", "psycopg2.errors",
    ]

    /// Texts of tokens drawn with a seed: keywords in both cases, each separator kind, quotes and dots
    /// beside them, and the other patterns' words: what the word check must agree with the expressions on.
    static let tokens = ["select", "SELECT", "update", "Update", "delete", "insert", "into", "from", "set", "FROM", "SET", " ", "\t", "\n",
                         "\u{0}", "\u{7F}", "\u{1C}", "\"", ".", "orders.update", "x", "_", "(", "*", ",", "[parameters:", "]", "://",
                         "postgres", ", line ", "1", "Traceback (most recent call last)", "sqlite3.", "Error",
                         "at ", "/srv", ".js:", ".rb:", ".go:", ":", ")", " +0x1d", ":in `", "psycopg2.errors."]

    @Test("leak(in:) agrees with every expression on 3,000 texts of drawn tokens")
    func agreesOnDrawnTexts() {
        var random = SeededRandom(seed: 19)
        var disagreements: [String] = []
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...12, using: &random)).map { _ in Self.tokens.randomElement(using: &random)! }.joined()
            if LeakDetector.leak(in: text) != LeakDetector.leakByExpressions(in: text) { disagreements.append(text) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }

    @Test("leak(in:) finds what every expression, none skipped, finds", arguments: texts)
    func agrees(_ text: String) {
        #expect(LeakDetector.leak(in: text) == LeakDetector.leakByExpressions(in: text))
    }

    @Test("each kind is found and named", arguments: [
        ("SELECT id FROM users WHERE 1", "an SQL statement"), ("oops [parameters: (1, 'x')]", "SQL parameters"),
        ("Traceback (most recent call last)", "a stack trace"), ("/srv/app.py\", line 3", "a source file path"),
        ("raised psycopg2.IntegrityError", "an exception class"), ("dsn postgres://u:p@h/db", "a connection string"),
        ("ſelect id FROM users", "an SQL statement"),
        ("    at Object.<anonymous> (/srv/app/db.js:42:13)", "a stack trace"), ("at /srv/app/db.js:42:13", "a stack trace"),
        ("/app/models/order.rb:12:in `save!'", "a stack trace"), ("goroutine 1 [running]:\nmain.main()\n\t/app/main.go:27 +0x1d", "a stack trace"),
        ("psycopg2.errors.UndefinedTable: relation \"orders\" does not exist", "an exception class"),
    ])
    func names(_ text: String, _ name: String) {
        #expect(LeakDetector.leak(in: text)?.hasPrefix(name + ":") == true)
    }

    /// ICU's `\s` is not NUL, 0x1C–0x1F, DEL or most of 0x80–0x9F, nor an invisible format character: a
    /// statement whose words those separate is found too.
    @Test("a statement whose words control or format characters separate is found", arguments: [
        "delete\u{0}from x", "SELECT\u{1C}a\u{1F}FROM b", "select\u{1}id,\u{8}email\u{1B}from users", "update\u{7F}t\u{1E}set x = 1",
        "INSERT\u{1D}INTO t VALUES (1)", "DELETE \u{0} FROM carts", "delete\u{80}from items", "SELECT\u{200B}id\u{FEFF}FROM users",
        "delete\u{2060}from x", "update\u{9F}t\u{180E}set x = 1",
    ])
    func separatedByControls(_ text: String) {
        #expect(LeakDetector.leak(in: text)?.hasPrefix("an SQL statement:") == true)
        #expect(LeakDetector.scrub(text).contains("[internal detail withheld]"))
    }

    /// The canonical text writes a NUL or a newline inside a string as `\u0000` or `\n`: a JSON answer is
    /// read string by string as decoded, and a string that is JSON itself (a tool's text content) too.
    @Test("a statement inside a JSON answer's string is found as the string says it", arguments: [
        ["structuredContent": ["sql": "delete\u{0}from items where id = 1"]],
        ["content": [["type": "text", "text": "failed: SELECT id, title\nFROM items"]]],
        ["content": [["type": "text", "text": #"{"error": "delete\u0000from items where id = 1"}"#]]],
        ["content": [["type": "text", "text": #"[{"detail": "SELECT id\nFROM users"}]"#]]],
        ["structuredContent": ["rows": [["note": "update\u{1F}items\u{1F}set title = 'x'"]]]],
    ] as [JSONValue])
    func insideJSON(_ answer: JSONValue) {
        #expect(LeakDetector.leak(in: answer.canonicalText) == nil, "the canonical text alone hides it (else this case shows nothing)")
        #expect(LeakDetector.leak(in: answer)?.hasPrefix("an SQL statement:") == true)
    }

    @Test("what the fuzzer sent is cleaned out of every string before the expressions read it")
    func cleaning() {
        let echo: JSONValue = ["content": [["type": "text", "text": #"{"title": "SELECT a\nFROM b"}"#]]]
        #expect(LeakDetector.leak(in: echo)?.hasPrefix("an SQL statement:") == true)
        #expect(LeakDetector.leak(in: echo, cleaning: { $0.replacingOccurrences(of: "SELECT a\nFROM b", with: "") }) == nil)
    }

    /// With a separator run allowed on both sides of SELECT's column list, "select" and a long run of
    /// separators without FROM took the expression cubic time (seconds for 800 NULs); it must end at once.
    @Test("a long run of separators after SELECT, without FROM, is judged without backtracking for good", .timeLimit(.minutes(1)))
    func noRunaway() {
        let text = String(repeating: "select" + String(repeating: "\u{0}", count: 2_000) + "x|", count: 20)
            + "select" + String(repeating: " ", count: 2_000) + "x"
        #expect(LeakDetector.leak(in: text) == nil)
        #expect(LeakDetector.leak(in: text + " FROM t")?.hasPrefix("an SQL statement:") == true)
    }

    /// From every `/` of a run the expressions scanned the rest of it: 20,000 segments took 13 s, and an
    /// upstream's answer could stall the guard. Each text holds the words that send it to the expressions.
    @Test("a long path without a match is judged in one pass", .timeLimit(.minutes(1)), arguments: [", line ", ".rb:", ".go:", ".js:"])
    func longPath(_ word: String) {
        let text = String(repeating: "/a", count: 80_000) + " " + word + " at x"
        #expect(LeakDetector.leak(in: text) == nil)
        // A group repeated once per segment overflowed ICU's stack here: no match, the leak unseen.
        #expect(LeakDetector.leak(in: String(repeating: "/a", count: 80_000) + ".rb:12:in `save!'")?.hasPrefix("a stack trace:") == true)
        #expect(LeakDetector.leak(in: "at " + String(repeating: "/a", count: 80_000) + ".js:1:2")?.hasPrefix("a stack trace:") == true)
        #expect(LeakDetector.scrub(text) == text)
    }

    @Test("a path is found whole, relative or not", arguments: [
        ("File \"/srv/app/main.py\", line 12", "/srv/app/main.py\", line 12"), ("./app/x.rb:3:in `f'", "./app/x.rb:3:in `"),
        ("app/models/order.rb:12:in `save!'", "app/models/order.rb:12:in `"), ("C:/app/x.go:1 +0x2", "/app/x.go:1 +0x2"),
    ])
    func wholePath(_ text: String, _ found: String) {
        #expect(LeakDetector.leak(in: text)?.hasSuffix(": " + found) == true, "\(LeakDetector.leak(in: text) ?? "nil")")
    }

    /// An expression that repeated a group once per character of SELECT's list overflowed ICU's stack on a
    /// long list, and the error ended the whole search: a statement later in the text went unseen. The list
    /// is one class of characters, which ICU loops over without its stack.
    @Test("a long column list, or a long word after SELECT, hides no statement", .timeLimit(.minutes(1)))
    func longList() {
        #expect(LeakDetector.leak(in: "SELECT " + String(repeating: "a,", count: 30_000) + "b FROM users")?.hasPrefix("an SQL statement:") == true)
        #expect(LeakDetector.leak(in: "select " + String(repeating: "a", count: 60_000) + ". Error: SELECT id FROM users WHERE id = 1")?
            .hasPrefix("an SQL statement:") == true)
        // SQLAlchemy's parameters without their closing bracket: found at once, however long the rest.
        #expect(LeakDetector.leak(in: String(repeating: "[parameters:", count: 20_000))?.hasPrefix("SQL parameters:") == true)
    }

    @Test("an answer without internals is clean", arguments: [
        "{\"ok\":true}", "updated the order, selected a carrier", "deleted nothing", "select\u{0}", "deleted\u{1C}from the cart",
        "see app.js:42:13 in the docs", "meet at 10:30 (room /b.js)", "order.rb:12", "main.go:27",
        "Select (optional) from the menu", "select [Save] from the toolbar", "Select `main` from the branch list",
        "To cancel, select Orders.Cancel (admin) from the menu", "update profile.settings set to dark", #"Update "Profile" set"#,
    ])
    func clean(_ text: String) {
        #expect(LeakDetector.leak(in: text) == nil)
    }
}
