import Foundation
import RolloutCore

/// Counts of a period, computed by SQL: per day and decision, and per decision.
public struct ComplianceCounts: Sendable {
    /// (day "YYYY-MM-DD", decision, count), by day then decision.
    public var daily: [(day: String, decision: String, count: Int)]
    /// decision -> count.
    public var byDecision: [String: Int]
    public var total: Int
}

/// Which events a compliance query reads: a period, optionally some tenants; rollout's own
/// control-plane events (`rollout.stage`) are read separately.
public struct ComplianceScope: Sendable {
    public var from: Date
    public var to: Date
    /// Empty: every tenant.
    public var tenants: [String]
    /// Only events up to this sequence number: the chain head the report covers, so that events
    /// appended while it is made stay out of every part of it alike.
    public var maxSeq: Int64

    public init(from: Date, to: Date, tenants: [String] = [], maxSeq: Int64 = .max) {
        self.from = from
        self.to = to
        self.tenants = tenants
        self.maxSeq = maxSeq
    }

    func filter(control: Bool) -> (String, [SQLValue]) {
        var sql = "ts_ms >= ? AND ts_ms < ? AND seq <= ?"
        var arguments: [SQLValue] = [.int(AuditStore.millis(from)), .int(AuditStore.millis(to)), .int(maxSeq)]
        if !tenants.isEmpty {
            sql += " AND tenant IN (\(tenants.map { _ in "?" }.joined(separator: ", ")))"
            arguments += tenants.map(SQLValue.text)
        }
        sql += control ? " AND tool LIKE 'rollout.%'" : " AND tool NOT LIKE 'rollout.%'"
        return (sql, arguments)
    }
}

extension AuditStore {
    /// Per-day and per-decision counts of the agents' calls in the scope, grouped by SQLite.
    public func complianceCounts(_ scope: ComplianceScope) throws -> ComplianceCounts {
        let (filter, arguments) = scope.filter(control: false)
        return try read { sql in
            var daily: [(String, String, Int)] = []
            var byDecision: [String: Int] = [:]
            var total = 0
            try sql.each("""
                SELECT substr(ts, 1, 10) AS day, decision, count(*) FROM audit_events WHERE \(filter)
                GROUP BY day, decision ORDER BY day, decision
                """, arguments) { row in
                let decision = row.string(1), count = Int(row.int(2))
                daily.append((row.string(0), decision, count))
                byDecision[decision, default: 0] += count
                total += count
            }
            return ComplianceCounts(daily: daily, byDecision: byDecision, total: total)
        }
    }

    /// Events of the scope whose decision is one of `decisions` (or that carry an approver), oldest
    /// first, at most `limit`: the approvals, rollbacks and refusal examples of the report.
    public func complianceEvents(_ scope: ComplianceScope, decisions: [String], withApprover: Bool = false, limit: Int) throws -> [AuditEvent] {
        let (filter, arguments) = scope.filter(control: false)
        var condition = "decision IN (\(decisions.map { _ in "?" }.joined(separator: ", ")))"
        if withApprover { condition = "(\(condition) OR approver IS NOT NULL)" }
        return try read { sql in
            try sql.query("SELECT seq, body FROM audit_events WHERE \(filter) AND \(condition) ORDER BY seq LIMIT ?",
                          arguments + decisions.map(SQLValue.text) + [.int(Int64(limit))])
                .map { try Self.decodeBody($0.string(1), seq: $0.int(0)) }
        }
    }

    /// The stage changes (promote, demote, pause, resume, approve) of the scope, oldest first.
    public func stageEvents(_ scope: ComplianceScope) throws -> [AuditEvent] {
        let (filter, arguments) = scope.filter(control: true)
        return try read { sql in
            try sql.query("SELECT seq, body FROM audit_events WHERE \(filter) ORDER BY seq", arguments)
                .map { try Self.decodeBody($0.string(1), seq: $0.int(0)) }
        }
    }

    /// The stored hash of event `seq`, or nil when there is no such event.
    public func eventHash(seq: Int64) throws -> String? {
        try read { sql in try sql.scalar("SELECT hash FROM audit_events WHERE seq = ?", [.int(seq)])?.string }
    }

    /// Every agent call of the scope in chain order, streamed (memory stays flat on any period).
    public func scanCompliance(_ scope: ComplianceScope, _ body: (ComplianceRow) throws -> Void) throws {
        let (filter, arguments) = scope.filter(control: false)
        try read { sql in
            if let sqlite = sql as? SQLiteConnection {
                return try Self.scanCompliance(sqlite, filter: filter, arguments: arguments, body)
            }
            try sql.each("""
                SELECT seq, ts, tenant, actor, tool, operation, \(sql.dialect.jsonMember("body", "targets")), row_count, decision, reason, approver,
                       idempotency_key, \(sql.dialect.jsonString("body", "message"))
                FROM audit_events WHERE \(filter) ORDER BY seq
                """, arguments) { row in
                try body(ComplianceRow(seq: row.int(0), ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                       operation: row.optionalString(5), targets: row.optionalString(6) ?? "[]", rowCount: Int(row.int(7)),
                                       decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                       idempotencyKey: row.optionalString(11), message: row.optionalString(12)))
            }
        }
    }

    /// On SQLite each row is read in place and `targets` and `message` are found in the body by
    /// `JSONMembers`, giving what `json_extract` gives (SQLite's own took half the listing's time): the
    /// member's text as written for an array or object (bodies are canonical: no space to drop), a
    /// string's value, a number's or boolean's value as SQLite returns it. A body it does not index
    /// (a name with an escape or beyond ASCII) is asked of `json_extract` itself.
    private static func scanCompliance(_ sql: SQLiteConnection, filter: String, arguments: [SQLValue], _ body: (ComplianceRow) throws -> Void) throws {
        try sql.eachView("""
            SELECT seq, ts, tenant, actor, tool, operation, body, row_count, decision, reason, approver, idempotency_key
            FROM audit_events WHERE \(filter) ORDER BY seq
            """, arguments) { row in
            let seq = row.int(0)
            let (targets, message) = try row.withText(6) { text -> (String?, String?) in
                if let members = JSONMembers(text) {
                    return (members.raw("targets").flatMap(Self.extracted), members.raw("message").flatMap(Self.extracted))
                }
                let extracted = try sql.query("SELECT json_extract(body, '$.targets'), json_extract(body, '$.message') FROM audit_events WHERE seq = ?",
                                              [.int(seq)]).first
                return (extracted?.optionalString(0), extracted?.optionalString(1))
            }
            try body(ComplianceRow(seq: seq, ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                   operation: row.optionalString(5), targets: targets ?? "[]", rowCount: Int(row.int(7)),
                                   decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                   idempotencyKey: row.optionalString(11), message: message))
        }
    }

    /// A member's value as `json_extract` hands it to an `SQLRow`: nil for null, a string's value, an
    /// integer or real as SQLite's number made text, true and false as 1 and 0, an array or object as
    /// its JSON text.
    static func extracted(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        switch raw.first {
        case UInt8(ascii: "n"): return nil
        case UInt8(ascii: "t"): return "1"
        case UInt8(ascii: "f"): return "0"
        case UInt8(ascii: "["), UInt8(ascii: "{"): return String(decoding: raw, as: UTF8.self)
        case UInt8(ascii: "\""):
            guard case .string(let value)? = try? JSONValue.parse(bytes: raw) else { return nil }
            return value
        default:
            let text = String(decoding: raw, as: UTF8.self)
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let integer = Int64(text) { return String(integer) }
            return Double(text).map { SQLValue.double($0).string } ?? text
        }
    }
}
