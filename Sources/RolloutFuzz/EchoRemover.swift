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
        for string in sent where string.count >= 4 {
            text = removing(JSONValue.string(string).canonicalText.dropFirst().dropLast(), from: text)
            text = removing(string, from: text)
        }
        return text
    }

    /// `text` without any occurrence of `needle`, left to right (after a match, the search goes on past it).
    static func removing(_ needle: some StringProtocol, from text: String) -> String {
        var word = String(needle), hay = text
        return hay.withUTF8 { h in word.withUTF8 { w in removingBytes(w, from: h) } } ?? text
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
