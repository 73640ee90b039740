/// Lowercase hexadecimal text of bytes, written in place: verification writes two per event (the
/// chain hash and the effect digest), and iterating a digest as a generic sequence cost more than
/// hashing it.
public enum Hex {
    public static func lowercase(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                let high = byte >> 4, low = byte & 0x0F
                out[2 * i] = high < 10 ? high + 0x30 : high + 0x57
                out[2 * i + 1] = low < 10 ? low + 0x30 : low + 0x57
            }
            return bytes.count * 2
        }
    }
}
