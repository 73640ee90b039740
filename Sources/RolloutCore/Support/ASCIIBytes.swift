/// Whether bytes are plain ASCII, eight at a time: ASCII text is its own UTF-8, its own string and its
/// own canonical form, so readers of a million rows take a fast path for it.
public enum ASCIIBytes {
    public static func check(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < bytes.count {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Where the run of plain string bytes from `start` ends: the index of the first quote, backslash,
    /// control character or byte of 0x80 or above (`bytes.count` when there is none). A JSON string
    /// whose bytes up to its closing quote are plain is its own text: no escape to read, no UTF-8 to
    /// check. Eight bytes at a time, the last few one by one.
    public static func plainRunEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= bytes.count {
                // Byte k of the text is byte k of the word, from the lowest, on any machine.
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
                // A byte is flagged by `(v - 1) & ~v & 0x80` when it is zero (`v` = word ^ c finds c), and by
                // `(word - 0x20) & ~word & 0x80` when it is below 0x20. A borrow may flag a later byte too,
                // but only past a byte rightly flagged: the lowest byte flagged (the first, little-endian)
                // is always one of them.
                let found = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word) & highs
                if found != 0 { return i + found.trailingZeroBitCount >> 3 }
                i += 8
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return i }
            i += 1
        }
        return i
    }
}

/// Bytes found to be ASCII, checked once where they are read: what the ASCII-only fast paths take, so
/// that none of them can be handed other bytes (a byte of 0x80 or above has no place in their tables).
/// A view: valid only while the bytes it was made from are.
public struct ASCIIText {
    public let bytes: UnsafeRawBufferPointer

    /// The bytes, or nil when one of them is not ASCII.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard ASCIIBytes.check(bytes) else { return nil }
        self.bytes = bytes
    }
}

