import Foundation
import RolloutCore

/// The verdict of `rollout audit verify`: whether every event is as it was written, in order, none
/// missing, every column a report or gate reads agrees with the hashed body, and (with the chain key or
/// an anchor) the log is the one that was signed or anchored; if not, the first place where it breaks.
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
        /// A row's signature under the chain key is missing or wrong: the row was forged or rewritten.
        case signature
        /// The log no longer holds the anchored head: its tail was removed or the log replaced.
        case anchor
    }

    public struct Break: Sendable {
        public var seq: Int64
        public var problem: Problem
        public var detail: String
    }

    public var checked: Int
    public var head: ChainHead
    public var firstBreak: Break?
    /// Whether row signatures were checked (a chain key was given and the chain is signed).
    public var signaturesChecked = false
    /// Whether an anchor was checked.
    public var anchorChecked = false

    public var ok: Bool { firstBreak == nil }
}

extension AuditStore {
    /// Walks the whole chain in order, recomputing every hash and checking every column against the
    /// hashed body; with `key`, every signed row's signature; with `anchor`, that the anchored event is
    /// still there with its hash. `progress` is called every 100k events.
    public func verify(key: ChainKey? = nil, anchor: ChainAnchor? = nil, progress: ((Int) -> Void)? = nil) throws -> ChainVerification {
        let keyedFrom = try chainKeyedFrom()
        let storedKeyID = try meta("chain_key_id")
        return try read { sql in
            let recorded = try StoreTransaction.readHead(sql)
            var previous = ChainHead.empty
            var checked = 0
            var anchorSeen = false
            func result(_ b: ChainVerification.Break?) -> ChainVerification {
                var out = ChainVerification(checked: checked, head: recorded, firstBreak: b)
                out.signaturesChecked = key != nil && keyedFrom != nil
                out.anchorChecked = anchor != nil
                return out
            }
            // Checks that need no row: the key and the anchor must be about this chain.
            if let key {
                guard let storedKeyID, keyedFrom != nil else {
                    return result(.init(seq: 0, problem: .signature, detail: "a chain key was given, but this chain was never signed (ROLLOUT_CHAIN_KEY was not set when it was written)"))
                }
                guard storedKeyID == key.id else {
                    return result(.init(seq: 0, problem: .signature, detail: "the chain key given is not the key this chain is signed with"))
                }
            }
            if let anchor {
                if let expected = anchor.keyedFrom, expected != keyedFrom {
                    return result(.init(seq: anchor.seq, problem: .anchor,
                                        detail: "the anchor says the chain is signed from event \(expected), the store says \(keyedFrom.map(String.init) ?? "never")"))
                }
                if let mac = anchor.mac, let key, key.mac(anchor: anchor) != mac {
                    return result(.init(seq: anchor.seq, problem: .anchor, detail: "the anchor file's signature does not match: it was edited or made with another key"))
                }
                if anchor.seq > recorded.seq {
                    return result(.init(seq: anchor.seq, problem: .anchor,
                                        detail: "the anchor names event \(anchor.seq), and the log ends at event \(recorded.seq): events were removed from its end"))
                }
            }
            /// What one row shows on its own (its hash, body, columns, signature, the anchor at its
            /// position): nil when it holds. Pure, so a batch of rows is checked on every core at once.
            @Sendable func localProblem(_ row: SQLRow) -> ChainVerification.Break? {
                let seq = row.int(Column.seq)
                let body = row.string(Column.body)
                let prevHash = row.string(Column.prevHash)
                let hash = row.string(Column.hash)
                func fail(_ problem: ChainVerification.Problem, _ detail: String) -> ChainVerification.Break {
                    .init(seq: seq, problem: problem, detail: detail)
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
                if let problem = Self.columnProblem(row, json) { return fail(.columnEdited, "event \(seq): \(problem)") }
                if let key, let from = keyedFrom, seq >= from {
                    let mac = row.optionalString(Column.mac)
                    if mac != key.mac(hash: hash) {
                        return fail(.signature, mac == nil
                            ? "event \(seq) carries no signature, and the chain is signed from event \(from): it was added without the key"
                            : "event \(seq)'s signature does not match: it was forged or rewritten without the key")
                    }
                }
                if let anchor, seq == anchor.seq, hash != anchor.hash {
                    return fail(.anchor, "the anchor says event \(seq) hashes to \(anchor.hash.prefix(12))…, the log's event \(seq) hashes to \(hash.prefix(12))…: the log was rewritten from there or before")
                }
                return nil
            }
            /// A batch of rows in order: the row-local checks in parallel, then the links one after the
            /// other. The first row that fails anything is the break, as if checked one by one.
            let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
            func check(_ rows: [SQLRow], _ local: [ChainVerification.Break?]) -> ChainVerification? {
                for (index, row) in rows.enumerated() {
                    let seq = row.int(0)
                    if seq != previous.seq + 1 {
                        return result(.init(seq: seq, problem: .missing, detail: "event \(seq) follows event \(previous.seq); events \(previous.seq + 1)...\(seq - 1) are missing"))
                    }
                    let prevHash = row.string(17)
                    if prevHash != previous.hash {
                        return result(.init(seq: seq, problem: .brokenLink,
                                            detail: "event \(seq) links to \(prevHash.prefix(12))…, but event \(previous.seq) hashes to \(previous.hash.prefix(12))…"))
                    }
                    if let problem = local[index] { return result(problem) }
                    if let anchor, seq == anchor.seq { anchorSeen = true }
                    previous = ChainHead(seq: seq, hash: row.string(18))
                    checked += 1
                    if checked % 100_000 == 0 { progress?(checked) }
                }
                return nil
            }
            // A store of the first version (read-only, so never migrated) has no form and mac columns.
            let columns = try Self.columns(sql)
            let extra = ["form", "mac"].map { columns.contains($0) ? $0 : "NULL AS \($0)" }.joined(separator: ", ")
            // Reading overlaps checking: while the next batch is read, the last one's rows are checked on
            // the other cores; its links are followed once both are done.
            var outcome: ChainVerification?
            var batch: [SQLRow] = []
            batch.reserveCapacity(Self.verifyBatch)
            var inFlight: LocalChecks?
            func settle() {
                guard let checks = inFlight else { return }
                inFlight = nil
                if outcome == nil { outcome = check(checks.rows, checks.wait()) }
            }
            try sql.each("""
                SELECT seq, ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver, idempotency_key,
                       reason, effect, shape, body, prev_hash, hash, \(extra)
                FROM audit_events ORDER BY seq
                """, []) { row in
                guard outcome == nil else { return }
                batch.append(row)
                if batch.count == Self.verifyBatch {
                    settle()
                    inFlight = LocalChecks(batch, workers: workers, localProblem)
                    batch = []
                    batch.reserveCapacity(Self.verifyBatch)
                }
            }
            settle()
            if outcome == nil, !batch.isEmpty { outcome = check(batch, ParallelMap.map(batch, workers: workers, localProblem)) }
            if let outcome { return outcome }
            if recorded != previous {
                let detail = recorded.seq > previous.seq
                    ? "the recorded head is event \(recorded.seq), but the log ends at event \(previous.seq): events were removed from the end"
                    : "the recorded head is event \(recorded.seq), but the log ends at event \(previous.seq)"
                return result(.init(seq: previous.seq, problem: .headMismatch, detail: detail))
            }
            if let anchor, anchor.seq > 0, !anchorSeen {
                return result(.init(seq: anchor.seq, problem: .anchor, detail: "the anchored event \(anchor.seq) is not in the log"))
            }
            return result(nil)
        }
    }

    /// The row-local checks of one batch, running on other threads while the next batch is read.
    final class LocalChecks: @unchecked Sendable {
        let rows: [SQLRow]
        private var results: [ChainVerification.Break?] = []
        private let done = DispatchSemaphore(value: 0)

        init(_ rows: [SQLRow], workers: Int, _ check: @escaping @Sendable (SQLRow) -> ChainVerification.Break?) {
            self.rows = rows
            DispatchQueue.global(qos: .userInitiated).async {
                self.results = ParallelMap.map(rows, workers: workers, check)
                self.done.signal()
            }
        }

        /// The results, in row order, once every row is checked.
        func wait() -> [ChainVerification.Break?] {
            done.wait()
            return results
        }
    }

    /// Rows checked together: large enough to keep every core busy, small enough that a break near the
    /// start is found without reading far past it.
    static let verifyBatch = 4096

    /// Positions of the columns `verify` selects, in its SELECT's order.
    enum Column {
        static let seq = 0, ts = 1, tsMillis = 2, tenant = 3, actor = 4, session = 5, tool = 6, model = 7, operation = 8,
                   rowCount = 9, decision = 10, approver = 11, idempotencyKey = 12, reason = 13, effect = 14, shape = 15,
                   body = 16, prevHash = 17, hash = 18, form = 19, mac = 20
    }

    /// The columns the body holds as they are, by position and by name in the body.
    private static let copiedColumns: [(name: String, index: Int)] = [
        ("ts", Column.ts), ("tenant", Column.tenant), ("actor", Column.actor), ("session", Column.session), ("tool", Column.tool),
        ("model", Column.model), ("operation", Column.operation), ("decision", Column.decision), ("row_count", Column.rowCount),
        ("idempotency_key", Column.idempotencyKey), ("approver", Column.approver), ("reason", Column.reason),
    ]

    /// The first column that disagrees with the hashed body, or nil. Every column a report, a gate or
    /// the scorer reads is checked: the ones the body holds against it, the derived ones recomputed.
    /// `row` holds the columns of `verify`'s SELECT, in its order.
    static func columnProblem(_ row: SQLRow, _ json: JSONValue) -> String? {
        guard case .object(let object) = json else { return "the hashed event is not an object" }
        for (name, index) in copiedColumns where !same(row[index], object[name]) {
            return "column \(name) is \(row[index]), but the hashed event says \(object[name]?.canonicalText ?? "nothing")"
        }
        // Derived from the body: recomputed.
        let ts = object["ts"]?.stringValue.flatMap(Timestamp.parse)
        let tsMillis = row.optionalInt(Column.tsMillis)
        if let ts, tsMillis != Int64((ts.timeIntervalSince1970 * 1000).rounded(.down)) {
            return "column ts_ms is \(tsMillis.map(String.init) ?? "null"), but the hashed time \(object["ts"]?.stringValue ?? "") is \(Int64((ts.timeIntervalSince1970 * 1000).rounded(.down)))"
        }
        let derived = ts == nil ? nil : DerivedColumns(object) ?? DerivedColumns(decoding: json)
        for (name, value, stored) in [("effect", derived?.effect, row.optionalString(Column.effect)), ("shape", derived?.shape, row.optionalString(Column.shape))]
        where value != stored {
            return "column \(name) is \(stored ?? "null"), but the hashed event gives \(value ?? "null")"
        }
        let form = row.optionalInt(Column.form)
        if let form, form != Int64(CanonicalForm.first), form != Int64(CanonicalForm.rfc8785) {
            return "column form is \(form), which no rollout writes"
        }
        return nil
    }

    private static func same(_ stored: SQLValue, _ hashed: JSONValue?) -> Bool {
        switch (stored, hashed) {
        case (.null, nil), (.null, .null?): return true
        case (.text(let s), .string(let h)?): return s == h
        case (.bytes(let b), .string(let h)?): return String(decoding: b, as: UTF8.self) == h
        case (.int(let i), .number(let d)?): return Double(i) == d
        case (.double(let x), .number(let d)?): return x == d
        default: return false
        }
    }

    /// The columns of audit_events, on either engine.
    static func columns(_ sql: any SQLConnection) throws -> Set<String> {
        switch sql.dialect {
        case .sqlite: Set(try sql.query("SELECT name FROM pragma_table_info('audit_events')").map { $0.string(0) })
        case .postgres: Set(try sql.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_events' AND table_schema = current_schema()").map { $0.string(0) })
        }
    }

    /// The chain head as an anchor to keep elsewhere, signed when this store has the chain key.
    public func anchor(at time: Date = Date()) throws -> ChainAnchor {
        let head = try head()
        var anchor = ChainAnchor(seq: head.seq, hash: head.hash, time: Timestamp.format(time), keyedFrom: try chainKeyedFrom())
        if let chainKey { anchor.mac = chainKey.mac(anchor: anchor) }
        return anchor
    }
}
