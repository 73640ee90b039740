import Foundation
import Testing

@testable import RolloutServe

/// Where serve may listen without a proxy, and which forwarded requests it takes as HTTPS.
@Suite("serve's address and proxy checks")
struct ServeSettingsTests {
    @Test("loopback is an address of 127.0.0.0/8, ::1 or localhost; a host name that starts with 127. is not",
          arguments: [("127.0.0.1", true), ("127.3.4.5", true), ("::1", true), ("localhost", true),
                      ("127.attacker.example", false), ("127.0.0.1.nip.io", false), ("0.0.0.0", false), ("10.0.0.1", false), ("::", false), ("", false)])
    func loopback(host: String, expected: Bool) {
        #expect(ServeSettings.isLoopback(host) == expected)
    }

    @Test("X-Forwarded-Proto: the value the proxy appended last counts, not one the client wrote first",
          arguments: [(["https"], true), (["HTTPS "], true), (["https, http"], false), (["http, https"], true),
                      (["https", "http"], false), (["http", "https"], true), ([], false), ([""], false)])
    func forwardedProto(values: [String], expected: Bool) {
        #expect(ForwardedHTTPS.overHTTPS(values) == expected)
    }
}
