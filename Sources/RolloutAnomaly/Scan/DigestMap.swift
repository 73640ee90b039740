/// A map keyed by text digests, for the rules' memory of keys and effects (an entry or two per write,
/// forgotten a day or ten minutes later). A digest is already a keyed hash: its own bits place it in
/// the table, where a dictionary hashed all 128 of them again with SipHash on every look-up, insert and
/// removal (a quarter of the judging thread on a store of unique keys). Open addressing with linear
/// probing over one array of entries (a probe reads one place in memory: the tables outgrow the
/// caches); a removal shifts the entries after it back, so no tombstones pile up.
struct DigestMap<Value> {
    private typealias Entry = (key: TextDigest, value: Value)
    private var slots: [Entry?] = Array(repeating: nil, count: 64)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    @inline(__always)
    private func home(_ key: TextDigest) -> Int { Int(truncatingIfNeeded: key.high) & mask }

    /// The slot holding `key`, or the empty slot where it would go.
    private func slot(of key: TextDigest) -> (index: Int, found: Bool) {
        var index = home(key)
        while let entry = slots[index] {
            if entry.key == key { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    subscript(key: TextDigest) -> Value? {
        get {
            let (index, found) = slot(of: key)
            return found ? slots[index]!.value : nil
        }
        set {
            let (index, found) = slot(of: key)
            switch (found, newValue) {
            case (_, let value?):
                slots[index] = (key, value)
                if !found {
                    count += 1
                    if count * 2 > slots.count { grow() }
                }
            case (true, nil):
                remove(at: index)
            case (false, nil):
                break
            }
        }
    }

    /// Empties slot `index` and moves back each entry after it that the gap cut off from its home.
    private mutating func remove(at index: Int) {
        var gap = index
        var next = (index + 1) & mask
        while let entry = slots[next] {
            let wanted = home(entry.key)
            // The entry may fill the gap unless its home lies (cyclically) after the gap, up to itself.
            let staysPut = gap <= next ? (wanted > gap && wanted <= next) : (wanted > gap || wanted <= next)
            if !staysPut {
                slots[gap] = entry
                gap = next
            }
            next = (next + 1) & mask
        }
        slots[gap] = nil
        count -= 1
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: nil, count: old.count * 2)
        for case let entry? in old {
            slots[slot(of: entry.key).index] = entry
        }
    }
}
