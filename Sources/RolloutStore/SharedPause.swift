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
    public func sharedPause(tenant: String) throws -> SharedPause? {
        try read { sql in
            guard let row = try sql.queryOne("SELECT * FROM tenant_pauses WHERE tenant = ?", [.text(Self.pauseKey(tenant))]) else { return nil }
            return SharedPause(tenant: row.string("tenant"), paused: row.int("paused") != 0, by: row.string("by_actor"),
                               automated: row.int("automated") != 0, reason: row.optionalString("reason"),
                               at: Date(timeIntervalSince1970: Double(row.int("at_ms")) / 1000), auditSeq: row.int("audit_seq"))
        }
    }

    /// Every tenant the store holds paused.
    public func sharedPauses() throws -> [SharedPause] {
        try read { sql in
            try sql.query("SELECT tenant FROM tenant_pauses WHERE paused <> 0 ORDER BY tenant").map { $0.string("tenant") }
        }.compactMap { try sharedPause(tenant: $0) }
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
