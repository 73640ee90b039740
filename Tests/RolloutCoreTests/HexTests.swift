import Testing

@testable import RolloutCore

/// Verification compares every stored hash with its digest through `Hex.matches`, and every write makes
/// its hash's text with `Hex.lowercase`, four bytes at a time: the text must be the digits of each byte,
/// and `matches` must say yes exactly to it, for every byte value, at every
/// length, and no to that text with any one digit changed or in capitals.
@Suite("Hex: a digest compared with its text in place")
struct HexTests {
    @Test("every byte value, at each place of a four-byte group and in the tail")
    func everyByte() {
        for value in 0...255 {
            for length in 1...9 {
                for place in 0..<length {
                    var bytes = [UInt8](repeating: 0x5A, count: length)
                    bytes[place] = UInt8(value)
                    #expect(Self.answers(bytes) == [true], "\(value) at \(place) of \(length)")
                    #expect(bytes.withUnsafeBytes(Hex.lowercase) == Self.byteByByte(bytes), "\(value) at \(place) of \(length)")
                }
            }
        }
    }

    @Test("digests of every length up to 40, and the same texts with one digit changed")
    func changedDigits() {
        var generator = SeededRandom(seed: 0x5EED)
        for length in 0...40 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                #expect(Self.answers(bytes).allSatisfy { $0 }, "\(bytes)")
                let text = Array(bytes.withUnsafeBytes(Hex.lowercase).utf8)
                for position in text.indices {
                    // The next digit (f wraps to 0), the digit in capitals, and a byte that is no digit.
                    let digits = Array("0123456789abcdef".utf8)
                    let next = digits[(digits.firstIndex(of: text[position])! + 1) % 16]
                    for other in [next, UInt8(ascii: "A") + (text[position] >= UInt8(ascii: "a") ? text[position] - UInt8(ascii: "a") : 0), UInt8(ascii: "g")]
                    where other != text[position] {
                        var changed = text
                        changed[position] = other
                        #expect(!Self.matches(bytes, changed), "\(bytes) with \(position) made \(other)")
                    }
                }
                #expect(!Self.matches(bytes, text + [UInt8(ascii: "0")]) && (text.isEmpty || !Self.matches(bytes, Array(text.dropLast()))))
            }
        }
    }

    /// Whether the bytes match their own text, read from the start of a buffer and from every offset
    /// up to 7 (a word load that assumed alignment would show here).
    static func answers(_ bytes: [UInt8]) -> [Bool] {
        let text = Array(bytes.withUnsafeBytes(Hex.lowercase).utf8)
        return Array(Set((0..<8).map { offset in
            let shiftedBytes = [UInt8](repeating: 0, count: offset) + bytes
            let shiftedText = [UInt8](repeating: 0, count: offset) + text
            return shiftedBytes.withUnsafeBytes { b in
                shiftedText.withUnsafeBufferPointer { t in
                    Hex.matches(UnsafeRawBufferPointer(rebasing: b[offset...]), UnsafeBufferPointer(rebasing: t[offset...]))
                }
            }
        }))
    }

    /// The text written a digit at a time from a table.
    static func byteByByte(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }

    static func matches(_ bytes: [UInt8], _ text: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in text.withUnsafeBufferPointer { Hex.matches(b, $0) } }
    }
}
