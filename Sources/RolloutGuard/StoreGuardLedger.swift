import Foundation
import GRDB
import RolloutCore
import RolloutStore

/// The guard's ledgers on the store's tables, inside one store transaction: what a decision reads
/// and writes besides the rows themselves. Everything it writes commits with the decision's audit event.
public final class StoreGuardLedger: GuardLedger {
    public private(set) var transaction: StoreTransaction
    public var db: Database { transaction.db }

    public init(_ transaction: StoreTransaction) {
        self.transaction = transaction
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public func idempotency(tenant: String, key: String) throws -> IdempotencyEntry? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM idempotency WHERE tenant = ? AND key = ?"), arguments: [tenant, key]) else {
            return nil
        }
        return IdempotencyEntry(
            tenant: row["tenant"], key: row["key"], tool: row["tool"], effectDigest: row["effect_digest"], auditSeq: row["audit_seq"],
            // An unknown decision string is a newer rollout's: treat the key as unsettled, never as free to run.
            decision: DecisionCode(rawValue: row["decision"]) ?? .inDoubt, result: (try? JSONValue.parse(row["result"] as String)) ?? .null,
            createdAt: Self.date(row["created_ms"]), backend: row["backend"])
    }

    public func releaseIdempotency(tenant: String, key: String) throws {
        try db.cachedStatement(sql: "DELETE FROM idempotency WHERE tenant = ? AND key = ?").execute(arguments: [tenant, key])
    }

    public func saveIdempotency(_ entry: IdempotencyEntry) throws {
        try db.cachedStatement(sql: """
            INSERT INTO idempotency (tenant, key, tool, effect_digest, audit_seq, decision, result, created_ms, backend)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, key) DO UPDATE SET audit_seq = excluded.audit_seq, decision = excluded.decision, result = excluded.result
            """).execute(arguments: [
                entry.tenant, entry.key, entry.tool, entry.effectDigest, entry.auditSeq, entry.decision.rawValue,
                entry.result.canonicalText, Self.millis(entry.createdAt), entry.backend,
            ])
    }

    public func callCount(tenant: String, tool: String, actor: String?, since: Date) throws -> Int {
        if let actor {
            return try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM guard_calls WHERE tenant = ? AND tool = ? AND actor = ? AND ts_ms >= ?"),
                                    arguments: [tenant, tool, actor, Self.millis(since)]) ?? 0
        }
        return try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM guard_calls WHERE tenant = ? AND tool = ? AND ts_ms >= ?"),
                                arguments: [tenant, tool, Self.millis(since)]) ?? 0
    }

    public func recordCall(tenant: String, tool: String, actor: String, at: Date, auditSeq: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO guard_calls (tenant, tool, ts_ms, actor, audit_seq) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [tenant, tool, Self.millis(at), actor, auditSeq])
    }

    public func hasDryRun(tenant: String, tool: String, effectDigest: String, since: Date) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM dry_runs WHERE tenant = ? AND tool = ? AND effect_digest = ? AND created_ms >= ?)"),
                          arguments: [tenant, tool, effectDigest, Self.millis(since)]) ?? false
    }

    public func recordDryRun(tenant: String, tool: String, effectDigest: String, at: Date, auditSeq: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO dry_runs (tenant, tool, effect_digest, created_ms, audit_seq) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [tenant, tool, effectDigest, Self.millis(at), auditSeq])
    }

    public func enqueue(_ approval: PendingApproval) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO approvals (created_ms, expires_ms, tenant, actor, session, tool, wire_tool, arguments, args_digest, status, pending_seq,
                backend, subject)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                Self.millis(approval.createdAt), Self.millis(approval.expiresAt), approval.tenant, approval.actor, approval.session,
                approval.tool, approval.call.tool, approval.call.arguments.canonicalText, approval.call.argumentsDigest,
                approval.status.rawValue, approval.pendingSeq, approval.backend, approval.subject,
            ])
        return db.lastInsertedRowID
    }

    public func approval(id: Int64) throws -> PendingApproval? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM approvals WHERE id = ?", arguments: [id]) else { return nil }
        return Self.approval(row)
    }

    static func approval(_ row: Row) -> PendingApproval {
        PendingApproval(
            id: row["id"], createdAt: date(row["created_ms"]), expiresAt: date(row["expires_ms"]), tenant: row["tenant"],
            actor: row["actor"], session: row["session"], subject: row["subject"], tool: row["tool"],
            call: ToolCall(tool: row["wire_tool"], arguments: (try? JSONValue.parse(row["arguments"] as String)) ?? .null),
            // An unknown status is a newer rollout's: never treat it as still pending.
            status: PendingApproval.Status(rawValue: row["status"]) ?? .refused, pendingSeq: row["pending_seq"],
            decidedBy: row["decided_by"], decidedAt: (row["decided_ms"] as Int64?).map(date), decisionReason: row["decision_reason"],
            resultSeq: row["result_seq"], backend: row["backend"])
    }

    public func updateApproval(_ approval: PendingApproval) throws {
        try db.execute(sql: """
            UPDATE approvals SET status = ?, decided_by = ?, decided_ms = ?, decision_reason = ?, result_seq = ? WHERE id = ?
            """, arguments: [
                approval.status.rawValue, approval.decidedBy, approval.decidedAt.map(Self.millis), approval.decisionReason,
                approval.resultSeq, approval.id,
            ])
    }

    public func rollback(of seq: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT rollback_seq FROM rollbacks WHERE original_seq = ?", arguments: [seq])
    }

    public func recordRollback(of seq: Int64, by rollbackSeq: Int64) throws {
        try db.execute(sql: "INSERT INTO rollbacks (original_seq, rollback_seq) VALUES (?, ?)", arguments: [seq, rollbackSeq])
    }

    public func stashSecrets(seq: Int64, values: JSONValue) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO secret_stash (audit_seq, \"values\") VALUES (?, ?)", arguments: [seq, values.canonicalText])
    }

    public func stashedSecrets(seq: Int64) throws -> JSONValue? {
        try String.fetchOne(db, sql: "SELECT \"values\" FROM secret_stash WHERE audit_seq = ?", arguments: [seq]).flatMap { try? JSONValue.parse($0) }
    }

    public func append(_ event: AuditEvent) throws -> AuditEvent {
        try transaction.append(event)
    }

    public func event(seq: Int64) throws -> AuditEvent? {
        try AuditStore.event(seq: seq, in: db)
    }

    /// Hands the transaction back, with the chain head it moved to.
    public func finish() -> StoreTransaction { transaction }
}

extension AuditStore {
    /// The approval `id`, whatever its status.
    public func approval(id: Int64) throws -> PendingApproval? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM approvals WHERE id = ?", arguments: [id]).map(StoreGuardLedger.approval) }
    }

    /// Approvals with `status` (all when nil), newest first.
    public func approvals(status: PendingApproval.Status? = .pending, tenant: String? = nil) throws -> [PendingApproval] {
        try read { db in
            var sql = "SELECT * FROM approvals WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let tenant {
                sql += " AND tenant = ?"
                arguments += [tenant]
            }
            sql += " ORDER BY id DESC"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(StoreGuardLedger.approval)
        }
    }
}
