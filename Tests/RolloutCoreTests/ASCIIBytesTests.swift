import Testing

@testable import RolloutCore

/// `ASCIIBytes.plainRunEnd` reads eight bytes at a time; what it answers must be what a reading byte by
/// byte answers, wherever in a word the byte that ends the run falls and whatever follows it.
@Suite("ASCII bytes: where a plain string run ends")
struct ASCIIBytesTests {
    /// The bytes that end a run (a quote, a backslash, control characters, bytes beyond ASCII), and plain
    /// neighbours of theirs that do not.
    static let enders: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x0A, 0x1F, 0x80, 0xC3, 0xFF]
    static let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7E, 0x7F, 0x41]

    static func byteByByte(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80 { return i }
            i += 1
        }
        return i
    }

    static func fast(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { ASCIIBytes.plainRunEnd($0, from: start) }
    }

    @Test("the run ends at the first such byte, wherever it falls, and then some", arguments: enders)
    func endsAtEachPosition(ender: UInt8) {
        for start in 0..<3 {
            for at in start..<24 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                bytes[at] = ender
                // Behind it, bytes that make the word arithmetic borrow: they must not move the answer.
                if at + 1 < bytes.count { bytes[at + 1] = 0x01 }
                if at + 2 < bytes.count { bytes[at + 2] = 0x22 }
                #expect(Self.fast(bytes, from: start) == at, "0x\(String(ender, radix: 16)) at \(at), from \(start)")
            }
        }
    }

    @Test("plain bytes do not end it, and a run without an end reaches the last byte", arguments: plain)
    func plainBytesPass(byte: UInt8) {
        for count in 0..<20 {
            let bytes = [UInt8](repeating: byte, count: count)
            #expect(Self.fast(bytes, from: 0) == count)
        }
    }

    @Test("50,000 seeded buffers: the same answer as reading byte by byte")
    func agreesWithByteByByte() {
        var random = SeededRandom(seed: 8)
        for round in 0..<50_000 {
            let count = Int.random(in: 0..<40, using: &random)
            // Mostly plain bytes, so runs are long enough to cross words.
            let bytes = (0..<count).map { _ in
                Int.random(in: 0..<12, using: &random) == 0 ? UInt8.random(in: 0...255, using: &random) : UInt8.random(in: 0x20...0x7E, using: &random)
            }
            let start = count == 0 ? 0 : Int.random(in: 0...count, using: &random)
            #expect(Self.fast(bytes, from: start) == Self.byteByByte(bytes, from: start), "round \(round): \(bytes) from \(start)")
        }
    }
}
