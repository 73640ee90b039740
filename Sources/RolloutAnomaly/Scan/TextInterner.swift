import Foundation
import RolloutCore

/// Texts read from the store numbered as they are first seen, so a million events compare and count
/// small integers, and each distinct text is made a `String` once. Texts are the same when Swift's
/// strings are equal (canonically equivalent: an actor or key written once composed and once decomposed
/// is one), as the rules have always compared them: `byString` decides. ASCII spellings seen before are
/// found by their bytes first (no string made), since two ASCII texts are equal only byte for byte.
struct TextInterner {
    /// Each id's text, in the spelling first seen.
    private(set) var names: [String] = []
    /// The authority: each distinct string's id.
    private var byString: [String: Int32] = [:]
    /// ASCII spellings seen, one after the other, where each starts, its keyed hash and its id.
    private var stored: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    private var ids: [Int32] = []
    /// Open addressing over the ASCII spellings: an entry per slot, -1 for empty.
    private var slots: [Int32] = Array(repeating: -1, count: 64)
    /// The last ASCII spelling seen in each of 256 places chosen by a cheap unkeyed hash: a text that
    /// comes again (an event's actor, tool, decision) is found by comparing bytes, without the keyed
    /// hash. A miss, however contrived, only takes the keyed path.
    private var recent = [Int32](repeating: -1, count: 256)

    var count: Int { names.count }

    /// The id of the text `bytes` hold (bytes that are not UTF-8 read as `String(decoding:)` repairs
    /// them, as the store's strings always were), numbering it when new.
    mutating func id(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        // A spelling seen just before is ASCII (only ASCII spellings are kept): no need to check again.
        let place = Self.place(bytes)
        let seen = recent[place]
        if seen >= 0, equals(Int(seen), bytes) { return ids[Int(seen)] }
        guard ASCIIBytes.check(bytes) else { return id(of: String(decoding: bytes, as: UTF8.self)) }
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        let hash = UInt64(UInt(bitPattern: hasher.finalize()))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { break }
            if hashes[Int(entry)] == hash, equals(Int(entry), bytes) {
                recent[place] = entry
                return ids[Int(entry)]
            }
            slot = (slot + 1) & mask
        }
        // A new ASCII spelling: its text may have been seen in another (a Kelvin sign for K).
        let id = id(of: String(decoding: bytes, as: UTF8.self))
        let entry = Int32(ids.count)
        stored.append(contentsOf: bytes)
        starts.append(stored.count)
        hashes.append(hash)
        ids.append(id)
        slots[slot] = entry
        recent[place] = entry
        if ids.count * 2 > slots.count { grow() }
        return id
    }

    private mutating func id(of text: String) -> Int32 {
        if let known = byString[text] { return known }
        let id = Int32(names.count)
        names.append(text)
        byString[text] = id
        return id
    }

    /// Where a spelling is remembered in `recent`: its length and its first and last eight bytes, mixed.
    @inline(__always)
    private static func place(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h = UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15
        if bytes.count >= 8 {
            h ^= bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self) &* 0xBF58_476D_1CE4_E5B9
            h ^= bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self) &* 0x94D0_49BB_1331_11EB
        } else {
            for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
        return Int(truncatingIfNeeded: (h ^ (h >> 31)) >> 56)
    }

    /// Forgets every text (ids start again from 0).
    mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        byString.removeAll(keepingCapacity: true)
        stored.removeAll(keepingCapacity: true)
        starts = [0]
        hashes.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
        for i in recent.indices { recent[i] = -1 }
    }

    private func equals(_ entry: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = starts[entry], length = starts[entry + 1] - start
        guard length == bytes.count else { return false }
        guard length > 0 else { return true }
        return stored.withUnsafeBytes { all in memcmpBytes(all.baseAddress! + start, bytes.baseAddress!, length) }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (entry, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry)
        }
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
