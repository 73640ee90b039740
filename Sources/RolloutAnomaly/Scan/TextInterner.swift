import Foundation
import RolloutCore

/// Texts read from the store numbered as they are first seen, so a million events compare and count
/// small integers, and each distinct text is made a `String` once (for messages, in the spelling first
/// seen). Texts are the same when Swift's strings are: canonically equivalent (an actor or key written
/// once composed and once decomposed is one), as the rules have always compared them.
struct TextInterner {
    /// Each id's text.
    private(set) var names: [String] = []
    /// Each id's bytes, one after the other, and where each starts.
    private var stored: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Open addressing: an id per slot, -1 for empty.
    private var slots: [Int32] = Array(repeating: -1, count: 64)
    /// The last ASCII text seen in each of 256 places chosen by a cheap unkeyed hash: a text that comes
    /// again (an event's actor, tool, decision) is found by comparing bytes, without the keyed hash. A
    /// miss, however contrived, only takes the keyed path.
    private var recent = [Int32](repeating: -1, count: 256)

    var count: Int { names.count }

    /// The id of `bytes`, numbering them when new.
    mutating func id(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if CanonicalText.isASCII(bytes) {
            let place = Self.place(bytes)
            let seen = recent[place]
            if seen >= 0, equals(Int(seen), bytes) { return seen }
            let id = id(key: bytes, spelling: bytes)
            recent[place] = id
            return id
        }
        let key = CanonicalText.decomposed(bytes)
        return key.withUnsafeBytes { id(key: $0, spelling: bytes) }
    }

    /// Texts are found by `key` (their canonical decomposition, or the bytes of ASCII text); a new
    /// one keeps `spelling` as its name.
    private mutating func id(key bytes: UnsafeRawBufferPointer, spelling: UnsafeRawBufferPointer) -> Int32 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        let hash = UInt64(UInt(bitPattern: hasher.finalize()))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash, equals(Int(id), bytes) { return id }
            slot = (slot + 1) & mask
        }
        let id = Int32(names.count)
        names.append(String(decoding: spelling, as: UTF8.self))
        stored.append(contentsOf: bytes)
        starts.append(stored.count)
        hashes.append(hash)
        slots[slot] = id
        if names.count * 2 > slots.count { grow() }
        return id
    }

    /// Where a text is remembered in `recent`: its length and its first and last eight bytes, mixed.
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
        stored.removeAll(keepingCapacity: true)
        starts = [0]
        hashes.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
        for i in recent.indices { recent[i] = -1 }
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

/// Canonical equivalence on stored bytes, as Swift's `String` compares: ASCII text is its own form
/// (no ASCII character decomposes); other text is compared in its canonical decomposition (NFD). Bytes
/// that are not UTF-8 are read as `String(decoding:)` repairs them, as the scorer always read them.
enum CanonicalText {
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool { ASCIIBytes.check(bytes) }

    static func decomposed(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(String(decoding: bytes, as: UTF8.self).decomposedStringWithCanonicalMapping.utf8)
    }
}
