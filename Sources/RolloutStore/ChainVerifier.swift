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
        /// The chain is signed, and no chain key was given: its signatures cannot be checked, and a rewrite
        /// that hashes again would pass unseen.
        case keyMissing = "key_missing"
        /// rollout's own tables, indexes or triggers are not as its migrations made them: a trigger added or
        /// dropped, an index relabelled, can undo or hide the guard's ledgers without touching a row.
        case schemaEdited = "schema_edited"
        /// SQLite's integrity check (`deep`) finds an index that disagrees with its rows, or a damaged page: an
        /// index moved or edited by hand can hide a key's events from the guard with every row intact.
        case storeDamaged = "store_damaged"
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
    /// Whether SQLite's integrity check ran (`deep`, on a SQLite store).
    public var deepChecked = false

    public var ok: Bool { firstBreak == nil }
}

extension AuditStore {
    /// Walks the whole chain in order, recomputing every hash and checking every column against the
    /// hashed body; with `key`, every signed row's signature; with `anchor`, that the anchored event is
    /// still there with its hash. `progress` is called every 100k events.
    ///
    /// On SQLite the events through the recorded head are read in ranges on read-only twin
    /// connections, one per core, each range checked by the thread that read it (`ChainRangeReader`),
    /// and the runs joined in order; rows past the head are read in this read's own snapshot. Events
    /// through the head are never rewritten by rollout, so the twins' later snapshots hold the same
    /// rows. Elsewhere (PostgreSQL) this connection reads every row, each batch checked on every core
    /// while the next is read.
    ///
    /// With `deep`, SQLite's integrity check runs first (a SQLite store only): every index must hold
    /// exactly its table's rows. The guard finds a key's events through an index; one whose pages were
    /// edited, or whose root was moved to another index's (`PRAGMA writable_schema`, the schema's text
    /// unchanged), hides them with every row and the schema intact. It reads the whole file again.
    public func verify(key: ChainKey? = nil, anchor: ChainAnchor? = nil, deep: Bool = false, progress: ((Int) -> Void)? = nil) throws -> ChainVerification {
        try verify(key: key, anchor: anchor, deep: deep, progress: progress, reading: .twins(rangeSize: Self.verifyRange))
    }

    /// How `verify` reads the chain: on twin connections in ranges of `rangeSize` events where the
    /// engine has twins (the default), or on its own connection only. Tests choose, to show both find
    /// the same break.
    enum ChainReading {
        case twins(rangeSize: Int64)
        case oneConnection
    }

    func verify(key: ChainKey?, anchor: ChainAnchor?, deep: Bool = false, progress: ((Int) -> Void)?, reading: ChainReading) throws -> ChainVerification {
        let keyedFrom = try chainKeyedFrom()
        let storedKeyID = try meta("chain_key_id")
        let keyedFromMAC = try meta("chain_key_from_mac")
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var twins: [AuditStore] = []
        var rangeSize = Self.verifyRange
        if case .twins(let size) = reading {
            twins = (try? (0..<workers).compactMap { _ in try readOnlyTwin() }) ?? []
            rangeSize = size
        }
        return try read { sql in
            let recorded = try StoreTransaction.readHead(sql)
            var walk = ChainWalk(progress: progress)
            func result(_ b: ChainVerification.Break?) -> ChainVerification {
                var out = ChainVerification(checked: walk.checked, head: recorded, firstBreak: b)
                out.signaturesChecked = key != nil && (keyedFrom.map { $0 <= recorded.seq } ?? false)
                out.anchorChecked = anchor != nil
                out.deepChecked = deep && sql.dialect == .sqlite
                return out
            }
            // Checks that need no row: the key and the anchor must be about this chain, and a signed chain
            // is verified only with its key (without it, a rewrite that hashes again would pass).
            if key == nil, storedKeyID != nil || keyedFrom != nil {
                return result(.init(seq: keyedFrom ?? 0, problem: .keyMissing,
                                    detail: "the chain is signed\(keyedFrom.map { " from event \($0)" } ?? ""), and no chain key was given: without its signatures a rewrite that hashes again would pass; set ROLLOUT_CHAIN_KEY to the key it is signed with"))
            }
            if let key, let problem = ChainKeyMarks.problem(key: key, storedKeyID: storedKeyID, keyedFrom: keyedFrom, keyedFromMAC: keyedFromMAC,
                                                            head: recorded.seq) {
                return result(problem)
            }
            if let anchor, let problem = anchor.problem(keyedFrom: keyedFrom, key: key, headSeq: recorded.seq) {
                return result(.init(seq: anchor.seq, problem: .anchor, detail: problem))
            }
            let differences = try StoreSchema.differences(sql)
            if !differences.isEmpty {
                return result(.init(seq: 0, problem: .schemaEdited,
                                    detail: "the store's schema is not the one rollout's migrations made: \(differences.joined(separator: "; ")); a trigger or index changed by hand can undo or hide the guard's ledgers without touching a chained row, and no rollout writer writes to the store until it is put back"))
            }
            if deep, sql.dialect == .sqlite {
                let found = try Self.integrityProblems(sql)
                if !found.isEmpty {
                    return result(.init(seq: 0, problem: .storeDamaged,
                                        detail: "SQLite's integrity check finds the store's indexes or pages do not agree with its rows (\(found.prefix(4).joined(separator: "; "))\(found.count > 4 ? "; …" : "")): an index edited or moved by hand can hide a key's events from the guard with every row intact; restore the store from a copy you trust"))
                }
            }
            let check = ChainRowCheck(key: key, keyedFrom: keyedFrom, anchor: anchor)
            let select = ChainRowCheck.select(columns: try Self.columns(sql))
            // Ranges of sequence numbers are read in parallel only for what an intact chain looks like: a
            // head at or below the row count (a head far past it, or before event 1, is a broken chain,
            // walked below on this connection, so no head can make the ranges many or huge).
            let rows = try sql.queryOne("SELECT count(*) FROM audit_events", []).map { $0.int(0) } ?? 0
            if !twins.isEmpty, recorded.seq > 0, recorded.seq <= rows {
                let ranges = ChainRangeReader.ranges(through: recorded.seq, size: rangeSize)
                let reader = ChainRangeReader(twins: twins, ranges: ranges, select: select, check: check)
                defer { reader.stop() }
                for index in ranges.indices {
                    if let problem = walk.join(try reader.run(index)) { return result(problem) }
                }
                // Rows past the recorded head (none, unless added around it), in this read's snapshot.
                if let problem = walk.join(try ChainRun.walk(sql, [(select + " WHERE seq > ? ORDER BY seq", [.int(recorded.seq)])], check)) {
                    return result(problem)
                }
                // Every row was walked: one whose seq is no number (text, a blob) sorts past every range
                // and is read above; the count says none escaped.
                if Int64(walk.checked) != rows {
                    return result(.init(seq: walk.previous.seq, problem: .missing,
                                        detail: "the log holds \(rows) rows, and its sequence reaches \(walk.checked) of them: rows outside the sequence were added"))
                }
            } else {
                // Reading overlaps checking: while the next batch is read, the last one's rows are checked
                // on the other cores; its links are followed once both are done.
                var found: ChainVerification.Break?
                var batch: [SQLRow] = []
                batch.reserveCapacity(Self.verifyBatch)
                var inFlight: LocalChecks?
                func settle() {
                    guard let checks = inFlight else { return }
                    inFlight = nil
                    if found == nil { found = walk.join(ChainRun(checks.rows, local: checks.wait(), anchorSeq: anchor?.seq)) }
                }
                try sql.each(select + " ORDER BY seq", []) { row in
                    guard found == nil else { return }
                    batch.append(row)
                    if batch.count == Self.verifyBatch {
                        settle()
                        inFlight = LocalChecks(batch, workers: workers, check.problem)
                        batch = []
                        batch.reserveCapacity(Self.verifyBatch)
                    }
                }
                settle()
                if found == nil, !batch.isEmpty {
                    found = walk.join(ChainRun(batch, local: ParallelMap.map(batch, workers: workers, check.problem), anchorSeq: anchor?.seq))
                }
                if let found { return result(found) }
            }
            if recorded != walk.previous {
                let detail = recorded.seq > walk.previous.seq
                    ? "the recorded head is event \(recorded.seq), but the log ends at event \(walk.previous.seq): events were removed from the end"
                    : "the recorded head is event \(recorded.seq), but the log ends at event \(walk.previous.seq)"
                return result(.init(seq: walk.previous.seq, problem: .headMismatch, detail: detail))
            }
            if let anchor, anchor.seq > 0, !walk.anchorSeen {
                return result(.init(seq: anchor.seq, problem: .anchor, detail: "the anchored event \(anchor.seq) is not in the log"))
            }
            if let problem = try Self.ledgerPastEnd(sql, end: walk.previous.seq) { return result(problem) }
            return result(nil)
        }
    }

    /// The guard's ledger columns that name an event of the chain. Each row is written in the transaction
    /// that appends the event it names, so none names an event past the log's end.
    static let ledgerReferences: [(table: String, column: String)] = [
        ("idempotency", "audit_seq"), ("guard_calls", "audit_seq"), ("dry_runs", "audit_seq"), ("approvals", "pending_seq"),
        ("approvals", "result_seq"), ("rollbacks", "original_seq"), ("rollbacks", "rollback_seq"), ("secret_stash", "audit_seq"),
        ("tenant_pauses", "audit_seq"),
    ]

    /// A ledger row that names an event past `end`: the log's last events were deleted and its head moved
    /// back with them, which the chain alone cannot show (its rows still link) but the guard's own ledgers do.
    static func ledgerPastEnd(_ sql: any SQLConnection, end: Int64) throws -> ChainVerification.Break? {
        for (table, column) in ledgerReferences where try sql.tableExists(table) {
            guard let named = try sql.queryOne("SELECT max(\(column)) FROM \(table)", [])?.optionalInt(0), named > end else { continue }
            return .init(seq: end + 1, problem: .missing,
                         detail: "the guard's ledger (\(table).\(column)) names event \(named), and the log ends at event \(end): events were removed from its end, and its head moved back with them")
        }
        return nil
    }

    /// What SQLite's integrity check finds, less what the store's rows disprove: SQLite 3.40 reports a NOT
    /// NULL column of a WITHOUT ROWID table (rollout's ledgers) as "NULL value in table.column" when no
    /// row holds a null there; such a line is kept only when a row does.
    static func integrityProblems(_ sql: any SQLConnection) throws -> [String] {
        let lines = try sql.query("PRAGMA integrity_check(100)", []).compactMap { $0.optionalString(0) }
        if lines == ["ok"] { return [] }
        return try lines.filter { line in
            guard line.hasPrefix("NULL value in "), case let name = line.dropFirst("NULL value in ".count),
                  let dot = name.lastIndex(of: "."), !name[..<dot].contains("\""), !name[name.index(after: dot)...].contains("\"") else { return true }
            let table = name[..<dot], column = name[name.index(after: dot)...]
            return try sql.scalar("SELECT count(*) FROM \"\(table)\" WHERE \"\(column)\" IS NULL")?.int64 != 0
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

    /// Rows checked together when one connection reads: large enough to keep every core busy, small
    /// enough that a break near the start is found without reading far past it.
    static let verifyBatch = 4096

    /// Events per range when twins read: each reader holds one range's rows at a time.
    static let verifyRange: Int64 = 16_384

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
