import Foundation
import RolloutCore

/// A recorded scoring verdict for a tenant.
public struct ScoreRun: Sendable {
    public var tenant: String
    public var at: Date
    public var from: Date
    public var until: Date
    public var events: Int
    public var activeDays: Int
    public var anomalies: Int
    public var lastAnomalyAt: Date?
    public var lastAnomaly: String?

    public init(tenant: String, at: Date, from: Date, until: Date, events: Int, activeDays: Int, anomalies: Int, lastAnomalyAt: Date?, lastAnomaly: String?) {
        self.tenant = tenant
        self.at = at
        self.from = from
        self.until = until
        self.events = events
        self.activeDays = activeDays
        self.anomalies = anomalies
        self.lastAnomalyAt = lastAnomalyAt
        self.lastAnomaly = lastAnomaly
    }
}

/// A recorded gate evaluation.
public struct GateRun: Sendable {
    public var tenant: String
    public var at: Date
    public var nextStage: String?
    public var passed: Bool
    /// One line per gate: "fuzz: successful (…)".
    public var summary: String

    public init(tenant: String, at: Date, nextStage: String?, passed: Bool, summary: String) {
        self.tenant = tenant
        self.at = at
        self.nextStage = nextStage
        self.passed = passed
        self.summary = summary
    }
}

/// Raised when a stage change lost a race: another change to the tenant committed first.
public struct StageConflict: Error, Sendable, CustomStringConvertible {
    public var tenant: String

    public init(tenant: String) {
        self.tenant = tenant
    }

    public var description: String {
        "another stage change for tenant \(tenant) committed while this one was being decided; nothing was changed: look at `rollout status` and try again"
    }
}

extension AuditStore {
    /// The tenant's stage version: read it before deciding, pass it to `commitStageChange`.
    public func stageVersion(tenant: String) throws -> Int64 {
        try read { sql in try sql.scalar("SELECT version FROM stage_versions WHERE tenant = ?", [.text(tenant)])?.int64 ?? 0 }
    }

    /// Commits a stage change in one transaction, only if no other change to the tenant committed since
    /// `expectedVersion` was read: appends `event` to the audit log and runs `apply` (which writes
    /// tenants.yaml) inside the transaction, so a lost race changes neither.
    @discardableResult
    public func commitStageChange(tenant: String, expectedVersion: Int64, event: AuditEvent, at: Date, pause: SharedPause? = nil,
                                  apply: () throws -> Void) throws -> AuditEvent {
        try write { tx in
            let current = try tx.sql.scalar("SELECT version FROM stage_versions WHERE tenant = ?", [.text(tenant)])?.int64 ?? 0
            guard current == expectedVersion else { throw StageConflict(tenant: tenant) }
            try tx.sql.execute("""
                INSERT INTO stage_versions (tenant, version, updated_ms) VALUES (?, ?, ?)
                ON CONFLICT (tenant) DO UPDATE SET version = excluded.version, updated_ms = excluded.updated_ms
                """, [.text(tenant), .int(current + 1), .int(Self.millis(at))])
            let stored = try tx.append(event)
            if var pause {
                pause.auditSeq = stored.seq
                try Self.record(pause, in: tx.sql)
            }
            try apply()
            return stored
        }
    }

    public func recordScoreRun(_ run: ScoreRun) throws {
        try write { tx in
            try tx.sql.execute("""
                INSERT INTO score_runs (tenant, at_ms, from_ms, until_ms, events, active_days, anomalies, last_anomaly_ms, last_anomaly)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(run.tenant), .int(Self.millis(run.at)), .int(Self.millis(run.from)), .int(Self.millis(run.until)), SQLValue(run.events),
                     SQLValue(run.activeDays), SQLValue(run.anomalies), SQLValue(run.lastAnomalyAt.map(Self.millis)), SQLValue(run.lastAnomaly)])
        }
    }

    public func latestScoreRun(tenant: String) throws -> ScoreRun? {
        try read { sql in
            guard let row = try sql.queryOne("SELECT * FROM score_runs WHERE tenant = ? ORDER BY at_ms DESC LIMIT 1", [.text(tenant)]) else { return nil }
            func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
            return ScoreRun(tenant: row.string("tenant"), at: date(row.int("at_ms")), from: date(row.int("from_ms")), until: date(row.int("until_ms")),
                            events: Int(row.int("events")), activeDays: Int(row.int("active_days")), anomalies: Int(row.int("anomalies")),
                            lastAnomalyAt: row.optionalInt("last_anomaly_ms").map(date), lastAnomaly: row.optionalString("last_anomaly"))
        }
    }

    public func recordGateRun(_ run: GateRun) throws {
        try write { tx in
            try tx.sql.execute("INSERT INTO gate_runs (tenant, at_ms, next_stage, passed, summary) VALUES (?, ?, ?, ?, ?)",
                               [.text(run.tenant), .int(Self.millis(run.at)), SQLValue(run.nextStage), SQLValue(run.passed), .text(run.summary)])
        }
    }

    public func latestGateRun(tenant: String) throws -> GateRun? {
        try read { sql in
            guard let row = try sql.queryOne("SELECT * FROM gate_runs WHERE tenant = ? ORDER BY at_ms DESC LIMIT 1", [.text(tenant)]) else { return nil }
            return GateRun(tenant: row.string("tenant"), at: Date(timeIntervalSince1970: Double(row.int("at_ms")) / 1000),
                           nextStage: row.optionalString("next_stage"), passed: row.int("passed") != 0, summary: row.string("summary"))
        }
    }

    /// Folds the write-ahead log back into the database file (SQLite does this on its own as writes go on;
    /// after a large import, doing it at once keeps the next readers fast).
    public func checkpoint() throws {
        (engine as? SQLiteEngine)?.checkpoint()
    }

    /// The calls this rollout's guards recorded for `tenant` (of `tool` alone, when given) from `from` up to
    /// `to`: how many, and on how many days (UTC). Imported events (`details.imported`, whatever its value)
    /// are left out: the evidence a promotion asks for is what guards decided, not lines anyone may import;
    /// and rollout's own stage events. Tenants and tools are compared by their bytes, as `=` does.
    /// `includingImported` counts imported events too (tenants.yaml's `gates.imported_evidence`).
    public func guardedTraffic(tenant: String, tool: String?, from: Date, to: Date, includingImported: Bool = false) throws -> (events: Int, days: Int) {
        try read { sql in
            let imported = includingImported ? "1 = 1" : Self.recordedByGuard(sql.dialect)
            var query = """
                SELECT count(*), count(DISTINCT ts_ms / 86400000) FROM audit_events
                WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? AND NOT (substr(tool, 1, 8) = 'rollout.' AND substr(decision, 1, 6) = 'stage_')
                  AND \(imported)
                """
            var arguments: [SQLValue] = [.text(tenant), .int(Self.millis(from)), .int(Self.millis(to))]
            if let tool {
                query += " AND tool = ?"
                arguments.append(.text(tool))
            }
            guard let row = try sql.queryOne(query, arguments) else { return (0, 0) }
            return (Int(row.int(0)), Int(row.int(1)))
        }
    }

    /// An SQL condition on an `audit_events` row: its event was recorded by a guard, not imported (no
    /// `details.imported` member, whatever its value). Every `details` member of the body is looked at (one
    /// imported before duplicates were kept apart may name it twice): SQLite's path reads the first, the
    /// decoder the last. `json`, not `jsonb`, on PostgreSQL: the latter refuses `\u0000`.
    static func recordedByGuard(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: "NOT EXISTS (SELECT 1 FROM json_each(body) WHERE key = 'details' AND json_type(value, '$.imported') IS NOT NULL)"
        case .postgres: "((body)::json -> 'details' -> 'imported') IS NULL"
        }
    }

    /// The time of the latest audit event of any tenant (from the time index).
    public func latestEventTime() throws -> Date? {
        try read { sql in
            try sql.scalar("SELECT max(ts_ms) FROM audit_events", [])?.int64.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
    }

    /// The time of the tenant's latest audit event (from the index: fast on any size of log).
    public func lastEventTime(tenant: String) throws -> Date? {
        try read { sql in
            try sql.scalar("SELECT max(ts_ms) FROM audit_events WHERE tenant = ?", [.text(tenant)])?.int64
                .map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
    }
}
