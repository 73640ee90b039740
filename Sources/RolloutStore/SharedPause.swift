import Foundation
import RolloutCore

/// A tenant's last pause or resume as the audit store holds it. `rollout pause` writes it with its
/// audit event, so that the kill switch reaches the guards of every host writing the store (many hosts
/// share one PostgreSQL store), not only the host whose `tenants.yaml` it edited.
public struct SharedPause: Sendable, Equatable {
    public var tenant: String
    public var paused: Bool
    /// Who paused or resumed, and whether an automated actor did.
    public var by: String
    public var automated: Bool
    public var reason: String?
    public var at: Date
    /// The stage event that recorded it (0 until it is stored).
    public var auditSeq: Int64

    public init(tenant: String, paused: Bool, by: String, automated: Bool, reason: String?, at: Date, auditSeq: Int64 = 0) {
        self.tenant = tenant
        self.paused = paused
        self.by = by
        self.automated = automated
        self.reason = reason
        self.at = at
        self.auditSeq = auditSeq
    }
}

extension AuditStore {
    /// The tenant's last pause or resume recorded in the store, or nil when there is none.
    ///
    /// The table is not chained, and a row deleted or set to resumed by hand would lift the kill switch on
    /// every host (review 19): the chain's last pause or resume of the tenant that rollout wrote is read too
    /// (through a partial index, back past imported lines: many imported pause lines make it a longer walk). When it is a pause, the tenant is paused whatever the table says; when it is a
    /// resume whose row does not hold (its body or columns edited, or past the head), the tenant is paused
    /// too, since nothing then says it was resumed.
    public func sharedPause(tenant: String) throws -> SharedPause? {
        try read { sql in
            let row = try sql.queryOne("SELECT * FROM tenant_pauses WHERE tenant = ?", [.text(Self.pauseKey(tenant))])
            let stored = row.map { row in
                SharedPause(tenant: row.string("tenant"), paused: row.int("paused") != 0, by: row.string("by_actor"),
                            automated: row.int("automated") != 0, reason: row.optionalString("reason"),
                            at: Date(timeIntervalSince1970: Double(row.int("at_ms")) / 1000), auditSeq: row.int("audit_seq"))
            }
            if var stored, stored.paused {
                // Who paused is the chain's word, not the table's: its by and automated columns are not chained, and
                // a bot written there by hand could lift a person's pause with the chain still verifying (helper-79).
                // A pause the chain does not show (or shows unreadably) is a person's: only a person lifts it.
                let pauser = try pausedBy(tenant: tenant, sql)
                stored.by = pauser?.by ?? stored.by
                stored.automated = pauser?.automated ?? false
                return stored
            }
            return try chainedPause(tenant: tenant, sql) ?? stored
        }
    }

    /// The events that pause or resume a tenant (the condition of their partial index, v7).
    static let pauseEvents = "decision IN ('stage_pause', 'stage_resume')"

    /// Whether the chain's pauses can be looked up through their index: a SQLite store read without being
    /// migrated (read-only, written by an earlier rollout) has none, and a lookup would read every event.
    static func pausesIndexed(_ sql: any SQLConnection) throws -> Bool {
        guard sql.dialect == .sqlite else { return true }
        return try SQLiteEngine.applied(sql).contains("v7-pauses-in-the-chain")
    }

    /// Walks the tenant's pause and resume events that rollout wrote, newest first, through their partial index
    /// (in pages of 16), until `visit` returns false. Imported lines are skipped: `audit import` takes any decision,
    /// and an imported line pauses and resumes nothing, or a JSONL file of one `stage_resume` would lift a pause on
    /// every host. `visit` is given the event's sequence, its decision, and the event, nil when its row does not hold.
    /// Does nothing on a store without the index (see `pausesIndexed`).
    func walkPauses(tenant: String, _ sql: any SQLConnection,
                    _ visit: (_ seq: Int64, _ decision: String, _ event: AuditEvent?) throws -> Bool) throws {
        guard try Self.pausesIndexed(sql) else { return }
        let names = Array(Set([tenant, Self.pauseKey(tenant), tenant.decomposedStringWithCanonicalMapping]))
        let transaction = try StoreTransaction(sql: sql, chainKey: chainKey)
        var before = Int64.max
        while true {
            let rows = try sql.query("""
                SELECT seq, decision FROM audit_events WHERE tenant IN (\(names.map { _ in "?" }.joined(separator: ", "))) AND \(Self.pauseEvents)
                AND seq < ? ORDER BY seq DESC LIMIT 16
                """, names.map(SQLValue.text) + [.int(before)])
            guard !rows.isEmpty else { return }
            for row in rows {
                before = row.int(0)
                let event = try transaction.heldEvent(seq: row.int(0), readerWithoutKey: true)
                if event?.isImported == true { continue }
                guard try visit(row.int(0), row.string(1), event) else { return }
            }
        }
    }

    /// The pause the chain holds for `tenant` when its last pause or resume event says the tenant is
    /// paused (or its last resume does not hold), or nil when it says resumed (or holds none).
    func chainedPause(tenant: String, _ sql: any SQLConnection) throws -> SharedPause? {
        var found: (seq: Int64, decision: String, event: AuditEvent?)?
        try walkPauses(tenant: tenant, sql) { seq, decision, event in
            found = (seq, decision, event)
            return false
        }
        guard let (seq, decision, event) = found else { return nil }
        if decision == "stage_resume", event != nil { return nil }
        let reason = event == nil
            ? "the store's record of this tenant's last pause or resume (event \(seq)) does not hold: it was changed outside rollout; run rollout audit verify"
            : event?.reason.map { "\($0); the store's pause table does not say so: it was changed outside rollout" }
                ?? "the store's pause table does not say so: it was changed outside rollout"
        return SharedPause(tenant: Self.pauseKey(tenant), paused: true, by: event?.actor ?? "unknown", automated: event?.details["automated"] == .bool(true),
                           reason: reason, at: event?.ts ?? Date(timeIntervalSince1970: 0), auditSeq: seq)
    }

    /// Who holds the tenant paused, by the chain: a person's pause since its last resume (one that does not hold
    /// counts as a person's), else the latest automated one; nil when the chain shows none since.
    func pausedBy(tenant: String, _ sql: any SQLConnection) throws -> (by: String, automated: Bool)? {
        var latestBot: String?
        var person: String?
        try walkPauses(tenant: tenant, sql) { seq, decision, event in
            guard let event else {
                person = "unknown (event \(seq) does not hold)"
                return false
            }
            if decision == "stage_resume" { return false }
            if event.details["automated"] != .bool(true) {
                person = event.actor
                return false
            }
            latestBot = latestBot ?? event.actor
            return true
        }
        if let person { return (person, false) }
        return latestBot.map { ($0, true) }
    }

    /// Every tenant the store holds paused: in its pause table, or by its chain's last pause or resume.
    public func sharedPauses() throws -> [SharedPause] {
        let tenants = try read { sql in
            let listed = try sql.query("SELECT tenant FROM tenant_pauses WHERE paused <> 0").map { $0.string("tenant") }
            let chained = try Self.pausesIndexed(sql)
                ? try sql.query("SELECT DISTINCT tenant FROM audit_events WHERE \(Self.pauseEvents)").map { Self.pauseKey($0.string(0)) } : []
            return Set(listed + chained).sorted()
        }
        return try tenants.compactMap { try sharedPause(tenant: $0) }.filter(\.paused)
    }

    /// The tenant as pauses are keyed: composed (NFC), so that a name typed in another Unicode form
    /// (which tenants.yaml and the guard take as the same tenant) finds the same row.
    static func pauseKey(_ tenant: String) -> String { tenant.precomposedStringWithCanonicalMapping }

    static func record(_ pause: SharedPause, in sql: any SQLConnection) throws {
        try sql.execute("""
            INSERT INTO tenant_pauses (tenant, paused, by_actor, automated, reason, at_ms, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant) DO UPDATE SET paused = excluded.paused, by_actor = excluded.by_actor, automated = excluded.automated,
                reason = excluded.reason, at_ms = excluded.at_ms, audit_seq = excluded.audit_seq
            """, [.text(Self.pauseKey(pause.tenant)), .int(pause.paused ? 1 : 0), .text(pause.by), .int(pause.automated ? 1 : 0), SQLValue(pause.reason),
                  .int(millis(pause.at)), .int(pause.auditSeq)])
    }
}
