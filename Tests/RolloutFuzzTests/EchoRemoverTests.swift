import Foundation
import RolloutCore
import Testing

@testable import RolloutFuzz

/// The fuzzer takes what it sent out of every answer before looking for leaks, matching literally. On
/// ASCII that is what Foundation's `replacingOccurrences` gave, which it replaced; beyond ASCII it takes
/// out only byte-equal echoes, never more than Foundation did, and it does not crash where Foundation does.
@Suite("Echo remover: literal, what Foundation's replacingOccurrences gives on ASCII, and no crash on NUL")
struct EchoRemoverTests {
    /// What `EchoRemover.remove` replaced: each string's JSON-escaped form, then the string itself.
    static func foundation(_ sent: [String], from text: String) -> String {
        var text = text
        for string in sent where string.count >= 4 {
            text = text.replacingOccurrences(of: JSONValue.string(string).canonicalText.dropFirst().dropLast(), with: "")
            text = text.replacingOccurrences(of: string, with: "")
        }
        return text
    }

    static let ascii: [(sent: [String], text: String)] = [
        (["order-42", "carrier update from the feed"], #"{"error":"order-42 not found","echo":"carrier update from the feed"}"#),
        (["aaaa"], "aaaaaaaaaa"), (["abab"], "abababab ab"), (["say \"hi\"", "back\\slash"], #"{"m":"say \"hi\" and back\\slash"}"#),
        (["abc"], "abcabc"), (["none"], "nothing here"), (["line\nbreak"], #"{"m":"line\nbreak"}"#), (["\nabc"], "x\r\nabc"),
        (["long-argument-value"], String(repeating: "long-argument-value,", count: 200)), (["SELECT"], "SELECT id FROM users"),
        (["xyzw", "wxyz"], "xyzwxyz"),
        // A cut that joins a new echo ("a" + "abcd" + "bcd"), a string of 3 characters in 4 bytes ("\r\n" is one),
        // DEL (no escape, not printable), and a quote with the rest escaped.
        (["abcd"], "aabcdbcd"), (["ab\r\n"], "xab\r\nx"), (["ab\u{7F}c"], "xab\u{7F}cx"), (["q\"\"q"], #"{"m":"q\"\"qq\"\"q"}"#),
    ]

    @Test("on ASCII, remove gives what replacingOccurrences gives", arguments: ascii.indices)
    func agrees(_ index: Int) {
        let (sent, text) = Self.ascii[index]
        #expect(EchoRemover.remove(sent, from: text) == Self.foundation(sent, from: text))
    }

    @Test("beyond ASCII, echoes are taken out byte for byte; another normal form stays", arguments: [
        (["résumé"], "{\"r\":\"résumé\",\"s\":\"résumé!\"}", "{\"r\":\"\",\"s\":\"!\"}"),
        (["cafe\u{301}s"], "the cafe\u{301}s are open", "the  are open"),
        (["cafe\u{301}s"], "the cafés are open", "the cafés are open"),
        (["\u{212A}elvin"], "Kelvin is a unit", "Kelvin is a unit"),
        (["日本語テキスト"], "前 日本語テキスト 後", "前  後"),
    ])
    func literal(_ sent: [String], _ text: String, _ expected: String) {
        #expect(Array(EchoRemover.remove(sent, from: text).utf8) == Array(expected.utf8))
    }

    /// Foundation's search reports "abc\0" found in "xabc", past the text's end, and its replacement
    /// then crashes the process (found by an adversarial review): the old code took the fuzzer down.
    @Test("a string ending in NUL whose rest ends the text: nothing is taken out, nothing crashes", arguments: [
        (["abc\u{0}"], "xabc"), (["}\u{0}\u{0}\u{0}"], #"{"a":{}}"#), (["abc\u{0}"], "é abc"),
    ])
    func nul(_ sent: [String], _ text: String) {
        #expect(EchoRemover.remove(sent, from: text) == text)
    }
}
