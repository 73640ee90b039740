import Foundation
import RolloutCore
import Testing

@testable import RolloutFuzz

/// The fuzzer takes what it sent out of every answer before looking for leaks. ASCII is compared byte
/// by byte; the result must be what Foundation's search gives, which the rest still goes through.
@Suite("Echo remover: what Foundation's replacingOccurrences gives, faster on ASCII")
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

    static let cases: [(sent: [String], text: String)] = [
        (["order-42", "carrier update from the feed"], #"{"error":"order-42 not found","echo":"carrier update from the feed"}"#),
        (["aaaa"], "aaaaaaaaaa"), (["abab"], "abababab ab"), (["say \"hi\"", "back\\slash"], #"{"m":"say \"hi\" and back\\slash"}"#),
        (["abc"], "abcabc"), (["none"], "nothing here"), (["line\nbreak"], #"{"m":"line\nbreak"}"#),
        (["\u{212A}elvin"], "Kelvin is a unit"), (["Kelvin"], "\u{212A}elvin, the sign"), (["cafe\u{301}s"], "the cafés are open"),
        (["résumé"], "{\"r\":\"résumé\"}"), (["long-argument-value"], String(repeating: "long-argument-value,", count: 200)),
        (["SELECT"], "SELECT id FROM users"),
    ]

    @Test("remove gives what replacingOccurrences gives", arguments: cases.indices)
    func agrees(_ index: Int) {
        let (sent, text) = Self.cases[index]
        #expect(EchoRemover.remove(sent, from: text) == Self.foundation(sent, from: text))
    }
}
