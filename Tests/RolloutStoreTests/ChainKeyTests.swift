import Testing

@testable import RolloutStore

@Suite("Chain key: signatures keep their form")
struct ChainKeyTests {
    /// Expected values from Python's `hmac` (HMAC-SHA256 of the domain-prefixed text under the key): stores,
    /// anchors and reports signed by earlier builds verify only while every signature keeps this form.
    @Test("each signature is HMAC-SHA256 of its domain and text under the key", arguments: [
        ("row", "0bafa1fadc3473a84a65366dac9cd0846f7c9655a32ab68357c8939ab695b60f"),
        ("keyed from", "4d9771fc6d26495415ac13448afd35e5d14b123204008b8f0662542408ced6c2"),
        ("report", "ff9aa24656a6e173b2e8d546d6a0da52e2dedf7e97818d2522853ddc02657d3a"),
        ("report files", "04dced1803d034254f6e5fea43909d17cb1565cba00c249fe9a359f6ad116e27"),
        ("fuzz report", "9dc9c1aea3b49812d1388c72ee05affffc8507f7ecba31e3a2e69fcd357b2a12"),
        ("anchor", "d433a57766e241aba54df683525073b9f65c61e85f83ed45e637ca73be653742"),
        ("anchor keyed from", "4e2fa297133156b453168e3946439c97bcd4c0325359f9d9672cb38ec32880a9"),
    ])
    func knownAnswers(_ kind: String, _ expected: String) {
        let key = ChainKey("correct horse battery staple")
        #expect(key.id == "b5725193a1e916d5")
        let mac = switch kind {
        case "row": key.mac(hash: "abc")
        case "keyed from": key.mac(keyedFrom: 7)
        case "report": key.mac(reportDigest: "sha256:00")
        case "report files": key.mac(reportFiles: "x  report.json\n")
        case "fuzz report": key.mac(fuzzReport: "d1")
        case "anchor": key.mac(anchor: ChainAnchor(seq: 5, hash: "h5", time: "2026-12-05T00:00:00Z"))
        default: key.mac(anchor: ChainAnchor(seq: 5, hash: "h5", time: "2026-12-05T00:00:00Z", keyedFrom: 3))
        }
        #expect(mac == expected)
    }
}
