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
}
