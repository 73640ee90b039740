import Foundation
import RolloutCore

/// What the dashboard of `rollout serve` asks for: one page of the agents' calls in a time range,
/// newest first, optionally searched and filtered by decision category.
public struct DashboardQuery: Sendable {
    public var from: Date
    public var to: Date
    /// Words looked for in the reason, tool, actor, tenant and the recorded arguments and values.
    public var search: String?
    /// Only these decision categories (executed, refused, pending, shadow...), when given.
    public var categories: Set<DecisionCategory>
    /// Keyset pagination: rows after this one in the page order (older, or as old with a lower sequence number).
    public var before: DashboardCursor?
    public var limit: Int
    /// A row's recorded body as a reader may see it (serve passes its redactor): a search finds only what
    /// this shows, so a secret value kept in the clear for rollbacks cannot be found, a letter at a time, by
    /// searching for it. Nil searches the body as stored.
    public var shown: (@Sendable (JSONValue) -> JSONValue)?
    /// How many rows the SQL may propose to one page of a search filtered by `shown` before the page ends,
    /// short, with where the next one starts: a search found only in secrets costs a bounded read per page.
    public var examineLimit = 8192

    public init(from: Date, to: Date, search: String? = nil, categories: Set<DecisionCategory> = [], before: DashboardCursor? = nil, limit: Int = 50) {
        self.from = from
        self.to = to
        self.search = search
        self.categories = categories
        self.before = before
        self.limit = limit
    }
}

/// Where a page of the dashboard ends: the last row's time and sequence number, the order the pages
/// follow (an imported log's times need not rise with its sequence numbers). As text: `TSMS.SEQ`.
public struct DashboardCursor: Sendable, Hashable, CustomStringConvertible {
    public var tsMillis: Int64
    public var seq: Int64

    public init(tsMillis: Int64, seq: Int64) {
        self.tsMillis = tsMillis
        self.seq = seq
    }

    /// From its text form; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let ts = Int64(parts[0]), let seq = Int64(parts[1]) else { return nil }
        self.init(tsMillis: ts, seq: seq)
    }

    public var description: String { "\(tsMillis).\(seq)" }
}

/// One page of rows, and where the next page starts when there is one.
public struct DashboardPage: Sendable {
    public var rows: [ComplianceRow]
    public var next: DashboardCursor?
}

extension AuditStore {
    /// A page of calls, newest first: read backwards along the time index, so the first page of a week
    /// costs the same on a million events as on a thousand.
    public func dashboard(_ query: DashboardQuery) throws -> DashboardPage {
        var conditions = ["ts_ms >= ?", "ts_ms < ?", "NOT \(ComplianceScope.isControlSQL)"]
        var arguments: [SQLValue] = [.int(Self.millis(query.from)), .int(Self.millis(query.to))]
        // An intent is the first half of a forwarded write: its outcome is the row that counts. Intents
        // show only when asked for (a guard that died between the two leaves one without an outcome).
        if !query.categories.contains(.intent) { conditions.append("decision <> 'intent'") }
        var search: String?
        var searchPattern: String?
        // Control characters (a NUL ends the text SQLite sees) are no part of a search.
        let cleaned = query.search.map { String(String.UnicodeScalarView($0.unicodeScalars.filter { $0.properties.generalCategory != .control })) }
        if let words = cleaned?.trimmingCharacters(in: .whitespaces), !words.isEmpty {
            // LIKE with `!` as the escape character: the search is literal text, `%` and `_` included.
            let escaped = words.lowercased().replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%")
                .replacingOccurrences(of: "_", with: "!_")
            // The body holds the tool, actor, tenant, arguments and values; the reason also in its own column
            // (the body escapes what JSON must). No lower() copy of every body: LIKE ignores case itself.
            searchPattern = "%" + escaped + "%"
            search = words
        }
        if !query.categories.isEmpty {
            let decisions = Self.decisions(in: query.categories)
            conditions.append("decision IN (" + decisions.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += decisions.map(SQLValue.text)
        }
        // With a search and a view of the body, the SQL match only proposes rows: each is kept when the reason
        // or the body as shown holds the words, and the next batch is read until the page is full.
        let filtered = search != nil && query.shown != nil
        let batch = filtered ? max(query.limit + 1, 256) : query.limit + 1
        return try read { sql in
            var conditions = conditions
            var arguments = arguments
            if let searchPattern {
                conditions.append("(\(sql.dialect.likeIgnoringCase("reason")) OR \(sql.dialect.likeIgnoringCase("body")))")
                arguments += [.text(searchPattern), .text(searchPattern)]
            }
            var rows: [ComplianceRow] = []
            var times: [Int64] = []
            var after = query.before
            var examined = 0
            var more = false
            while rows.count <= query.limit {
                // A search the SQL matches widely and the shown bodies do not (words found only in secrets) stops
                // after so many rows, and the page says where the next one starts: a page costs a bounded read.
                if examined >= query.examineLimit { more = true; break }
                var page = conditions
                var pageArguments = arguments
                if let after {
                    page.append("(ts_ms < ? OR (ts_ms = ? AND seq < ?))")
                    pageArguments += [.int(after.tsMillis), .int(after.tsMillis), .int(after.seq)]
                }
                pageArguments.append(.int(Int64(batch)))
                var read = 0
                try sql.each("""
                    SELECT seq, ts, tenant, actor, tool, operation, \(sql.dialect.jsonMember("body", "targets")), row_count, decision, reason, approver,
                           idempotency_key, \(sql.dialect.jsonString("body", "message")), ts_ms\(filtered ? ", body" : "")
                    FROM audit_events WHERE \(page.joined(separator: " AND ")) ORDER BY ts_ms DESC, seq DESC LIMIT ?
                    """, pageArguments) { row in
                    read += 1
                    after = DashboardCursor(tsMillis: row.int(13), seq: row.int(0))
                    guard rows.count <= query.limit else { return }
                    if filtered, let search, let shown = query.shown {
                        let reason = row.optionalString(9) ?? ""
                        let body = (try? JSONValue.parse(row.string(14))).map { shown($0).canonicalText } ?? ""
                        guard reason.range(of: search, options: .caseInsensitive) != nil || body.range(of: search, options: .caseInsensitive) != nil else { return }
                    }
                    rows.append(ComplianceRow(seq: row.int(0), ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                              operation: row.optionalString(5), targets: row.optionalString(6) ?? "[]", rowCount: Int(row.int(7)),
                                              decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                              idempotencyKey: row.optionalString(11), message: row.optionalString(12)))
                    times.append(row.int(13))
                }
                examined += read
                if read < batch { break }
            }
            var next: DashboardCursor?
            if rows.count > query.limit {
                rows.removeLast(rows.count - query.limit)
                next = rows.last.map { DashboardCursor(tsMillis: times[rows.count - 1], seq: $0.seq) }
            } else if more {
                next = after
            }
            return DashboardPage(rows: rows, next: next)
        }
    }

    /// The decision codes of some categories (as `DecisionCategory` files them).
    static func decisions(in categories: Set<DecisionCategory>) -> [String] {
        let known = DecisionCode.allCases.map(\.rawValue) + ["attempted", "allowed", "denied"]
        return known.filter { categories.contains(DecisionCategory(decision: $0)) }
    }
}

/// Calls per day and decision among the events after a sequence number: what the dashboard's chart
/// adds to the counts it already holds, so a million events are counted once, not on every page.
public struct DailyCountsDelta: Sendable {
    public var counts: [(day: String, decision: String, count: Int)]
    /// The highest sequence number counted (the `after` given when nothing was new).
    public var lastSeq: Int64
}

extension AuditStore {
    public func dailyCounts(after seq: Int64) throws -> DailyCountsDelta {
        try read { sql in
            var counts: [(day: String, decision: String, count: Int)] = []
            var last = seq
            try sql.each("""
                SELECT substr(ts, 1, 10) AS day, decision, count(*), max(seq) FROM audit_events
                WHERE seq > ? AND NOT \(ComplianceScope.isControlSQL) GROUP BY day, decision
                """, [.int(seq)]) { row in
                counts.append((row.string(0), row.string(1), Int(row.int(2))))
                last = max(last, row.int(3))
            }
            return DailyCountsDelta(counts: counts, lastSeq: last)
        }
    }
}
