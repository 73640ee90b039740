/// A 128-bit keyed digest of a text (SipHash, keyed per process, two domains): what the rules remember
/// of idempotency keys and effects, which are unique per write and would otherwise be a string each.
/// Two texts share a digest only by a chance of about 2^-128 per pair, which an author of events (or of
/// a tampered row) cannot raise without the process's key. The text is hashed as a Swift string, so
/// canonically equivalent spellings are one text, as the rules' strings always compared them.
struct TextDigest: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        var first = Hasher()
        first.combine(0 as UInt8)
        first.combine(text)
        var second = Hasher()
        second.combine(1 as UInt8)
        second.combine(text)
        high = UInt64(UInt(bitPattern: first.finalize()))
        low = UInt64(UInt(bitPattern: second.finalize()))
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
    }
}
