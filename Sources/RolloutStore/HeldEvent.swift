import Foundation
import RolloutCore

extension StoreTransaction {
    /// Event `seq`, when its row holds on its own as `audit verify` checks one row (its body hashes to its
    /// hash from the previous hash it records, every column agrees with the body, with the chain key its
    /// signature) and lies within the chain (at or before the head); nil otherwise. For a ledger row that
    /// points at the event it stands for: a row added to the table by hand then points at nothing that
    /// holds, or at an event that says something else, unless the log was edited in a way `audit verify`
    /// reports (with the chain key, not even then).
    ///
    /// `readerWithoutKey`: a reader that holds no chain key (status, flags, lint) cannot check a signature,
    /// so a signed row that holds but for it is taken as holding; writers never pass it (a writer without
    /// the key cannot write to a signed store, and a ledger row must point at a signed event there).
    public func heldEvent(seq: Int64, readerWithoutKey: Bool = false) throws -> AuditEvent? {
        guard seq >= 1, seq <= head.seq else { return nil }
        // The key's own records were checked by this transaction's writer (`AuditStore.write`), again
        // whenever they changed: a signing mark moved past the row does not switch its signature check off.
        let keyedFrom = try sql.scalar("SELECT value FROM store_meta WHERE key = 'chain_key_from'")?.string.flatMap { Int64($0) }
        let check = ChainRowCheck(key: chainKey, keyedFrom: keyedFrom, anchor: nil)
        guard let row = try sql.queryOne(ChainRowCheck.select(columns: try AuditStore.columns(sql)) + " WHERE seq = ?", [.int(seq)]) else { return nil }
        switch check.problem(row)?.problem {
        case nil: break
        case .keyMissing? where readerWithoutKey && chainKey == nil: break
        default: return nil
        }
        return try? AuditStore.decodeBody(row.string(ChainRowCheck.Column.body), seq: seq)
    }
}

extension AuditStore {
    /// `StoreTransaction.heldEvent` in a read of the store: event `seq` when its row holds on its own (with
    /// the chain key, its signature too), nil when it is missing, past the head, edited, or no event. What may
    /// be trusted to name something to run (the command an approval or rollback starts).
    public func heldEvent(seq: Int64) throws -> AuditEvent? {
        try read { sql in try StoreTransaction(sql: sql, chainKey: chainKey).heldEvent(seq: seq) }
    }
}

/// The statement that lists a key's events, but those with the decisions given: made once, the decisions
/// written in (rollout's own codes; a list bound anew on every guarded write cost more than the lookup).
public struct KeyEventQuery: Sendable {
    let sql: String

    public init(skipping decisions: [String]) {
        precondition(decisions.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") } }, "decision codes are words")
        let skipped = decisions.isEmpty ? "" : " AND decision NOT IN (" + decisions.map { "'\($0)'" }.joined(separator: ", ") + ")"
        sql = "SELECT seq FROM audit_events WHERE tenant = ? AND idempotency_key = ?" + skipped + " ORDER BY seq DESC"
    }
}

extension StoreTransaction {
    /// The events of `tenant` that record idempotency key `key`, newest first, but those `query` skips:
    /// each read as `heldEvent` reads it (nil when its row does not hold), lazily, so a walk that stops
    /// early reads no more. What the chain says of a key whose ledger row is missing.
    public func eventsUsing(idempotencyKey key: String, tenant: String, _ query: KeyEventQuery) throws -> KeyEvents {
        let seqs = try sql.query(query.sql, [.text(tenant), .text(key)]).map { $0.int(0) }
        return KeyEvents(seqs: seqs) { seq in try heldEvent(seq: seq) }
    }
}

/// A key's events, newest first, each read when the walk comes to it. A row that does not hold reads as
/// nil. A read that fails (the store, not the row: an I/O error, a lock) reads as nil too, so a walk
/// that goes no further than the sequence still takes the key as held, and it ends the sequence; its
/// error is kept in `failure`, for the caller to throw: it is not a row that does not hold, whose answer
/// ("run rollout audit verify") would send the operator to the wrong problem.
public struct KeyEvents: Sequence {
    let seqs: [Int64]
    let read: (Int64) throws -> AuditEvent?
    private let failed = FailedRead()

    init(seqs: [Int64], read: @escaping (Int64) throws -> AuditEvent?) {
        self.seqs = seqs
        self.read = read
    }

    /// The error of the read that ended the sequence early, if one did.
    public var failure: (any Error)? { failed.error }

    public func makeIterator() -> Iterator { Iterator(events: self) }

    /// Reads one event per step, and none after a failed read (which reads as a row that does not hold).
    public struct Iterator: IteratorProtocol {
        let events: KeyEvents
        var index = 0

        public mutating func next() -> (seq: Int64, event: AuditEvent?)? {
            guard events.failed.error == nil, index < events.seqs.count else { return nil }
            let seq = events.seqs[index]
            index += 1
            do {
                return (seq, try events.read(seq))
            } catch {
                events.failed.error = error
                return (seq, nil)
            }
        }
    }

    /// Where the iterator (a copy) leaves the error for the sequence's owner.
    private final class FailedRead {
        var error: (any Error)?
    }
}
