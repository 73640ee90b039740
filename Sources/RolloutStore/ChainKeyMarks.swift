/// What the store's records of its chain key say before any row is read: the key given is the one the
/// chain is signed with, and the mark from which rows are signed is where that key put it. A mark
/// removed, moved past the head or written without the key would leave rewritten rows unchecked.
/// `audit verify` and the checks behind approvals and rollbacks (`checkedEvents`) ask the same.
enum ChainKeyMarks {
    static func problem(key: ChainKey, storedKeyID: String?, keyedFrom: Int64?, keyedFromMAC: String?, head: Int64) -> ChainVerification.Break? {
        guard let storedKeyID, let from = keyedFrom else {
            return .init(seq: 0, problem: .signature, detail: "a chain key was given, but this chain was never signed (ROLLOUT_CHAIN_KEY was not set when it was written), or the record of its signing was removed")
        }
        guard storedKeyID == key.id else {
            return .init(seq: 0, problem: .signature, detail: "the chain key given is not the key this chain is signed with")
        }
        // The key is recorded by the write that first appends with it: signing starts at most one past the
        // head. A mark moved further would leave every row unsigned and unchecked.
        if head < Int64.max, from > head + 1 {
            return .init(seq: from, problem: .signature,
                         detail: "the chain says it is signed from event \(from), past its head (event \(head)): the mark was moved, so no signature would be checked")
        }
        // The mark is signed. Moved to just past the head, it would leave a rewritten chain with no signed
        // row: a mark that is not confirmed counts only where a signed row follows it (a rewrite before a
        // signed row changes that row's hash, and its signature fails).
        if let mac = keyedFromMAC, mac != key.mac(keyedFrom: from) {
            return .init(seq: from, problem: .signature,
                         detail: "the mark that says the chain is signed from event \(from) does not carry the key's signature: it was moved or written without the key")
        }
        if keyedFromMAC == nil, from > head, head > 0 {
            return .init(seq: from, problem: .signature,
                         detail: "the chain says it is signed from event \(from), after its last event, and that mark is not signed: no event's signature can be checked, so the chain cannot be confirmed (a store signed by an earlier rollout: write one event with the key, then verify again)")
        }
        return nil
    }
}
