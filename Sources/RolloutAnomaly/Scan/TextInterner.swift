/// Texts read from the store numbered as they are first seen, so a million events compare and count
/// small integers, and each distinct text is made a `String` once (for messages). Texts are the same
/// when their bytes are: what SQL and the store compare, not Unicode equivalence.
struct TextInterner {
    /// Each id's text.
    private(set) var names: [String] = []
    /// Each id's bytes, one after the other, and where each starts.
    private var stored: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Open addressing: an id per slot, -1 for empty.
    private var slots: [Int32] = Array(repeating: -1, count: 64)
    private let seed = UInt64.random(in: .min ... .max)

    var count: Int { names.count }

    /// The id of `bytes`, numbering them when new.
    mutating func id(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let hash = Self.hash(bytes, seed: seed)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash, equals(Int(id), bytes) { return id }
            slot = (slot + 1) & mask
        }
        let id = Int32(names.count)
        names.append(String(decoding: bytes, as: UTF8.self))
        stored.append(contentsOf: bytes)
        starts.append(stored.count)
        hashes.append(hash)
        slots[slot] = id
        if names.count * 2 > slots.count { grow() }
        return id
    }

    /// Forgets every text (ids start again from 0).
    mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        stored.removeAll(keepingCapacity: true)
        starts = [0]
        hashes.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    private func equals(_ id: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = starts[id], length = starts[id + 1] - start
        guard length == bytes.count else { return false }
        guard length > 0 else { return true }
        return stored.withUnsafeBytes { all in memcmpBytes(all.baseAddress! + start, bytes.baseAddress!, length) }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (id, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }

    /// A seeded multiply–xorshift hash, eight bytes at a time: a table lookup, not a digest (equal
    /// hashes are compared byte for byte).
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = seed ^ (UInt64(bytes.count) &* k)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* k
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}

@inline(__always)
private func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}
