/// A 128-bit keyed digest of a text (SipHash, keyed per process, two domains): what the rules remember
/// of idempotency keys and effects, which are unique per write and would otherwise be a string each.
/// Two texts share a digest only by a chance of about 2^-128 per pair, which an author of events (or of
/// a tampered row) cannot raise without the process's key. Canonically equivalent texts are one text
/// (`CanonicalText`), as Swift's strings compared them.
struct TextDigest: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init(_ bytes: UnsafeRawBufferPointer) {
        if CanonicalText.isASCII(bytes) {
            self.init(key: bytes)
        } else {
            let key = CanonicalText.decomposed(bytes)
            self = key.withUnsafeBytes { TextDigest(key: $0) }
        }
    }

    private init(key bytes: UnsafeRawBufferPointer) {
        var first = Hasher()
        first.combine(0 as UInt8)
        first.combine(bytes: bytes)
        var second = Hasher()
        second.combine(1 as UInt8)
        second.combine(bytes: bytes)
        high = UInt64(UInt(bitPattern: first.finalize()))
        low = UInt64(UInt(bitPattern: second.finalize()))
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
    }
}
