import Foundation
import RolloutCore

/// Takes out of an answer what the adversary itself sent: many servers echo the arguments back, and only
/// the rest of an answer can leak. Every call's answer goes through it, so an ASCII answer and string
/// are compared byte by byte; anything else goes through Foundation's search, which compares composed
/// characters (a precomposed 'é' finds a decomposed one) and so decides for text that is not ASCII.
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

    /// `text` without any occurrence of `needle`, left to right, as `replacingOccurrences(of:with: "")` gives it.
    static func removing(_ needle: some StringProtocol, from text: String) -> String {
        var word = String(needle), hay = text
        let ascii = hay.withUTF8 { $0.allSatisfy { $0 < 0x80 } } && word.withUTF8 { $0.allSatisfy { $0 < 0x80 } }
        guard ascii, !word.isEmpty else { return text.replacingOccurrences(of: word, with: "") }
        return hay.withUTF8 { h in word.withUTF8 { w in removingBytes(w, from: h) } } ?? text
    }

    /// The ASCII `hay` without `word`, or nil when it does not occur.
    private static func removingBytes(_ word: UnsafeBufferPointer<UInt8>, from hay: UnsafeBufferPointer<UInt8>) -> String? {
        guard word.count <= hay.count else { return nil }
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
