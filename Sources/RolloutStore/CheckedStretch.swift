import RolloutCore

extension StoreTransaction {
    /// The events after `seq` that `pick` selects, oldest first, read from the log from event `seq` to this
    /// transaction's head only where every row of that stretch holds as `audit verify` checks it (hash,
    /// link, each column against the hashed body, with the chain key each signature), and its last row is
    /// the head. The pick reads columns only after the row's check confirmed them, so an edited column
    /// cannot hide an event. Rows are streamed in place; only picked ones are decoded.
    ///
    /// `earlier`, a check of the same stretch made before this transaction (`AuditStore.checkedEvents`),
    /// is resumed from its last event: inside the transaction only the events appended since are walked,
    /// so a long stretch holds no write lock while it is read.
    public func checkedEvents(after seq: Int64, _ pick: EventPick, resuming earlier: CheckedEvents? = nil) throws -> CheckedEvents {
        try CheckedStretch.walk(sql, chainKey: chainKey, anchor: anchor, after: seq, pick, resuming: earlier, head: head)
    }
}

extension AuditStore {
    /// `checkedEvents(after:_:)` for the pick `pick` gives event `seq`, walked before a transaction that
    /// decides on it resumes from it; nil when there is no event `seq`, no pick, or the event cannot be
    /// read (the transaction then refuses, audited).
    public func checkedEvents(after seq: Int64, pickingFor pick: (AuditEvent) -> EventPick?) throws -> CheckedEvents? {
        let event: AuditEvent?
        do {
            event = try self.event(seq: seq)
        } catch StoreError.unreadableEvent {
            return nil
        }
        return try event.flatMap(pick).map { try checkedEvents(after: seq, $0) }
    }

    /// `StoreTransaction.checkedEvents` in a read of the store, holding no write lock: walks the stretch
    /// up to the head committed when the read began. Its cost is a walk of the stretch on one core
    /// (about 5 s for a million events), for decisions a person makes, never the guard's hot path.
    public func checkedEvents(after seq: Int64, _ pick: EventPick) throws -> CheckedEvents {
        try read { sql in
            try CheckedStretch.walk(sql, chainKey: chainKey, anchor: anchor, after: seq, pick, resuming: nil, head: StoreTransaction.readHead(sql))
        }
    }
}

/// The walk behind `checkedEvents`, on any connection.
enum CheckedStretch {
    static func walk(_ sql: any SQLConnection, chainKey: ChainKey?, anchor: ChainAnchor?, after seq: Int64, _ pick: EventPick,
                     resuming earlier: CheckedEvents?, head: ChainHead) throws -> CheckedEvents {
        func broken(_ detail: String) -> CheckedEvents {
            CheckedEvents(after: seq, pick: pick, events: [], problem: detail)
        }
        let meta = try sql.tableExists("store_meta")
        func setting(_ key: String) throws -> String? {
            meta ? try sql.scalar("SELECT value FROM store_meta WHERE key = ?", [.text(key)])?.string : nil
        }
        let keyedFrom = try setting("chain_key_from").flatMap { Int64($0) }
        if let chainKey, let problem = ChainKeyMarks.problem(key: chainKey, storedKeyID: try setting("chain_key_id"), keyedFrom: keyedFrom,
                                                             keyedFromMAC: try setting("chain_key_from_mac"), head: head.seq) {
            return broken(problem.detail)
        }
        // An anchor: the log still holds its event with its hash (a tail deleted with the head moved back is
        // a chain that holds, shorter), signed from where it said, under the key that signed it.
        if let anchor {
            if let problem = anchor.problem(keyedFrom: keyedFrom, key: chainKey, headSeq: head.seq) { return broken(problem) }
            let stored = anchor.seq == 0 ? anchor.hash : try sql.scalar("SELECT hash FROM audit_events WHERE seq = ?", [.int(anchor.seq)])?.string
            if stored != anchor.hash {
                return broken("the anchor says event \(anchor.seq) hashes to \(anchor.hash.prefix(12))…, the log's does not: the log was rewritten from there or before")
            }
        }
        // Resumed, the walk starts again at the last event checked, which must still be that event.
        let resumed = earlier.flatMap { $0.resumes(after: seq, pick) ? $0 : nil }
        let start = resumed?.through?.seq ?? seq
        let check = ChainRowCheck(key: chainKey, keyedFrom: keyedFrom, anchor: nil)
        let query = ChainRowCheck.select(columns: try AuditStore.columns(sql)) + " WHERE seq >= ? ORDER BY seq"
        let tenant = Array(pick.tenant.utf8)
        var run = ChainRun(anchorSeq: nil)
        var picked: [(seq: Int64, body: String)] = []
        var firstHash: String?
        typealias Column = ChainRowCheck.Column
        func visit(_ row: some ChainRowValues) {
            guard run.problem == nil else { return }
            if firstHash == nil { firstHash = row.string(Column.hash) }
            run.add(row, local: check.problem(row))
            let at = row.int(Column.seq)
            guard run.problem == nil, at > start, row.withText(Column.tenant, { $0.elementsEqual(tenant) }) else { return }
            if pick.picks(tenant: pick.tenant, model: row.optionalString(Column.model), decision: row.string(Column.decision),
                          namesApprover: !row.isNull(Column.approver)) {
                picked.append((at, row.string(Column.body)))
            }
        }
        if let sqlite = sql as? SQLiteConnection {
            try sqlite.eachView(query, [.int(start)]) { visit($0) }
        } else {
            try sql.each(query, [.int(start)]) { visit($0) }
        }
        if let problem = run.problem { return broken(problem.detail) }
        guard let first = run.first, first.seq == start else { return broken("event \(start) is not in the log") }
        // Resumed, the first row walked is the last one checked before: the same hash, or it was rewritten since.
        if let through = resumed?.through, firstHash != through.hash {
            return broken("event \(start) changed while the log was checked")
        }
        guard let last = run.last else { return broken("event \(start) does not hold") }
        if last != head {
            return broken(head.seq > last.seq
                ? "the chain's head is event \(head.seq), but the log ends at event \(last.seq): events were removed from its end"
                : "the chain's head is event \(head.seq), but the log goes on to event \(last.seq)")
        }
        var events = resumed?.events ?? []
        for (at, body) in picked {
            // A body that hashes and agrees with its columns, and still is no event: a rewrite, told as one.
            guard let event = try? AuditStore.decodeBody(body, seq: at) else { return broken("event \(at)'s body is not an audit event") }
            events.append(event)
        }
        return CheckedEvents(after: seq, pick: pick, events: events, through: (last.seq, last.hash))
    }
}
