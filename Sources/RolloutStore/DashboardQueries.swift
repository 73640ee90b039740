import Foundation
import RolloutCore

/// What the dashboard of `rollout serve` asks for: one page of the agents' calls in a time range,
/// newest first, optionally searched and filtered by decision category.
public struct DashboardQuery: Sendable {
    public var from: Date
    public var to: Date
    /// Words looked for in the reason, tool, actor, tenant and the recorded arguments and values.
    public var search: String?
    /// Only these decision categories (executed, refused, pending, shadow...), when given.
    public var categories: Set<DecisionCategory>
    /// Keyset pagination: rows before this sequence number.
    public var before: Int64?
    public var limit: Int

    public init(from: Date, to: Date, search: String? = nil, categories: Set<DecisionCategory> = [], before: Int64? = nil, limit: Int = 50) {
        self.from = from
        self.to = to
        self.search = search
        self.categories = categories
        self.before = before
        self.limit = limit
    }
}

/// One page of rows, and the key of the next page when there is one.
public struct DashboardPage: Sendable {
    public var rows: [ComplianceRow]
    public var next: Int64?
}

extension AuditStore {
    /// A page of calls, newest first: read backwards along the time index, so the first page of a week
    /// costs the same on a million events as on a thousand.
    public func dashboard(_ query: DashboardQuery) throws -> DashboardPage {
        var conditions = ["ts_ms >= ?", "ts_ms < ?", "tool NOT LIKE 'rollout.%'"]
        var arguments: [SQLValue] = [.int(Self.millis(query.from)), .int(Self.millis(query.to))]
        if let before = query.before {
            conditions.append("seq < ?")
            arguments.append(.int(before))
        }
        if let search = query.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            // LIKE with `!` as the escape character: the search is literal text, `%` and `_` included.
            let escaped = search.lowercased().replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%")
                .replacingOccurrences(of: "_", with: "!_")
            let pattern = "%" + escaped + "%"
            let columns = ["reason", "tool", "actor", "tenant", "body"]
            conditions.append("(" + columns.map { "lower(coalesce(\($0), '')) LIKE ? ESCAPE '!'" }.joined(separator: " OR ") + ")")
            arguments += columns.map { _ in .text(pattern) }
        }
        if !query.categories.isEmpty {
            let decisions = Self.decisions(in: query.categories)
            conditions.append("decision IN (" + decisions.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += decisions.map(SQLValue.text)
        }
        arguments.append(.int(Int64(query.limit + 1)))
        return try read { sql in
            var rows: [ComplianceRow] = []
            try sql.each("""
                SELECT seq, ts, tenant, actor, tool, operation, \(sql.dialect.jsonMember("body", "targets")), row_count, decision, reason, approver,
                       idempotency_key, \(sql.dialect.jsonString("body", "message"))
                FROM audit_events WHERE \(conditions.joined(separator: " AND ")) ORDER BY ts_ms DESC, seq DESC LIMIT ?
                """, arguments) { row in
                rows.append(ComplianceRow(seq: row.int(0), ts: row.string(1), tenant: row.string(2), actor: row.string(3), tool: row.string(4),
                                          operation: row.optionalString(5), targets: row.optionalString(6) ?? "[]", rowCount: Int(row.int(7)),
                                          decision: row.string(8), reason: row.optionalString(9), approver: row.optionalString(10),
                                          idempotencyKey: row.optionalString(11), message: row.optionalString(12)))
            }
            var next: Int64?
            if rows.count > query.limit {
                rows.removeLast()
                next = rows.last?.seq
            }
            return DashboardPage(rows: rows, next: next)
        }
    }

    /// The decision codes of some categories (as `DecisionCategory` files them).
    static func decisions(in categories: Set<DecisionCategory>) -> [String] {
        let known = DecisionCode.allCases.map(\.rawValue) + ["attempted", "allowed", "denied"]
        return known.filter { categories.contains(DecisionCategory(decision: $0)) }
    }
}
