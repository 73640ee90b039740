import Foundation
import GRDB
import RolloutCore

/// One audit event as the scorer reads it: the columns, none of the body but the changed fields of
/// executed writes.
public struct ScoringEvent: Sendable {
    public var seq: Int64
    public var tsMillis: Int64
    public var actor: String
    public var tool: String
    public var operation: String?
    public var rowCount: Int
    public var decision: String
    public var approver: String?
    public var idempotencyKey: String?
    public var reason: String?
    public var effect: String?
    /// `fields_changed` of executed writes (nil for other decisions).
    public var fields: JSONValue?
}

/// Which events a rate series counts.
public enum RateDimension: String, Sendable, CaseIterable {
    case tenant, tool, actor
}

extension AuditStore {
    /// Tenants with events in the window.
    public func tenants(from: Date, to: Date) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM audit_events WHERE ts_ms >= ? AND ts_ms < ? ORDER BY tenant",
                                arguments: [Self.millis(from), Self.millis(to)])
        }
    }

    /// The first and last event time of a tenant, or nil when it has none.
    public func span(tenant: String) throws -> (first: Date, last: Date)? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT min(ts_ms), max(ts_ms) FROM audit_events WHERE tenant = ?", arguments: [tenant]),
                let first: Int64 = row[0], let last: Int64 = row[1]
            else { return nil }
            return (Date(timeIntervalSince1970: Double(first) / 1000), Date(timeIntervalSince1970: Double(last) / 1000))
        }
    }

    /// Events per bucket and entity, counted by SQLite: `bucket` is the bucket index from `origin`.
    /// Returns, per entity (the tenant itself, a tool, or an actor), (bucket, count) in bucket order.
    public func bucketCounts(tenant: String, by dimension: RateDimension, from: Date, to: Date, bucketSeconds: Int, origin: Date) throws -> [String: [(bucket: Int64, count: Int)]] {
        let column = switch dimension {
        case .tenant: "tenant"
        case .tool: "tool"
        case .actor: "actor"
        }
        let originMillis = Self.millis(origin)
        let size = Int64(bucketSeconds) * 1000
        return try read { db in
            var out: [String: [(Int64, Int)]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(column), (ts_ms - ?) / ? AS b, count(*) FROM audit_events
                WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ?
                GROUP BY 1, 2 ORDER BY 1, 2
                """, arguments: [originMillis, size, tenant, max(Self.millis(from), originMillis), Self.millis(to)])
            while let row = try rows.next() {
                out[row[0], default: []].append((row[1], row[2]))
            }
            return out.mapValues { $0.map { (bucket: $0.0, count: $0.1) } }
        }
    }

    /// Every event of a tenant in the window, oldest first, streamed (memory stays flat).
    public func scanEvents(tenant: String, from: Date, to: Date, _ body: (ScoringEvent) throws -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, ts_ms, actor, tool, operation, row_count, decision, approver, idempotency_key, reason, effect,
                       CASE WHEN decision IN ('executed', 'allowed', 'rolled_back') THEN json_extract(body, '$.fields_changed') END
                FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, seq
                """, arguments: [tenant, Self.millis(from), Self.millis(to)])
            while let row = try rows.next() {
                let fieldsText: String? = row[11]
                try body(ScoringEvent(
                    seq: row[0], tsMillis: row[1], actor: row[2], tool: row[3], operation: row[4], rowCount: row[5],
                    decision: row[6], approver: row[7], idempotencyKey: row[8], reason: row[9], effect: row[10],
                    fields: fieldsText.flatMap { try? JSONValue.parse($0) }))
            }
        }
    }

    /// Ids of the events behind a rate anomaly: the entity's events in the window, oldest first.
    public func eventIds(tenant: String, from: Date, to: Date, dimension: RateDimension, entity: String, limit: Int) throws -> [Int64] {
        try read { db in
            var sql = "SELECT seq FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ?"
            var arguments: StatementArguments = [tenant, Self.millis(from), Self.millis(to)]
            switch dimension {
            case .tenant: break
            case .tool: sql += " AND tool = ?"; arguments += [entity]
            case .actor: sql += " AND actor = ?"; arguments += [entity]
            }
            sql += " ORDER BY seq LIMIT ?"
            arguments += [limit]
            return try Int64.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
