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
}
