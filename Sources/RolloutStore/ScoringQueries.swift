import Foundation
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
    /// The changed field names, comma-separated.
    public var shape: String?
    /// `fields_changed`, only for executed writes that changed a field the caller asked values of.
    public var fields: JSONValue?
}

/// One row of the rate counts: events of one tool by one actor in one bucket.
public struct RateCount: Sendable {
    public var bucket: Int64
    public var tool: String
    public var actor: String
    public var count: Int
}

/// Which events a rate series counts.
public enum RateDimension: String, Sendable, CaseIterable {
    case tenant, tool, actor
}

extension AuditStore {
    /// Tenants with events in the window.
    public func tenants(from: Date, to: Date) throws -> [String] {
        try read { sql in
            try sql.query("SELECT DISTINCT tenant FROM audit_events WHERE ts_ms >= ? AND ts_ms < ? ORDER BY tenant",
                          [.int(Self.millis(from)), .int(Self.millis(to))]).map { $0.string(0) }
        }
    }

    /// The first and last event time of a tenant, or nil when it has none.
    public func span(tenant: String) throws -> (first: Date, last: Date)? {
        try read { sql in
            guard let row = try sql.queryOne("SELECT min(ts_ms), max(ts_ms) FROM audit_events WHERE tenant = ?", [.text(tenant)]),
                let first = row.optionalInt(0), let last = row.optionalInt(1)
            else { return nil }
            return (Date(timeIntervalSince1970: Double(first) / 1000), Date(timeIntervalSince1970: Double(last) / 1000))
        }
    }

    /// Tools of rollout's own control plane (`rollout.stage`): audited, never scored as agent traffic.
    public static let controlToolPrefix = "rollout."

    /// Events per bucket, tool and actor, read from the covering index in time order in one pass (no
    /// temporary B-tree) and summed as they stream; `bucket` is the bucket index from `origin`. In bucket order.
    public func rateCounts(tenant: String, from: Date, to: Date, bucketSeconds: Int, origin: Date) throws -> [RateCount] {
        let originMillis = Self.millis(origin)
        let size = Int64(bucketSeconds) * 1000
        return try read { sql in
            var out: [RateCount] = []
            var open: [String: Int] = [:]  // "tool\0actor" -> index in `out` for the current bucket
            var currentBucket = Int64.min
            try sql.each("""
                SELECT ts_ms, tool, actor FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms
                """, [.text(tenant), .int(max(Self.millis(from), originMillis)), .int(Self.millis(to))]) { row in
                let tool = row.string(1), actor = row.string(2)
                if tool.hasPrefix(Self.controlToolPrefix) { return }
                let ms = row.int(0)
                let bucket = (ms - originMillis) / size
                if bucket != currentBucket {
                    currentBucket = bucket
                    open.removeAll(keepingCapacity: true)
                }
                let key = tool + "\u{0}" + actor
                if let index = open[key] {
                    out[index].count += 1
                } else {
                    open[key] = out.count
                    out.append(RateCount(bucket: bucket, tool: tool, actor: actor, count: 1))
                }
            }
            return out
        }
    }

    /// Every event of a tenant in the window, oldest first, streamed (memory stays flat). The body is read
    /// only for executed writes whose shape contains one of `valueFields` (substrings of field names).
    /// Time order, ties in index order (the index gives the order: no sort).
    public func scanEvents(tenant: String, from: Date, to: Date, valueFields: [String] = [], _ body: (ScoringEvent) throws -> Void) throws {
        try read { sql in
            let wanted = valueFields.isEmpty ? "1 = 0" : valueFields.map { _ in sql.dialect.contains("shape") }.joined(separator: " OR ")
            let arguments: [SQLValue] = valueFields.map(SQLValue.text) + [.text(tenant), .int(Self.millis(from)), .int(Self.millis(to))]
            try sql.each("""
                SELECT seq, ts_ms, actor, tool, operation, row_count, decision, approver, idempotency_key, reason, effect, shape,
                       CASE WHEN decision IN ('executed', 'allowed', 'rolled_back') AND (\(wanted)) THEN \(sql.dialect.jsonMember("body", "fields_changed")) END
                FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms
                """, arguments) { row in
                let tool = row.string(3)
                if tool.hasPrefix(Self.controlToolPrefix) { return }
                let fieldsText = row.optionalString(12)
                try body(ScoringEvent(
                    seq: row.int(0), tsMillis: row.int(1), actor: row.string(2), tool: tool, operation: row.optionalString(4), rowCount: Int(row.int(5)),
                    decision: row.string(6), approver: row.optionalString(7), idempotencyKey: row.optionalString(8), reason: row.optionalString(9),
                    effect: row.optionalString(10), shape: row.optionalString(11),
                    fields: fieldsText.flatMap { try? JSONValue.parse($0) }))
            }
        }
    }

    /// Ids of the events behind a rate anomaly: the entity's events in the window, oldest first.
    public func eventIds(tenant: String, from: Date, to: Date, dimension: RateDimension, entity: String, limit: Int) throws -> [Int64] {
        try read { sql in
            var query = "SELECT seq FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ?"
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

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
