/// A 128-bit keyed digest of a text (SipHash, keyed per process, two domains): what the rules remember
/// of idempotency keys and effects, which are unique per write and would otherwise be a string each.
/// Two texts share a digest only by a chance of about 2^-128 per pair, which an author of events cannot
/// raise without the process's key.
struct TextDigest: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ bytes: UnsafeRawBufferPointer) {
        var first = Hasher()
        first.combine(0 as UInt8)
        first.combine(bytes: bytes)
        var second = Hasher()
        second.combine(1 as UInt8)
        second.combine(bytes: bytes)
        high = UInt64(UInt(bitPattern: first.finalize()))
        low = UInt64(UInt(bitPattern: second.finalize()))
    }

    /// An effect's digest: the effect column is a SHA-256 in hex (derived from the body by the store,
    /// checked by verify), whose first 128 bits are taken as they are; any other text is hashed as above.
    /// (Idempotency keys are chosen by agents, so they are always hashed with the process's key.)
    init(effect bytes: UnsafeRawBufferPointer) {
        if bytes.count == 64, let high = Self.hex(bytes, from: 0), let low = Self.hex(bytes, from: 16) {
            self.init(high: high, low: low)
        } else {
            self.init(bytes)
        }
    }

    /// Sixteen lowercase hex digits from `start` as a number, or nil.
    private static func hex(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64? {
        var value: UInt64 = 0
        for i in start..<(start + 16) {
            let c = bytes[i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
    }
}
