import Crypto
import Foundation
import RolloutCore
import Testing

@Suite("Redactor.keyedDigest: an HMAC-SHA256 under the store's key, the same from one prepared key on every thread")
struct KeyedDigestTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0 * 7 % 256) }

    static func fresh(_ text: String, key: [UInt8] = key) -> String {
        "hmac-sha256:" + Data(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key))).hexString
    }

    @Test("each text, one after another from one redactor, as a fresh HMAC gives it",
          arguments: ["", "a", #"{"token":"4821"}"#, String(repeating: "x", count: 200), "é and e\u{301}"])
    func matchesFresh(_ text: String) {
        let redactor = Redactor(key: Self.key)
        // Used for another text first: a use leaves the prepared key as it was.
        _ = redactor.keyedDigest(Array("something else".utf8))
        #expect(redactor.keyedDigest(Array(text.utf8)) == Self.fresh(text))
        #expect(redactor.keyedDigest(Array(text.utf8)) != Self.fresh(text, key: Array(repeating: 1, count: 32)), "keyed")
    }

    /// Keys and texts on each side of SHA-256's 64-byte block and of its 55-byte last-block room: a key
    /// longer than a block is hashed first, a shorter one padded.
    @Test("keys of 0 to 200 bytes and texts of 0 to 1,000 bytes: as `HMAC<SHA256>` gives them",
          arguments: [0, 1, 31, 32, 63, 64, 65, 128, 200])
    func keyAndTextLengths(_ keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(($0 * 31 + 5) % 256) }
        let redactor = Redactor(key: key)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
            let text = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
            #expect(redactor.keyedDigest(Array(text.utf8)) == Self.fresh(text, key: key), "key \(keyLength) bytes, text \(length) bytes")
        }
    }

    /// Stores hold these marks (redacted values, placements): a mark must stay what the first keyed
    /// version wrote, `hmac:` and the first 12 hex digits of the HMAC of the value's text.
    @Test("a value's mark is `hmac:` and the fresh HMAC's first 12 hex digits",
          arguments: ["", "4821", "tok_live_4242", String(repeating: "y", count: 90)])
    func markMatchesFresh(_ text: String) {
        let redactor = Redactor(key: Self.key)
        let fresh = Self.fresh(text).dropFirst("hmac-sha256:".count)
        #expect(redactor.mark(.string(text)) == "hmac:" + fresh.prefix(12))
        #expect(redactor.mark(.number(12)) == "hmac:" + Self.fresh("12").dropFirst("hmac-sha256:".count).prefix(12))
    }

    @Test("from many threads at once, every digest is the fresh one")
    func concurrent() async {
        let redactor = Redactor(key: Self.key)
        let texts = (0..<400).map { "text \($0)" }
        let wrong = await withTaskGroup(of: Int.self) { group in
            for chunk in 0..<8 {
                group.addTask {
                    texts.enumerated().filter { $0.offset % 8 == chunk }.filter { redactor.keyedDigest(Array($0.element.utf8)) != Self.fresh($0.element) }.count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }
}
