/// Lowercase hexadecimal text of bytes, written in place: verification writes two per event (the
/// chain hash and the effect digest), and iterating a digest as a generic sequence cost more than
/// hashing it.
public enum Hex {
    public static func lowercase(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digit(byte >> 4)
                out[2 * i + 1] = digit(byte & 0x0F)
            }
            return bytes.count * 2
        }
    }

    /// Whether `text` is the lowercase hexadecimal text of `bytes`, compared in place (verification
    /// checks a stored hash per event without making its string).
    public static func matches(_ bytes: UnsafeRawBufferPointer, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count == bytes.count * 2 else { return false }
        for (i, byte) in bytes.enumerated() where text[2 * i] != digit(byte >> 4) || text[2 * i + 1] != digit(byte & 0x0F) {
            return false
        }
        return true
    }

    /// The lowercase hexadecimal digit of a nibble.
    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + 0x30 : nibble + 0x57
    }
}
