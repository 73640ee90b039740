import Foundation
import RolloutCore
import RolloutStore

/// The guard's ledgers on the store's tables, inside one store transaction: what a decision reads
/// and writes besides the rows themselves. Everything it writes commits with the decision's audit
/// event. Written once against the store's SQL, so it holds on either engine: on PostgreSQL the
/// keys, caps and approvals are rows of the one database every guard host writes.
public final class StoreGuardLedger: GuardLedger {
    public private(set) var transaction: StoreTransaction
    public var sql: any SQLConnection { transaction.sql }

    public init(_ transaction: StoreTransaction) {
        self.transaction = transaction
    }

    static func millis(_ date: Date) -> Int64 { Timestamp.millis(date) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public func idempotency(tenant: String, key: String) throws -> IdempotencyEntry? {
        guard let row = try sql.queryOne("SELECT * FROM idempotency WHERE tenant = ? AND key = ?", [.text(tenant), .text(key)]) else {
            return try chainedIdempotency(tenant: tenant, key: key)
        }
        return IdempotencyEntry(
            tenant: row.string("tenant"), key: row.string("key"), tool: row.string("tool"), binding: row.string("effect_digest"),
            auditSeq: row.int("audit_seq"),
            // An unknown decision string is a newer rollout's: treat the key as unsettled, never as free to run.
            decision: DecisionCode(rawValue: row.string("decision")) ?? .inDoubt, result: (try? JSONValue.parse(row.string("result"))) ?? .null,
            createdAt: Self.date(row.int("created_ms")), backend: row.string("backend"))
    }

    static let keyEvents = KeyEventQuery(skipping: IdempotencyChain.neverHolding.map(\.rawValue))

    /// A key the ledger does not know, as the chain knows it: one index probe for a fresh key (none of
    /// its events); an in-doubt entry when an event that holds the key is there (`IdempotencyChain`).
    func chainedIdempotency(tenant: String, key: String) throws -> IdempotencyEntry? {
        let events = try transaction.eventsUsing(idempotencyKey: key, tenant: tenant, Self.keyEvents)
        let holder = IdempotencyChain.holder(newestFirst: events)
        if let failure = events.failure { throw failure }
        guard let seq = holder else { return nil }
        let event = try transaction.heldEvent(seq: seq)
        return IdempotencyEntry(
            tenant: tenant, key: key, tool: event?.tool ?? "", binding: "", auditSeq: seq, decision: .inDoubt, result: .null,
            createdAt: event?.ts ?? Date(timeIntervalSince1970: 0), backend: event?.backend ?? "", missingFromLedger: true)
    }

    public func releaseIdempotency(tenant: String, key: String) throws {
        try sql.execute("DELETE FROM idempotency WHERE tenant = ? AND key = ?", [.text(tenant), .text(key)])
    }

    public func saveIdempotency(_ entry: IdempotencyEntry) throws {
        try sql.execute("""
            INSERT INTO idempotency (tenant, key, tool, effect_digest, audit_seq, decision, result, created_ms, backend)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, key) DO UPDATE SET audit_seq = excluded.audit_seq, decision = excluded.decision, result = excluded.result
            """, [
                .text(entry.tenant), .text(entry.key), .text(entry.tool), .text(entry.binding), .int(entry.auditSeq), .text(entry.decision.rawValue),
                .text(entry.result.canonicalText), .int(Self.millis(entry.createdAt)), .text(entry.backend),
            ])
    }

    /// Counts the calls at or after `since` exactly, in at most three index ranges: whole minutes from
    /// `guard_call_buckets`, then the whole seconds before the first of them, then the calls of the
    /// partial second in `guard_calls` (a second's calls at most). Every call recorded is in its second
    /// and its minute, so the sum is the count the window holds, whatever order hosts' clocks wrote in.
    public func callCount(tenant: String, tool: String, actor: String?, since: Date, upTo limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        let from = Self.millis(since)
        // Within two minutes of Int64's ends the bucket arithmetic would overflow: there, every call of
        // the window is counted in guard_calls (no bucket starts at or after Int64.max).
        let nearEnd = from <= Int64.min + 120_000 || from >= Int64.max - 120_000
        let second = nearEnd ? Int64.max : Self.ceiling(from, 1000), minute = nearEnd ? Int64.max : Self.ceiling(from, 60000)
        let scope: [SQLValue] = [.text(tenant), .text(tool), .int(actor == nil ? 0 : 1), .text(actor ?? "")]
        let byActor = actor == nil ? "" : " AND actor = ?"
        let count = try sql.scalar("""
            SELECT CAST((SELECT count(*) FROM (SELECT 1 FROM guard_calls WHERE tenant = ? AND tool = ?\(byActor) AND ts_ms >= ? AND ts_ms < ? LIMIT ?) AS partial_second)
                 + (SELECT coalesce(sum(calls), 0) FROM guard_call_buckets
                    WHERE tenant = ? AND tool = ? AND scope = ? AND actor = ? AND span_ms = 1000 AND start_ms >= ? AND start_ms < ?)
                 + (SELECT coalesce(sum(calls), 0) FROM guard_call_buckets
                    WHERE tenant = ? AND tool = ? AND scope = ? AND actor = ? AND span_ms = 60000 AND start_ms >= ?) AS BIGINT)
            """, [.text(tenant), .text(tool)] + (actor.map { [.text($0)] } ?? []) + [.int(from), .int(second), .int(Int64(limit))]
                + scope + [.int(second), .int(minute)] + scope + [.int(minute)])?.int64 ?? 0
        return Int(min(count, Int64(limit)))
    }

    /// Records a call; the store's trigger adds it to its second's and minute's buckets (v4-cap-buckets).
    public func recordCall(tenant: String, tool: String, actor: String, at: Date, auditSeq: Int64) throws {
        try sql.execute("INSERT INTO guard_calls (tenant, tool, ts_ms, actor, audit_seq) VALUES (?, ?, ?, ?, ?)",
                        [.text(tenant), .text(tool), .int(Self.millis(at)), .text(actor), .int(auditSeq)])
    }

    /// The start of the `span`-long bucket holding `ms` (floor, for times before 1970 too).
    static func floor(_ ms: Int64, _ span: Int64) -> Int64 { ms - ((ms % span) + span) % span }
    /// The first bucket start at or after `ms`.
    static func ceiling(_ ms: Int64, _ span: Int64) -> Int64 {
        let start = floor(ms, span)
        return start == ms ? ms : start + span
    }

    /// A dry run counts only when its chained event says so: the table is not chained, so a row added to
    /// it by hand (its digest is anyone's to compute) must point at a `dry_run` event that holds, of the
    /// same tenant and tool (by their bytes), with the same binding (`DryRunBinding`), made since `since`.
    /// The table's `effect_digest` column holds the binding.
    public func hasDryRun(tenant: String, tool: String, binding: String, since: Date) throws -> Bool {
        let seqs = try sql.query("""
            SELECT audit_seq FROM dry_runs WHERE tenant = ? AND tool = ? AND effect_digest = ? AND created_ms >= ?
            ORDER BY created_ms DESC LIMIT 8
            """, [.text(tenant), .text(tool), .text(binding), .int(Self.millis(since))]).map { $0.int(0) }
        for seq in seqs {
            guard let event = try transaction.heldEvent(seq: seq) else { continue }
            // The event's time is whole milliseconds, the table's too: the same instant.
            if event.decision == DecisionCode.dryRun.rawValue, event.tenant.hasSameBytes(as: tenant), event.tool.hasSameBytes(as: tool),
               Self.millis(event.ts) >= Self.millis(since), event.details[DryRunBinding.detail]?.isIdentical(to: .string(binding)) == true {
                return true
            }
        }
        return false
    }

    public func recordDryRun(tenant: String, tool: String, binding: String, at: Date, auditSeq: Int64) throws {
        try sql.execute("INSERT INTO dry_runs (tenant, tool, effect_digest, created_ms, audit_seq) VALUES (?, ?, ?, ?, ?)",
                        [.text(tenant), .text(tool), .text(binding), .int(Self.millis(at)), .int(auditSeq)])
    }

    public func enqueue(_ approval: PendingApproval) throws -> Int64 {
        let row = try sql.queryOne("""
            INSERT INTO approvals (created_ms, expires_ms, tenant, actor, session, tool, wire_tool, arguments, args_digest, status, pending_seq,
                backend, subject)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING id
            """, [
                .int(Self.millis(approval.createdAt)), .int(Self.millis(approval.expiresAt)), .text(approval.tenant), .text(approval.actor),
                SQLValue(approval.session), .text(approval.tool), .text(approval.call.tool), .text(approval.call.arguments.canonicalText),
                .text(approval.call.argumentsDigest), .text(approval.status.rawValue), .int(approval.pendingSeq), .text(approval.backend),
                SQLValue(approval.subject),
            ])
        return row?.int(0) ?? 0
    }

    public func approval(id: Int64) throws -> PendingApproval? {
        try sql.queryOne("SELECT * FROM approvals WHERE id = ?", [.int(id)]).map(Self.approval)
    }

    static func approval(_ row: SQLRow) -> PendingApproval {
        PendingApproval(
            id: row.int("id"), createdAt: date(row.int("created_ms")), expiresAt: date(row.int("expires_ms")), tenant: row.string("tenant"),
            actor: row.string("actor"), session: row.optionalString("session"), subject: row.optionalString("subject"), tool: row.string("tool"),
            call: ToolCall(tool: row.string("wire_tool"), arguments: (try? JSONValue.parse(row.string("arguments"))) ?? .null),
            // An unknown status is a newer rollout's: never treat it as still pending.
            status: PendingApproval.Status(rawValue: row.string("status")) ?? .refused, pendingSeq: row.int("pending_seq"),
            decidedBy: row.optionalString("decided_by"), decidedAt: row.optionalInt("decided_ms").map(date),
            decisionReason: row.optionalString("decision_reason"), resultSeq: row.optionalInt("result_seq"), backend: row.string("backend"))
    }

    public func updateApproval(_ approval: PendingApproval) throws {
        try sql.execute("""
            UPDATE approvals SET status = ?, decided_by = ?, decided_ms = ?, decision_reason = ?, result_seq = ? WHERE id = ?
            """, [
                .text(approval.status.rawValue), SQLValue(approval.decidedBy), SQLValue(approval.decidedAt.map(Self.millis)),
                SQLValue(approval.decisionReason), SQLValue(approval.resultSeq), .int(approval.id),
            ])
    }

    public func checkedEvents(after seq: Int64, _ pick: EventPick, resuming earlier: CheckedEvents?) throws -> CheckedEvents {
        try transaction.checkedEvents(after: seq, pick, resuming: earlier)
    }

    public func rollback(of seq: Int64) throws -> Int64? {
        try sql.scalar("SELECT rollback_seq FROM rollbacks WHERE original_seq = ?", [.int(seq)])?.int64
    }

    public func recordRollback(of seq: Int64, by rollbackSeq: Int64) throws {
        try sql.execute("INSERT INTO rollbacks (original_seq, rollback_seq) VALUES (?, ?)", [.int(seq), .int(rollbackSeq)])
    }

    public func releaseRollback(of seq: Int64) throws {
        try sql.execute("DELETE FROM rollbacks WHERE original_seq = ?", [.int(seq)])
    }

    public func settleRollback(of seq: Int64, by rollbackSeq: Int64) throws {
        try sql.execute("UPDATE rollbacks SET rollback_seq = ? WHERE original_seq = ?", [.int(rollbackSeq), .int(seq)])
    }

    public func stashSecrets(seq: Int64, values: JSONValue) throws {
        try sql.execute("INSERT INTO secret_stash (audit_seq, \"values\") VALUES (?, ?) ON CONFLICT (audit_seq) DO UPDATE SET \"values\" = excluded.\"values\"",
                        [.int(seq), .text(values.canonicalText)])
    }

    public func stashedSecrets(seq: Int64) throws -> JSONValue? {
        try sql.scalar("SELECT \"values\" FROM secret_stash WHERE audit_seq = ?", [.int(seq)])?.string.flatMap { try? JSONValue.parse($0) }
    }

    public func append(_ event: AuditEvent) throws -> AuditEvent {
        try transaction.append(event)
    }

    public func event(seq: Int64) throws -> AuditEvent? {
        try AuditStore.event(seq: seq, in: sql)
    }

    public func heldEvent(seq: Int64) throws -> AuditEvent? {
        try transaction.heldEvent(seq: seq)
    }

    public func keyWrittenAfter(_ seq: Int64, tenant: String, key: String) throws -> Bool {
        let events = try transaction.eventsUsing(idempotencyKey: key, tenant: tenant, Self.keyEvents)
        for (at, event) in events where at > seq {
            guard let event else { return true }
            if IdempotencyChain.writesUnderKey(event) { return true }
        }
        if let failure = events.failure { throw failure }
        return false
    }

    /// Hands the transaction back, with the chain head it moved to.
    public func finish() -> StoreTransaction { transaction }
}

extension AuditStore {
    /// The approval `id`, whatever its status.
    public func approval(id: Int64) throws -> PendingApproval? {
        try read { sql in try sql.queryOne("SELECT * FROM approvals WHERE id = ?", [.int(id)]).map(StoreGuardLedger.approval) }
    }

    /// Approvals with `status` (all when nil), newest first.
    public func approvals(status: PendingApproval.Status? = .pending, tenant: String? = nil) throws -> [PendingApproval] {
        try read { sql in
            var query = "SELECT * FROM approvals WHERE 1 = 1"
            var arguments: [SQLValue] = []
            if let status {
                query += " AND status = ?"
                arguments.append(.text(status.rawValue))
            }
            if let tenant {
                query += " AND tenant = ?"
                arguments.append(.text(tenant))
            }
            query += " ORDER BY id DESC"
            return try sql.query(query, arguments).map(StoreGuardLedger.approval)
        }
    }
}
