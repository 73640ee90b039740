import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutServe

/// serve's redactor follows policy.yaml: a field marked secret while serve runs was shown on the approvals
/// page and posted to Slack in the clear, as the redactor was built once at start.
@Suite("serve's redaction follows the policy")
struct PolicyRedactionTests {
    @Test("a field marked secret is hidden from the next read on; a policy that does not read shows nothing; a secret stays secret")
    func followsThePolicy() throws {
        let dir = TestPaths.temporaryDirectory("policy-redaction").path
        let path = dir + "/policy.yaml"
        let original = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let redaction = try PolicyRedaction(path: path, key: Array("k".utf8), log: { _ in })
        let notes: JSONValue = ["notes": "SECRETNOTE-4821"]
        #expect(redaction.current()?.redact(notes) == notes, "notes is not secret in the example")

        let marked = original.replacingOccurrences(of: "notes: {type: string", with: "notes: {type: string, secret: true")
        #expect(marked != original, "the example has a notes field to mark")
        try marked.write(toFile: path, atomically: true, encoding: .utf8)
        let hidden = try #require(redaction.current()).redact(notes)
        #expect(hidden["notes"]?.stringValue?.hasPrefix("hmac:") == true, "\(hidden)")

        try "models: [".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(redaction.current() == nil)

        // Back to the original: readable again, and what was once secret is still hidden.
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let again = try #require(redaction.current()).redact(notes)
        #expect(again["notes"]?.stringValue?.hasPrefix("hmac:") == true, "\(again)")
    }
}
