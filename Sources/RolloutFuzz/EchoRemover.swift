import Foundation
import RolloutCore

/// Takes out of an answer what the adversary itself sent: many servers echo the arguments back, and only
/// the rest of an answer can leak. Every call's answer goes through it.
///
/// Strings are matched literally, byte for byte in UTF-8 (a match in valid UTF-8 always starts and ends
/// on a character's bytes). On ASCII text that is what Foundation's `replacingOccurrences` gave, which
/// this replaced: that search cost a quarter of a fuzz run, and it crashes on a string that ends in NUL
/// when the text ends with the rest of it ("xabc" and "abc\0"). Beyond ASCII, a server that echoes a
/// string in another Unicode normal form keeps its echo, so at worst the echo is looked at for a leak:
/// literal matches are a subset of Foundation's, so nothing more is taken out than before.
enum EchoRemover {
    /// `text` with every occurrence of each of `sent`, in order, removed: as JSON escapes it inside the
    /// canonical answer, then as it was sent. Strings under 4 characters are left in (they match by chance).
    static func remove(_ sent: [String], from text: String) -> String {
        var text = text
        for var string in sent {
            // One look at the bytes: printable ASCII has a character per byte, and needs no escape.
            var printable = true, escaped = false
            string.withUTF8 { bytes in
                for byte in bytes {
                    if byte < 0x20 || byte >= 0x7F { printable = false }
                    if byte < 0x20 || byte == 0x22 || byte == 0x5C { escaped = true }
                }
            }
            guard string.utf8.count >= 4, printable || string.count >= 4 else { continue }
            if escaped {
                var canonical: [UInt8] = []
                JSONValue.appendCanonical(string: string, to: &canonical)
                text = removing(canonical.dropFirst().dropLast(), from: text)
                text = removingIfFound(string, from: text) ?? text
            } else if let once = removingIfFound(string, from: text) {
                // Its escaped form is itself: the second pass finds only what the first one's cuts joined.
                text = removingIfFound(string, from: once) ?? once
            }
        }
        return text
    }

    /// `text` without any occurrence of `needle`, left to right (after a match, the search goes on past it).
    private static func removing(_ needle: ArraySlice<UInt8>, from text: String) -> String {
        var hay = text
        return hay.withUTF8 { h in needle.withUnsafeBufferPointer { w in removingBytes(w, from: h) } } ?? text
    }

    /// As `removing`, nil when `needle` does not occur.
    private static func removingIfFound(_ needle: String, from text: String) -> String? {
        var word = needle, hay = text
        return hay.withUTF8 { h in word.withUTF8 { w in removingBytes(w, from: h) } }
    }

    /// `hay` without `word`, or nil when it does not occur (or `word` is empty).
    private static func removingBytes(_ word: UnsafeBufferPointer<UInt8>, from hay: UnsafeBufferPointer<UInt8>) -> String? {
        guard !word.isEmpty, word.count <= hay.count else { return nil }
        var out: [UInt8] = []
        var copied = 0, i = 0
        let last = hay.count - word.count
        while i <= last {
            if hay[i] == word[0], memcmp(hay.baseAddress! + i, word.baseAddress!, word.count) == 0 {
                if out.isEmpty { out.reserveCapacity(hay.count) }
                out.append(contentsOf: hay[copied..<i])
                i += word.count
                copied = i
            } else {
                i += 1
            }
        }
        guard copied > 0 else { return nil }
        out.append(contentsOf: hay[copied...])
        return String(decoding: out, as: UTF8.self)
    }
}
