import Foundation
import RolloutCore

/// Which events a compliance query reads: a period, optionally some tenants; rollout's own
/// control-plane events (`rollout.stage`) apart from the agents' calls.
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

    /// The condition and its arguments: the control events (`control` true), the agents' calls
    /// (false), or both (nil).
    func filter(control: Bool?) -> (String, [SQLValue]) {
        var sql = "ts_ms >= ? AND ts_ms < ? AND seq <= ?"
        var arguments: [SQLValue] = [.int(AuditStore.millis(from)), .int(AuditStore.millis(to)), .int(maxSeq)]
        if !tenants.isEmpty {
            sql += " AND tenant IN (\(tenants.map { _ in "?" }.joined(separator: ", ")))"
            arguments += tenants.map(SQLValue.text)
        }
        switch control {
        case true?: sql += " AND \(Self.isControlSQL)"
        case false?: sql += " AND NOT (\(Self.isControlSQL))"
        case nil: break
        }
        return (sql, arguments)
    }

    /// Whether a row is an event of rollout's own control plane, in SQL: its tool starts with `rollout.`
    /// and its decision with `stage_` (what `StageController` writes). The tool alone would not do: an
    /// agent's call to a tool it names `rollout.stage` is refused and recorded under that name, and is
    /// agent traffic all the same.
    static let isControlSQL = "(substr(tool, 1, 8) = 'rollout.' AND substr(decision, 1, 6) = 'stage_')"

    /// `isControlSQL` on a tool and a decision stored as text, by their bytes: ASCII characters are
    /// their first bytes. (A column stored as a blob is never a control event to SQL: a blob equals no text.)
    public static func isControl(tool: some Collection<UInt8>, decision: some Collection<UInt8>) -> Bool {
        tool.starts(with: controlPrefix) && decision.starts(with: stagePrefix)
    }

    private static let controlPrefix = Array("rollout.".utf8), stagePrefix = Array("stage_".utf8)
}

/// Which calls a compliance pass hands over whole (as events, decoded from their bodies): those with
/// one of `decisions`, and with `withApprover` every call that names an approver.
public struct ComplianceDetails: Sendable {
    public var decisions: Set<String>
    public var withApprover: Bool

    public init(decisions: Set<String>, withApprover: Bool = false) {
        self.decisions = decisions
        self.withApprover = withApprover
    }

    public static let none = ComplianceDetails(decisions: [])

    func wants(_ row: ComplianceRow) -> Bool {
        decisions.contains(row.decision) || (withApprover && row.approver != nil)
    }
}

extension AuditStore {
    /// The stage changes (promote, demote, pause, resume, approve) of the scope, oldest first.
    public func stageEvents(_ scope: ComplianceScope) throws -> [AuditEvent] {
        let (filter, arguments) = scope.filter(control: true)
        return try read { sql in
            try sql.query("SELECT seq, body FROM audit_events WHERE \(filter) ORDER BY seq", arguments)
                .map { try Self.decodeBody($0.string(1), seq: $0.int(0)) }
        }
    }

    /// The first call of `scope` (its period and tenants) after event `seq`, imported ones included: a report
    /// that says it listed its period through `seq` did not list it, whenever it was written.
    public func firstCall(_ scope: ComplianceScope, after seq: Int64) throws -> Int64? {
        var unbounded = scope
        unbounded.maxSeq = .max
        let (filter, arguments) = unbounded.filter(control: false)
        return try read { sql in
            try sql.scalar("SELECT seq FROM audit_events WHERE \(filter) AND seq > ? ORDER BY seq LIMIT 1", arguments + [.int(seq)])?.int64
        }
    }

    /// The stored hash of event `seq`, or nil when there is no such event.
    public func eventHash(seq: Int64) throws -> String? {
        try read { sql in try sql.scalar("SELECT hash FROM audit_events WHERE seq = ?", [.int(seq)])?.string }
    }

    /// Every agent call of the scope in chain order, streamed (memory stays flat on any period). For a
    /// call `details` asks for (the report's approvals and rollbacks), `event` decodes its whole event
    /// when called (nil for the others), so one pass over the period gathers what the report needs and
    /// only the events kept are decoded. With `control`, the scope's control events (`stageEvents`)
    /// come decoded to it from the same pass, in chain order among the calls: the period is read once.
    public func scanCompliance(_ scope: ComplianceScope, details: ComplianceDetails = .none,
                               control: ((AuditEvent) throws -> Void)? = nil,
                               _ body: (_ row: ComplianceRow, _ event: () throws -> AuditEvent?) throws -> Void) throws {
        let (filter, arguments) = scope.filter(control: control == nil ? false : nil)
        try read { sql in
            if let sqlite = sql as? SQLiteConnection {
                return try Self.scanCompliance(sqlite, filter: filter, arguments: arguments, details: details, control: control, body)
            }
            let decisions = details.decisions.sorted()
            var wanted = decisions.isEmpty ? "1 = 0" : "decision IN (\(decisions.map { _ in "?" }.joined(separator: ", ")))"
            if details.withApprover { wanted = "(\(wanted) OR approver IS NOT NULL)" }
            if control != nil { wanted = "(\(wanted) OR \(ComplianceScope.isControlSQL))" }
            try sql.each("""
                SELECT seq, ts, tenant, actor, tool, operation, \(sql.dialect.jsonMember("body", "targets")), row_count, decision, reason, approver,
                       idempotency_key, \(sql.dialect.jsonString("body", "message")), CASE WHEN \(wanted) THEN body END
                FROM audit_events WHERE \(filter) ORDER BY seq
                """, decisions.map(SQLValue.text) + arguments) { row in
                let seq = row.int(0)
                if let control, ComplianceScope.isControl(tool: row.string(4).utf8, decision: row.string(8).utf8) {
                    return try control(Self.decodeBody(row.optionalString(13) ?? "", seq: seq))
                }
                try body(ComplianceRow(seq: seq, ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                       operation: row.optionalString(5), targets: row.optionalString(6) ?? "[]", rowCount: Int(row.int(7)),
                                       decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                       idempotencyKey: row.optionalString(11), message: row.optionalString(12)),
                         { try row.optionalString(13).map { try Self.decodeBody($0, seq: seq) } })
            }
        }
    }

    /// On SQLite each row is read in place and `targets` and `message` are found in the body by
    /// `JSONMembers`, giving what `json_extract` gives (SQLite's own took half the listing's time): the
    /// member's text as written for an array or object (bodies are canonical: no space to drop), a
    /// string's value, a number's or boolean's value as SQLite returns it. A body it does not index
    /// (a name with an escape or beyond ASCII) is asked of `json_extract` itself.
    private static func scanCompliance(_ sql: SQLiteConnection, filter: String, arguments: [SQLValue], details: ComplianceDetails,
                                       control: ((AuditEvent) throws -> Void)?,
                                       _ body: (ComplianceRow, () throws -> AuditEvent?) throws -> Void) throws {
        try sql.eachView("""
            SELECT seq, ts, tenant, actor, tool, operation, body, row_count, decision, reason, approver, idempotency_key
            FROM audit_events WHERE \(filter) ORDER BY seq
            """, arguments) { row in
            let seq = row.int(0)
            // Text only, as SQL compares it: a tool stored as a blob equals no text, so it stays a call.
            if let control, row.isText(4), row.isText(8),
               row.withText(4, { tool in row.withText(8) { ComplianceScope.isControl(tool: tool, decision: $0) } }) {
                return try control(Self.decodeBody(row.string(6), seq: seq))
            }
            let (targets, message) = try row.withText(6) { text -> (String?, String?) in
                if let members = JSONMembers(text) {
                    return (members.raw(.targets).flatMap(JSONExtract.value), members.raw(.message).flatMap(JSONExtract.value))
                }
                let extracted = try sql.query("SELECT json_extract(body, '$.targets'), json_extract(body, '$.message') FROM audit_events WHERE seq = ?",
                                              [.int(seq)]).first
                return (extracted?.optionalString(0), extracted?.optionalString(1))
            }
            let listed = ComplianceRow(seq: seq, ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                       operation: row.optionalString(5), targets: targets ?? "[]", rowCount: Int(row.int(7)),
                                       decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                       idempotencyKey: row.optionalString(11), message: message)
            try body(listed) { details.wants(listed) ? try Self.decodeBody(row.string(6), seq: seq) : nil }
        }
    }
}
