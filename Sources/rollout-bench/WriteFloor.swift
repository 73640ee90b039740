import Foundation
import RolloutCore
import RolloutStore

/// The floor under the guard's audit-write figure, measured in the same run: the rows a guard run
/// wrote (its audit events, chain head, idempotency keys, counted calls and row updates), written
/// again by SQLite alone through the store's own connection and prepared statements, into a store
/// seeded the same way, one decision per transaction and then `group` per transaction. No checks, no
/// JSON, no hashing: what is left is what SQLite needs to commit those rows. A guard figure near it is
/// bounded by the commits, not by the guard.
struct WriteFloor {
    /// One decision's statements, in the order the guard ran them.
    typealias Decision = [(sql: String, values: [SQLValue])]

    let decisions: [Decision]

    /// Reads the rows of the decisions after `afterSeq` from `store`. `table`, `keyColumn` and `field`
    /// name the built-in rows the tool updates: each executed event rewrites its target row.
    init(from store: AuditStore, afterSeq: Int64, table: String, keyColumn: String, field: String) throws {
        let columns = ["seq", "ts", "ts_ms", "tenant", "actor", "session", "tool", "model", "operation", "row_count", "decision", "approver",
                       "idempotency_key", "reason", "effect", "shape", "body", "prev_hash", "hash", "form", "mac"]
        let insertEvent = "INSERT INTO audit_events (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
        let idempotencyColumns = ["tenant", "key", "tool", "effect_digest", "audit_seq", "decision", "result", "created_ms", "backend"]
        let insertKey = "INSERT INTO idempotency (\(idempotencyColumns.joined(separator: ", "))) VALUES (\(idempotencyColumns.map { _ in "?" }.joined(separator: ", ")))"
        let insertCall = "INSERT INTO guard_calls (tenant, tool, ts_ms, actor, audit_seq) VALUES (?, ?, ?, ?, ?)"
        let updateRow = "UPDATE \"\(table)\" SET \"\(field)\" = \"\(field)\" WHERE \"\(keyColumn)\" = ?"
        let updateHead = "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"

        decisions = try store.read { sql in
            var keys: [Int64: [SQLValue]] = [:]
            for row in try sql.query("SELECT \(idempotencyColumns.joined(separator: ", ")) FROM idempotency WHERE audit_seq > ?", [.int(afterSeq)]) {
                keys[row.int("audit_seq")] = row.values
            }
            var calls: [Int64: [SQLValue]] = [:]
            for row in try sql.query("SELECT tenant, tool, ts_ms, actor, audit_seq FROM guard_calls WHERE audit_seq > ?", [.int(afterSeq)]) {
                calls[row.int("audit_seq")] = row.values
            }
            var out: [Decision] = []
            let select = "SELECT \(columns.joined(separator: ", ")), json_extract(CAST(body AS TEXT), '$.targets[0]') AS target FROM audit_events WHERE seq > ? ORDER BY seq"
            try sql.each(select, [.int(afterSeq)]) { row in
                let seq = row.int("seq")
                var decision: Decision = [(insertEvent, Array(row.values.prefix(columns.count)))]
                if row.string("decision") == DecisionCode.executed.rawValue, let target = row.values.last, target != .null {
                    decision.append((updateRow, [target]))
                }
                if let call = calls[seq] { decision.append((insertCall, call)) }
                if let key = keys[seq] { decision.append((insertKey, key)) }
                decision.append((updateHead, [.int(seq), .text(row.string("hash"))]))
                out.append(decision)
            }
            return out
        }
    }

    /// Seconds SQLite takes to write every decision into `store`, `group` decisions per transaction.
    func replay(into store: AuditStore, group: Int) throws -> Double {
        try BenchClock.time {
            var start = 0
            while start < decisions.count {
                let end = min(start + group, decisions.count)
                try store.write { transaction in
                    for decision in decisions[start..<end] {
                        for statement in decision { try transaction.sql.execute(statement.sql, statement.values) }
                    }
                }
                start = end
            }
        }
    }
}
