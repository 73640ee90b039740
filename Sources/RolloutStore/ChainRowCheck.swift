import Foundation
import RolloutCore

/// What one row of the audit log shows on its own, without its neighbours: its hash recomputed from its
/// stored body, the body's position and every queried column against the hashed body, its signature
/// under the chain key, its hash at the anchored position. Pure, so rows are checked on every core at
/// once; the links between rows are `ChainRun`'s.
struct ChainRowCheck: Sendable {
    var key: ChainKey?
    /// The first event signed with the chain key, or nil when the chain was never signed.
    var keyedFrom: Int64?
    var anchor: ChainAnchor?

    /// The row's problem, or nil when it holds. `row` holds the columns of `select`, in its order.
    func problem(_ row: some ChainRowValues) -> ChainVerification.Break? {
        let seq = row.int(Column.seq)
        func fail(_ problem: ChainVerification.Problem, _ detail: String) -> ChainVerification.Break {
            .init(seq: seq, problem: problem, detail: detail)
        }
        // A position stored as text or a fraction (possible only in a table rebuilt without its key)
        // reads as a whole number but is not one to `WHERE seq = ?`.
        guard case .int = row[Column.seq] else {
            return fail(.columnEdited, "a row's seq is stored as \(row[Column.seq].string.map { "'\($0)'" } ?? "null"), not as a whole number: the table was rebuilt")
        }
        /// The body's own checks: its members are `members`, the whole body is `whole()`.
        func bodyProblem(members: some BodyMembers, whole: () -> JSONValue?,
                         plainlySame: ((JSONMembers.Name, Int) -> Bool)? = nil) -> ChainVerification.Break? {
            let written = members.value(.seq)
            if written?.intValue.map(Int64.init) != seq {
                return fail(.reordered, "event stored at \(seq) was written as event \(written?.canonicalText ?? "?")")
            }
            if let problem = Self.columnProblem(row, members: members, whole: whole, plainlySame: plainlySame) {
                return fail(.columnEdited, "event \(seq): \(problem)")
            }
            return nil
        }
        // Most bodies are indexed without being built (`JSONMembers`); one it declines is parsed whole.
        let bodyProblem: ChainVerification.Break? = row.withText(Column.body) { bytes in
            let hashes = row.withText(Column.prevHash) { previous in
                row.withText(Column.hash) { hash in HashChain.matches(previous: previous, body: bytes, hash: hash) }
            }
            if !hashes {
                return fail(.edited, "event \(seq) does not hash to its recorded hash: its body or hash was changed")
            }
            if let members = JSONMembers(bytes) {
                return bodyProblem(members: members, whole: { try? JSONValue.parse(bytes: bytes) },
                                   plainlySame: { Self.plainlySame(row, $1, members.member($0)) })
            }
            guard let json = try? JSONValue.parse(bytes: bytes) else {
                return fail(.edited, "event \(seq) has a body that is not JSON")
            }
            guard case .object(let object) = json else {
                return fail(.reordered, "event stored at \(seq) was written as event ?")
            }
            return bodyProblem(members: object, whole: { json })
        }
        if let bodyProblem { return bodyProblem }
        // A signed row read without the key: its chain is signed, whatever the store's records say (they
        // are not chained, and may have been removed with a rewrite that hashed again).
        if key == nil, !row.isNull(Column.mac) {
            return fail(.keyMissing, "event \(seq) carries a signature, and no chain key was given: without it a rewrite that hashes again would pass; set ROLLOUT_CHAIN_KEY to the key the chain is signed with")
        }
        // No row before the mark was written with the key (the mark is set by the first write that has it):
        // a signature there means the mark was moved later, past rows it should check.
        if key != nil, let from = keyedFrom, seq < from, !row.isNull(Column.mac) {
            return fail(.signature, "event \(seq) carries a signature, and the chain says it is signed only from event \(from): the mark was moved, so rows it should cover would go unchecked")
        }
        if let key, let from = keyedFrom, seq >= from {
            let mac = row.optionalString(Column.mac)
            if mac != key.mac(hash: row.string(Column.hash)) {
                return fail(.signature, mac == nil
                    ? "event \(seq) carries no signature, and the chain is signed from event \(from): it was added without the key"
                    : "event \(seq)'s signature does not match: it was forged or rewritten without the key")
            }
        }
        if let anchor, seq == anchor.seq {
            let hash = row.string(Column.hash)
            if hash != anchor.hash {
                return fail(.anchor, "the anchor says event \(seq) hashes to \(anchor.hash.prefix(12))…, the log's event \(seq) hashes to \(hash.prefix(12))…: the log was rewritten from there or before")
            }
        }
        return nil
    }

    /// The columns every check reads, in `Column`'s order; a store of the first version (read-only, so
    /// never migrated) has no form and mac columns, which then read as null.
    static func select(columns: Set<String>) -> String {
        let extra = ["form", "mac"].map { columns.contains($0) ? $0 : "NULL AS \($0)" }.joined(separator: ", ")
        return """
            SELECT seq, ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver, idempotency_key,
                   reason, effect, shape, body, prev_hash, hash, \(extra)
            FROM audit_events
            """
    }

    /// Positions of the columns `select` reads, in its's order.
    enum Column {
        static let seq = 0, ts = 1, tsMillis = 2, tenant = 3, actor = 4, session = 5, tool = 6, model = 7, operation = 8,
                   rowCount = 9, decision = 10, approver = 11, idempotencyKey = 12, reason = 13, effect = 14, shape = 15,
                   body = 16, prevHash = 17, hash = 18, form = 19, mac = 20
    }

    /// The columns the body holds as they are, by position and by name in the body.
    private static let copiedColumns: [(name: JSONMembers.Name, index: Int)] = [
        (.ts, Column.ts), (.tenant, Column.tenant), (.actor, Column.actor), (.session, Column.session), (.tool, Column.tool),
        (.model, Column.model), (.operation, Column.operation), (.decision, Column.decision), (.rowCount, Column.rowCount),
        (.idempotencyKey, Column.idempotencyKey), (.approver, Column.approver), (.reason, Column.reason),
    ]

    /// The first column that disagrees with the hashed body, or nil. Every column a report, a gate or
    /// the scorer reads is checked: the ones the body holds against it, the derived ones recomputed.
    /// `row` holds the columns of `verify`'s SELECT, in its order.
    /// `members` are the hashed object's (a parsed object's or `JSONMembers`'), `whole` the
    /// object itself for a body whose derived columns need a full decoding.
    /// `plainlySame`, when given, says a column holds the member's value from its text as written, without
    /// parsing it; true only when sure, otherwise the member is parsed and compared.
    static func columnProblem(_ row: some ChainRowValues, members: some BodyMembers, whole: () -> JSONValue?,
                              plainlySame: ((JSONMembers.Name, Int) -> Bool)? = nil) -> String? {
        for (name, index) in copiedColumns {
            if plainlySame?(name, index) == true { continue }
            let hashed = members.value(name)
            if !same(row[index], hashed) {
                return "column \(name.string) is \(row[index]), but the hashed event says \(hashed?.canonicalText ?? "nothing")"
            }
        }
        // Derived from the body: recomputed. The hashed time's millisecond, read from its text in place when
        // the text is plain (no escape: its bytes are its value), as `Timestamp.parse` then `millis` read it.
        let millis: Int64?
        if let time = (members as? JSONMembers)?.member(.ts)?.plainText {
            millis = Timestamp.parseMillis(bytes: time)
        } else {
            millis = members.value(.ts)?.stringValue.flatMap(Timestamp.parse).map(Timestamp.millis)
        }
        if let millis {
            let stored = row[Column.tsMillis]
            if stored != .int(millis) {
                return "column ts_ms is \(stored.string ?? "null"), but the hashed time \(members.value(.ts)?.stringValue ?? "") is \(millis)"
            }
        }
        // The common event's derived columns are confirmed from the body's text; any other is derived whole.
        let confirmed = millis != nil && (row.isText(Column.shape) || row.isNull(Column.shape)) && (row.isText(Column.effect) || row.isNull(Column.effect))
            && (members as? JSONMembers).map { indexed in
                row.withOptionalText(Column.effect) { effect in
                    row.withOptionalText(Column.shape) { shape in PlainDerivedColumns.confirms(indexed, effect: effect, shape: shape) }
                }
            } == true
        if !confirmed {
            let derived = millis == nil ? nil : DerivedColumns(members: members) ?? whole().map(DerivedColumns.init(decoding:))
            for (name, value, index) in [("effect", derived?.effect, Column.effect), ("shape", derived?.shape, Column.shape)]
            where !sameText(row, index, value) {
                return "column \(name) is \(row[index].string ?? "null"), but the hashed event gives \(value ?? "null")"
            }
        }
        switch row[Column.form] {
        case .null: break
        case .int(let form) where form == Int64(CanonicalForm.first) || form == Int64(CanonicalForm.rfc8785): break
        case let form: return "column form is \(form.string ?? "null"), which no rollout writes"
        }
        return nil
    }

    /// Whether a stored value is the value of `member`, decided from its text alone: true for a null
    /// column and an absent or null member, and for a text column whose bytes are a plain string member's
    /// (`JSONMembers.Member`: no escape, so its bytes are its value). False means "not shown this way",
    /// not "different".
    static func plainlySame(_ row: some ChainRowValues, _ index: Int, _ member: JSONMembers.Member?) -> Bool {
        if row.isText(index) {
            guard let text = member?.plainText else { return false }
            return row.withText(index) { stored in
                stored.count == text.count && (text.isEmpty || memcmp(stored.baseAddress!, text.baseAddress!, text.count) == 0)
            }
        }
        guard row.isNull(index) else { return false }
        guard let raw = member?.raw else { return true }
        return raw.count == 4 && raw[0] == UInt8(ascii: "n") && raw[1] == UInt8(ascii: "u") && raw[2] == UInt8(ascii: "l") && raw[3] == UInt8(ascii: "l")
    }

    /// Whether a stored column holds the hashed value, type and bytes alike: text only as text (a blob or
    /// invalid UTF-8 escapes `tenant = ?`), compared byte for byte (a string in another Unicode form
    /// is another value to SQL), a number only as an integer.
    private static func same(_ stored: SQLValue, _ hashed: JSONValue?) -> Bool {
        switch (stored, hashed) {
        case (.null, nil), (.null, .null?): return true
        case (.text(let s), .string(let h)?): return s.utf8.elementsEqual(h.utf8)
        case (.int(let i), .number(let d)?): return Double(i) == d
        default: return false
        }
    }

    /// Whether a stored column is the text `value` (or null when there is none), byte for byte, read in
    /// place (no string is made of the column: a million effects are compared). Text that is not UTF-8
    /// equals no string, as its `SQLValue` (`.bytes`) does not.
    private static func sameText(_ row: some ChainRowValues, _ index: Int, _ value: String?) -> Bool {
        guard var value else { return row.isNull(index) }
        guard row.isText(index) else { return false }
        return row.withText(index) { stored in value.withUTF8 { stored.elementsEqual($0) } }
    }
}
