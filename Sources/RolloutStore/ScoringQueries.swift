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

    /// Tools of rollout's own control plane (`rollout.stage`): audited, never scored as agent traffic.
    public static let controlToolPrefix = "rollout."

    /// Events per bucket, tool and actor, read from the covering index in time order in one pass (no
    /// temporary B-tree) and summed as they stream; `bucket` is the bucket index from `origin`. In bucket order.
    public func rateCounts(tenant: String, from: Date, to: Date, bucketSeconds: Int, origin: Date) throws -> [RateCount] {
        let originMillis = Self.millis(origin)
        let size = Int64(bucketSeconds) * 1000
        return try read { db in
            var out: [RateCount] = []
            var open: [String: Int] = [:]  // "tool\0actor" -> index in `out` for the current bucket
            var currentBucket = Int64.min
            let statement = try db.makeStatement(sql: """
                SELECT ts_ms, tool, actor FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms
                """)
            let rows = try Row.fetchCursor(statement, arguments: [tenant, max(Self.millis(from), originMillis), Self.millis(to)])
            while let row = try rows.next() {
                let tool: String = row[1], actor: String = row[2]
                if tool.hasPrefix(Self.controlToolPrefix) { continue }
                let ms: Int64 = row[0]
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
        try read { db in
            let wanted = valueFields.isEmpty ? "0" : valueFields.map { _ in "instr(shape, ?) > 0" }.joined(separator: " OR ")
            var arguments: StatementArguments = StatementArguments(valueFields)
            arguments += [tenant, Self.millis(from), Self.millis(to)]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, ts_ms, actor, tool, operation, row_count, decision, approver, idempotency_key, reason, effect, shape,
                       CASE WHEN decision IN ('executed', 'allowed', 'rolled_back') AND (\(wanted)) THEN json_extract(body, '$.fields_changed') END
                FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms
                """, arguments: arguments)
            while let row = try rows.next() {
                let tool: String = row[3]
                if tool.hasPrefix(Self.controlToolPrefix) { continue }
                let fieldsText: String? = row[12]
                try body(ScoringEvent(
                    seq: row[0], tsMillis: row[1], actor: row[2], tool: tool, operation: row[4], rowCount: row[5],
                    decision: row[6], approver: row[7], idempotencyKey: row[8], reason: row[9], effect: row[10], shape: row[11],
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
