import Foundation
import GRDB
import RolloutCore

/// The verdict of `rollout audit verify`: whether every event is as it was written, in order, none
/// missing, and if not the first place where the chain breaks.
public struct ChainVerification: Sendable {
    public enum Problem: String, Sendable {
        /// The stored body or hash does not hash to the recorded value: the event was edited.
        case edited
        /// A queried column disagrees with the hashed body: the column was edited.
        case columnEdited = "column_edited"
        /// `prev_hash` is not the previous event's hash: an event before it was deleted, inserted or moved.
        case brokenLink = "broken_link"
        /// Sequence numbers jump: events were deleted.
        case missing
        /// The body says another position: events were reordered.
        case reordered
        /// The recorded head is not the last event: events were removed from the end (or added around it).
        case headMismatch = "head_mismatch"
    }

    public struct Break: Sendable {
        public var seq: Int64
        public var problem: Problem
        public var detail: String
    }

    public var checked: Int
    public var head: ChainHead
    public var firstBreak: Break?

    public var ok: Bool { firstBreak == nil }
}

extension AuditStore {
    /// Walks the whole chain in order, recomputing every hash. `progress` is called every 100k events.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> ChainVerification {
        try read { db in
            let recorded = try StoreTransaction.readHead(db)
            var previous = ChainHead.empty
            var checked = 0
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, ts, tenant, actor, tool, decision, row_count, idempotency_key, approver, reason, effect, shape, body, prev_hash, hash
                FROM audit_events ORDER BY seq
                """)
            while let row = try rows.next() {
                let seq: Int64 = row["seq"]
                let body: String = row["body"]
                let prevHash: String = row["prev_hash"]
                let hash: String = row["hash"]
                func fail(_ problem: ChainVerification.Problem, _ detail: String) -> ChainVerification {
                    ChainVerification(checked: checked, head: recorded, firstBreak: .init(seq: seq, problem: problem, detail: detail))
                }
                if seq != previous.seq + 1 {
                    return fail(.missing, "event \(seq) follows event \(previous.seq); events \(previous.seq + 1)...\(seq - 1) are missing")
                }
                if prevHash != previous.hash {
                    return fail(.brokenLink, "event \(seq) links to \(prevHash.prefix(12))…, but event \(previous.seq) hashes to \(previous.hash.prefix(12))…")
                }
                if HashChain.hash(previous: prevHash, body: body) != hash {
                    return fail(.edited, "event \(seq) does not hash to its recorded hash: its body or hash was changed")
                }
                guard let json = try? JSONValue.parse(body) else {
                    return fail(.edited, "event \(seq) has a body that is not JSON")
                }
                if json["seq"]?.intValue.map(Int64.init) != seq {
                    return fail(.reordered, "event stored at \(seq) was written as event \(json["seq"]?.canonicalText ?? "?")")
                }
                let columns: [(String, DatabaseValue, JSONValue?)] = [
                    ("ts", row["ts"], json["ts"]), ("tenant", row["tenant"], json["tenant"]), ("actor", row["actor"], json["actor"]),
                    ("tool", row["tool"], json["tool"]), ("decision", row["decision"], json["decision"]),
                    ("row_count", row["row_count"], json["row_count"]), ("idempotency_key", row["idempotency_key"], json["idempotency_key"]),
                    ("approver", row["approver"], json["approver"]), ("reason", row["reason"], json["reason"]),
                ]
                for (name, stored, hashed) in columns where !Self.same(stored, hashed) {
                    return fail(.columnEdited, "event \(seq): column \(name) is \(stored), but the hashed event says \(hashed?.canonicalText ?? "nothing")")
                }
                // The effect column is derived from the body: recompute it.
                let decoded = try? AuditEvent(json: json)
                for (name, derived, stored) in [("effect", decoded?.effectKey, row["effect"] as String?), ("shape", decoded?.shape, row["shape"] as String?)]
                where derived != stored {
                    return fail(.columnEdited, "event \(seq): column \(name) is \(stored ?? "null"), but the hashed event gives \(derived ?? "null")")
                }
                previous = ChainHead(seq: seq, hash: hash)
                checked += 1
                if checked % 100_000 == 0 { progress?(checked) }
            }
            if recorded != previous {
                let detail = recorded.seq > previous.seq
                    ? "the recorded head is event \(recorded.seq), but the log ends at event \(previous.seq): events were removed from the end"
                    : "the recorded head is event \(recorded.seq), but the log ends at event \(previous.seq)"
                return ChainVerification(checked: checked, head: recorded, firstBreak: .init(seq: previous.seq, problem: .headMismatch, detail: detail))
            }
            return ChainVerification(checked: checked, head: recorded, firstBreak: nil)
        }
    }

    private static func same(_ stored: DatabaseValue, _ hashed: JSONValue?) -> Bool {
        switch (stored.storage, hashed) {
        case (.null, nil), (.null, .null?): return true
        case (.string(let s), .string(let h)?): return s == h
        case (.int64(let i), .number(let d)?): return Double(i) == d
        case (.double(let x), .number(let d)?): return x == d
        default: return false
        }
    }
}
