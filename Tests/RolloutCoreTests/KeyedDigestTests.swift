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
