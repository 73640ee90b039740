import Testing

@testable import RolloutServe

/// The pure rules under `WebhookPoster`: which certificate names match a host, which hosts `no_proxy`
/// exempts, what of a peer's text may be quoted in a log line, and where an answer's head ends.
@Suite("certificate names, no_proxy, quoting, heads")
struct CertificateNameTests {
    @Test("a certificate's DNS name against a host: exact or a whole left-most wildcard label, ASCII bytes only", arguments: [
        ("hooks.slack.com", "hooks.slack.com", true),
        ("HOOKS.Slack.com", "hooks.slack.com", true),
        ("hooks.slack.com.", "hooks.slack.com", true),
        ("hooks.slack.com", "hooks.slack.com.", true),
        ("*.slack.com", "hooks.slack.com", true),
        ("*.slack.com", "slack.com", false),
        ("*.slack.com", "a.hooks.slack.com", false),
        ("*.com", "slack.com", false),
        ("*", "localhost", false),
        ("a*.slack.com", "ab.slack.com", false),
        ("*.*.com", "a.b.com", false),
        ("hooks.slack.com", "*.slack.com", false),
        ("ban\u{212A}.com", "bank.com", false),  // a Kelvin sign is not a K
        ("bank.com", "ban\u{212A}.com", false),
        ("b\u{00E4}nk.com", "b\u{00E4}nk.com", false),  // only ASCII names (IDNs come as xn--)
        ("xn--bnk-sna.com", "xn--bnk-sna.com", true),
        ("evil\u{1B}[31m.com", "evil\u{1B}[31m.com", false),
        ("", "", false),
    ])
    func names(pattern: String, host: String, expected: Bool) {
        #expect(CertificateName.matches(pattern, host: host) == expected)
    }

    @Test("no_proxy: names, domains, a trailing dot, addresses, blocks, brackets and *", arguments: [
        ("example.com", "example.com", true),
        ("example.com", "a.example.com", true),
        ("example.com", "badexample.com", false),
        (".example.com", "a.example.com", true),
        ("example.com", "example.com.", true),
        ("example.com.", "a.example.com", true),
        ("example.com:443", "example.com", false),
        ("*", "anything.example", true),
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.0/8", "127.9.9.9", true),
        ("10.0.0.0/8", "127.0.0.1", false),
        ("[::1]", "::1", true),
        ("::/0", "::1", true),
        ("127.0.0.0/8", "localhost", false),  // names are not resolved
    ])
    func exemptions(list: String, host: String, expected: Bool) {
        let bytes = WebhookEndpoint.addressBytes(host)
        #expect(WebhookEndpoint.exempts(list, host: host, address: bytes) == expected)
    }

    @Test("a head read a byte at a time, each scan going on from the last, ends where one scan of the whole finds it", arguments: [
        "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", "HTTP/1.1 204 No\n\nrest", "HTTP/1.1 200 OK\r\n\nx", "HTTP/1.1 200 OK\r\nno end\r\n",
        "\r\n\r\n", "\n\n", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    ])
    func trickledHead(text: String) {
        let bytes = Array(text.utf8)
        var scanned = 0, found: Int?
        for count in 1...bytes.count where found == nil {
            found = HTTPHeadReader.endOfHead(Array(bytes[..<count]), from: scanned)
            scanned = count
        }
        #expect(found == HTTPHeadReader.endOfHead(bytes))
    }

    @Test("a peer's text is quoted without control characters or bytes beyond ASCII")
    func printable() {
        #expect(DeliveryError.printable("evil\u{1B}[31mRED\u{1B}[0m\nFAKE LOG LINE") == "evil?[31mRED?[0m?FAKE LOG LINE")
        #expect(DeliveryError.printable("ban\u{212A}") == "ban???")
        #expect(DeliveryError.printable("plain text, 200 OK") == "plain text, 200 OK")
    }
}
