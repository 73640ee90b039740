import RolloutCore

extension StoreTransaction {
    /// The events after `seq` that `pick` selects, oldest first, read from the log from event `seq` to this
    /// transaction's head only where every row of that stretch holds as `audit verify` checks it (hash,
    /// link, each column against the hashed body, with the chain key each signature), and its last row is
    /// the head. The pick reads columns only after the row's check confirmed them, so an edited column
    /// cannot hide an event. Rows are streamed in place; only picked ones are decoded.
    ///
    /// Its cost is a walk of the stretch inside the caller's transaction (one core): it is for decisions
    /// a person makes (an approval, a rollback), never for the guard's hot path.
    public func checkedEvents(after seq: Int64, _ pick: EventPick) throws -> CheckedEvents {
        let meta = try sql.tableExists("store_meta")
        func setting(_ key: String) throws -> String? {
            meta ? try sql.scalar("SELECT value FROM store_meta WHERE key = ?", [.text(key)])?.string : nil
        }
        let keyedFrom = try setting("chain_key_from").flatMap { Int64($0) }
        if let chainKey, let from = keyedFrom, let mac = try setting("chain_key_from_mac"), mac != chainKey.mac(keyedFrom: from) {
            return CheckedEvents(events: [], problem: "the mark that says the chain is signed from event \(from) does not carry the key's signature")
        }
        let check = ChainRowCheck(key: chainKey, keyedFrom: keyedFrom, anchor: nil)
        let query = ChainRowCheck.select(columns: try AuditStore.columns(sql)) + " WHERE seq >= ? ORDER BY seq"
        let tenant = Array(pick.tenant.utf8)
        var run = ChainRun(anchorSeq: nil)
        var picked: [(seq: Int64, body: String)] = []
        typealias Column = ChainRowCheck.Column
        func visit(_ row: some ChainRowValues) {
            guard run.problem == nil else { return }
            run.add(row, local: check.problem(row))
            let at = row.int(Column.seq)
            guard run.problem == nil, at > seq, row.withText(Column.tenant, { $0.elementsEqual(tenant) }) else { return }
            if pick.picks(tenant: pick.tenant, model: row.optionalString(Column.model), decision: row.string(Column.decision),
                          namesApprover: !row.isNull(Column.approver)) {
                picked.append((at, row.string(Column.body)))
            }
        }
        if let sqlite = sql as? SQLiteConnection {
            try sqlite.eachView(query, [.int(seq)]) { visit($0) }
        } else {
            try sql.each(query, [.int(seq)]) { visit($0) }
        }
        func broken(_ detail: String) -> CheckedEvents {
            CheckedEvents(events: [], problem: detail)
        }
        if let problem = run.problem { return broken(problem.detail) }
        guard let first = run.first, first.seq == seq else { return broken("event \(seq) is not in the log") }
        if run.last != head {
            let last = run.last?.seq ?? seq
            return broken(head.seq > last
                ? "the chain's head is event \(head.seq), but the log ends at event \(last): events were removed from its end"
                : "the chain's head is event \(head.seq), but the log goes on to event \(last)")
        }
        return CheckedEvents(events: try picked.map { try AuditStore.decodeBody($0.body, seq: $0.seq) })
    }
}
