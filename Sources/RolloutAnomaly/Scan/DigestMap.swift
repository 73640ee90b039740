/// A map keyed by text digests, for the rules' memory of keys and effects (an entry or two per write,
/// forgotten a day or ten minutes later). A digest is already a keyed hash: its own bits place it in
/// the table, where a dictionary hashed all 128 of them again with SipHash on every look-up, insert and
/// removal (a quarter of the judging thread on a store of unique keys). Open addressing with linear
/// probing; a removal shifts the entries after it back, so no tombstones pile up.
struct DigestMap<Value> {
    private var keys: [TextDigest]
    private var values: [Value?]
    private var used: [Bool]
    private(set) var count = 0

    init() {
        keys = Array(repeating: TextDigest(high: 0, low: 0), count: 64)
        values = Array(repeating: nil, count: 64)
        used = Array(repeating: false, count: 64)
    }

    private var mask: Int { used.count - 1 }

    @inline(__always)
    private func home(_ key: TextDigest) -> Int { Int(truncatingIfNeeded: key.high) & mask }

    /// The slot holding `key`, or the empty slot where it would go.
    private func slot(of key: TextDigest) -> (index: Int, found: Bool) {
        var index = home(key)
        while used[index] {
            if keys[index] == key { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    subscript(key: TextDigest) -> Value? {
        get {
            let (index, found) = slot(of: key)
            return found ? values[index] : nil
        }
        set {
            let (index, found) = slot(of: key)
            switch (found, newValue) {
            case (true, let value?):
                values[index] = value
            case (false, let value?):
                keys[index] = key
                values[index] = value
                used[index] = true
                count += 1
                if count * 2 > used.count { grow() }
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
        while used[next] {
            let wanted = home(keys[next])
            // The entry may fill the gap unless its home lies (cyclically) after the gap, up to itself.
            let staysPut = gap <= next ? (wanted > gap && wanted <= next) : (wanted > gap || wanted <= next)
            if !staysPut {
                keys[gap] = keys[next]
                values[gap] = values[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        used[gap] = false
        values[gap] = nil
        count -= 1
    }

    private mutating func grow() {
        let (oldKeys, oldValues, oldUsed) = (keys, values, used)
        let size = used.count * 2
        keys = Array(repeating: TextDigest(high: 0, low: 0), count: size)
        values = Array(repeating: nil, count: size)
        used = Array(repeating: false, count: size)
        for index in oldUsed.indices where oldUsed[index] {
            let (slot, _) = slot(of: oldKeys[index])
            keys[slot] = oldKeys[index]
            values[slot] = oldValues[index]
            used[slot] = true
        }
    }
}
