import RolloutCore
import Testing

/// An upstream's words may quote what it was sent: `scrubbing` puts the mark in place of each secret value
/// of the call that the text holds.
@Suite("Redactor: a text scrubbed of a call's secrets")
struct RedactorScrubbingTests {
    static let redactor = Redactor(secretFields: ["ssn", "pin"], key: [])
    static let call: JSONValue = ["id": 12345, "data": ["ssn": "123-45-6789", "pin": 4821, "nickname": "alfred"],
                                  "auth": ["api_key": "sk-live-abcdef", "user": "ops", "secret_ok": true], "codes": ["pin": ["98765", "ab"]]]

    @Test("secret values in the text become their marks; other values and short ones stay", arguments: [
        ("ssn input_value='123-45-6789'", "123-45-6789", true),
        ("pin 4821 is wrong", "4821", true),
        ("key sk-live-abcdef revoked", "sk-live-abcdef", true),
        ("code 98765 used", "98765", true),
        ("nickname alfred taken", "alfred", false),
        ("row 12345 locked", "12345", false),
        ("pin ab", "ab", false),
        ("verified: true", "true", false),
        (#"answer began {"api_key":"sk-live-ab"#, "sk-live-ab", true),
        ("key sk-live-abcdef and again sk-live-abcdef.", "sk-live-", true),
    ])
    func scrubbed(text: String, value: String, hidden: Bool) {
        let out = Self.redactor.scrubbing(text, secretsOf: Self.call)
        #expect(out.contains(value) == !hidden, "\(out)")
        #expect(out.contains("hmac:") == hidden, "\(out)")
    }

    @Test("a secret that holds another is replaced whole, and a mark is not marked again")
    func longestFirst() {
        let out = Self.redactor.scrubbing("token abcd1234 and abcd", secretsOf: ["pin": "abcd", "ssn": "abcd1234"], ["pin": "hmac:0123456789ab"])
        #expect(out == "token \(Self.redactor.mark("abcd1234")) and \(Self.redactor.mark("abcd"))", "\(out)")
    }
}
