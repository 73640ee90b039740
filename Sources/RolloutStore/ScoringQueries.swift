import Foundation
import RolloutCore

/// Which events a rate series counts.
public enum RateDimension: String, Sendable, CaseIterable {
    case tenant, tool, actor
}

extension AuditStore {
    /// Tenants with events in the window, in order. The tenant index is walked from one tenant to the
    /// next (a seek each) and each is asked for an event in the window: no pass over the window's rows,
    /// which for a million events took longer than scoring them.
    public func tenants(from: Date, to: Date) throws -> [String] {
        try read { sql in
            try sql.query("""
                WITH RECURSIVE t(name) AS (
                    SELECT min(tenant) FROM audit_events
                    UNION ALL
                    SELECT (SELECT min(tenant) FROM audit_events WHERE tenant > t.name) FROM t WHERE t.name IS NOT NULL
                )
                SELECT name FROM t
                WHERE name IS NOT NULL AND EXISTS (SELECT 1 FROM audit_events WHERE tenant = t.name AND ts_ms >= ? AND ts_ms < ?)
                ORDER BY name
                """, [.int(Self.millis(from)), .int(Self.millis(to))]).map { $0.string(0) }
        }
    }

    /// The time of a tenant's first event, or nil when it has none. Only times that are numbers within
    /// a date's range count: one row whose `ts_ms` was made text or a huge real by hand (which sorts
    /// apart from every number) must not hide the tenant's true first event.
    /// `guardedOnly`: of the events guards recorded (`recordedByGuard`).
    public func firstEventTime(tenant: String, guardedOnly: Bool = false) throws -> Date? {
        try read { sql in
            try sql.queryOne("SELECT min(ts_ms) FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms <= ?"
                                + (guardedOnly ? " AND " + Self.recordedByGuard(sql.dialect) : ""),
                             [.text(tenant), .int(-8_640_000_000_000_000), .int(8_640_000_000_000_000)])?
                .optionalInt(0).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
    }

    /// Ids of the events behind a rate anomaly: the entity's events in the window, oldest first.
    public func eventIds(tenant: String, from: Date, to: Date, dimension: RateDimension, entity: String, limit: Int,
                         guardedOnly: Bool = false) throws -> [Int64] {
        try read { sql in
            var query = "SELECT seq FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ?"
                + (guardedOnly ? " AND " + Self.recordedByGuard(sql.dialect) : "")
            var arguments: [SQLValue] = [.text(tenant), .int(Self.millis(from)), .int(Self.millis(to))]
            switch dimension {
            case .tenant: break
            case .tool: query += " AND tool = ?"; arguments.append(.text(entity))
            case .actor: query += " AND actor = ?"; arguments.append(.text(entity))
            }
            query += " ORDER BY seq LIMIT ?"
            arguments.append(.int(Int64(limit)))
            return try sql.query(query, arguments).map { $0.int(0) }
        }
    }

    static func millis(_ date: Date) -> Int64 { Timestamp.millis(date) }
}
