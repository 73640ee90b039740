/// Lowercase hexadecimal text of bytes, written in place: verification writes two per event (the
/// chain hash and the effect digest), and iterating a digest as a generic sequence cost more than
/// hashing it.
public enum Hex {
    public static func lowercase(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            if let source = bytes.baseAddress, let target = out.baseAddress {
                while i + 4 <= bytes.count {
                    let four = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                    UnsafeMutableRawPointer(target).storeBytes(of: digitWord(four).littleEndian, toByteOffset: 2 * i, as: UInt64.self)
                    i += 4
                }
            }
            while i < bytes.count {
                out[2 * i] = digit(bytes[i] >> 4)
                out[2 * i + 1] = digit(bytes[i] & 0x0F)
                i += 1
            }
            return bytes.count * 2
        }
    }

    /// Whether `text` is the lowercase hexadecimal text of `bytes`, compared in place (verification
    /// checks a stored hash per event without making its string).
    /// Four bytes at a time: their eight digits made in one word and compared with eight of the text.
    public static func matches(_ bytes: UnsafeRawBufferPointer, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count == bytes.count * 2 else { return false }
        var i = 0
        if let source = bytes.baseAddress, let target = text.baseAddress {
            let digits = UnsafeRawPointer(target)
            while i + 4 <= bytes.count {
                let four = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                if UInt64(littleEndian: digits.loadUnaligned(fromByteOffset: 2 * i, as: UInt64.self)) != digitWord(four) { return false }
                i += 4
            }
        }
        while i < bytes.count {
            let byte = bytes[i]
            if text[2 * i] != digit(byte >> 4) || text[2 * i + 1] != digit(byte & 0x0F) { return false }
            i += 1
        }
        return true
    }

    /// The eight lowercase digits of four bytes (the first byte lowest), the first digit in the lowest
    /// byte of the word: byte 2k is the high nibble of byte k, byte 2k + 1 its low nibble.
    @inline(__always)
    static func digitWord(_ four: UInt32) -> UInt64 {
        // Each byte k of `four` moved to byte 2k of the word.
        var spread = UInt64(four)
        spread = (spread | (spread << 16)) & 0x0000_FFFF_0000_FFFF
        spread = (spread | (spread << 8)) & 0x00FF_00FF_00FF_00FF
        // Its high nibble stays at byte 2k, its low nibble goes to byte 2k + 1.
        let nibbles = ((spread >> 4) & 0x000F_000F_000F_000F) | ((spread & 0x000F_000F_000F_000F) << 8)
        // A nibble of 10 or more gets past 15 when 6 is added to it: those digits are letters, 0x27 further on.
        let letters = ((nibbles &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// The lowercase hexadecimal digit of a nibble.
    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + 0x30 : nibble + 0x57
    }
}
