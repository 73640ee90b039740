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
    /// name the built-in rows the tool updates: each executed event rewrites its target row. Every
    /// column is copied as the store holds it, in its tables' own column lists.
    init(from store: AuditStore, afterSeq: Int64, table: String, keyColumn: String, field: String) throws {
        func insert(_ table: String, _ row: SQLRow) -> String {
            "INSERT INTO \(table) (\(row.columns.joined(separator: ", "))) VALUES (\(row.columns.map { _ in "?" }.joined(separator: ", ")))"
        }
        let updateRow = "UPDATE \"\(table)\" SET \"\(field)\" = \"\(field)\" WHERE \"\(keyColumn)\" = ?"
        let updateHead = "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"

        decisions = try store.read { sql in
            // Rows of the other tables, by the audit event they were written with.
            var rows: [Int64: Decision] = [:]
            for other in ["guard_calls", "idempotency"] {
                for row in try sql.query("SELECT * FROM \(other) WHERE audit_seq > ?", [.int(afterSeq)]) {
                    rows[row.int("audit_seq"), default: []].append((insert(other, row), row.values))
                }
            }
            var out: [Decision] = []
            try sql.each("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq", [.int(afterSeq)]) { row in
                let seq = row.int("seq")
                var decision: Decision = [(insert("audit_events", row), row.values)]
                if row.string("decision") == DecisionCode.executed.rawValue,
                   let body = row["body"].string, case .array(let targets)? = try? JSONValue.parse(body)["targets"], let target = targets.first {
                    // A built-in row's key is an integer or a string.
                    let key: SQLValue = switch target {
                    case .number(let n): .int(Int64(n))
                    default: .text(target.stringValue ?? target.canonicalText)
                    }
                    decision.append((updateRow, [key]))
                }
                decision += rows[seq] ?? []
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
