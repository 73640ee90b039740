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

