import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutServe

/// Slack's request signature as Slack documents it (api.slack.com/authentication/verifying-requests-from-slack):
/// `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`, and the worked example of that page.
@Suite("Slack and webhook signatures")
struct SignatureTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let body = Array("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".utf8)
    static let timestamp = "1531420618"
    static let now = Date(timeIntervalSince1970: 1_531_420_618 + 30)

    @Test("Slack's own example verifies")
    func slackExample() {
        #expect(SlackSignature.sign(body: Self.body, timestamp: Self.timestamp, secret: Self.secret)
            == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
        #expect(SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                                      secret: Self.secret, now: Self.now) == nil)
    }

    @Test("a wrong secret, an edited body, a stale or future timestamp, missing headers and no secret are all refused", arguments: [
        ("wrong secret", SlackSignature.Failure.badSignature),
        ("edited body", .badSignature),
        ("six minutes old", .staleTimestamp),
        ("six minutes ahead", .staleTimestamp),
        ("no signature", .missingHeaders),
        ("no secret configured", .notConfigured),
    ])
    func refused(_ case_: String, _ expected: SlackSignature.Failure) {
        let good = SlackSignature.sign(body: Self.body, timestamp: Self.timestamp, secret: Self.secret)
        let result: SlackSignature.Failure? = switch case_ {
        case "wrong secret":
            SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: SlackSignature.sign(body: Self.body, timestamp: Self.timestamp, secret: "other"),
                                  secret: Self.secret, now: Self.now)
        case "edited body":
            SlackSignature.verify(body: Self.body + Array("&x=1".utf8), timestamp: Self.timestamp, signature: good, secret: Self.secret, now: Self.now)
        case "six minutes old":
            SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: good, secret: Self.secret, now: Self.now.addingTimeInterval(360))
        case "six minutes ahead":
            SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: good, secret: Self.secret, now: Self.now.addingTimeInterval(-390))
        case "no signature":
            SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: nil, secret: Self.secret, now: Self.now)
        default:
            SlackSignature.verify(body: Self.body, timestamp: Self.timestamp, signature: good, secret: nil, now: Self.now)
        }
        #expect(result == expected)
    }

    @Test("the generic webhook signs timestamp and body, and refuses an edit or an old request")
    func webhook() {
        let body = Array(#"{"approval_id":3,"decision":"deny","approver":"maria.lopez","note":"amount wrong"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let signature = SignedWebhook.sign(body: body, timestamp: "1800000000", secret: "s3cret")
        #expect(signature.hasPrefix("sha256=") && signature.count == 7 + 64)
        #expect(SignedWebhook.verify(body: body, timestamp: "1800000000", signature: signature, secret: "s3cret", now: now) == nil)
        #expect(SignedWebhook.verify(body: body + [32], timestamp: "1800000000", signature: signature, secret: "s3cret", now: now) != nil)
        #expect(SignedWebhook.verify(body: body, timestamp: "1800000000", signature: signature, secret: "s3cret", now: now.addingTimeInterval(400)) != nil)
        #expect(SignedWebhook.verify(body: body, timestamp: "1800000000", signature: signature, secret: nil, now: now) != nil)
    }

    @Test("a session cookie names its approver until it ends; an edited or expired one names nobody")
    func sessions() {
        let sessions = Sessions(key: Array(repeating: 7, count: 32))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let cookie = sessions.issue("maria.lopez", now: now)
        #expect(sessions.approver(cookie, now: now) == "maria.lopez")
        #expect(sessions.approver(cookie, now: now.addingTimeInterval(Sessions.lifetime + 1)) == nil)
        let forged = Sessions(key: Array(repeating: 8, count: 32)).issue("maria.lopez", now: now)
        #expect(sessions.approver(forged, now: now) == nil)
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        let renamed = Data("dev.patel".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "") + "." + parts[1...].joined(separator: ".")
        #expect(sessions.approver(renamed, now: now) == nil)
        #expect(sessions.csrf(for: cookie) != sessions.csrf(for: forged))
        // Bound to the token it began with; the tag cannot be edited; signing out ends it.
        let bound = sessions.issue("maria.lopez", tokenTag: "0123456789abcdef", now: now)
        #expect(sessions.session(bound, now: now)?.tokenTag == "0123456789abcdef")
        #expect(sessions.session(bound.replacingOccurrences(of: "0123456789abcdef", with: "fedcba9876543210"), now: now) == nil)
        let twin = sessions.issue("maria.lopez", tokenTag: "0123456789abcdef", now: now)
        #expect(twin != bound, "two sessions begun in the same second are two sessions")
        sessions.revoke(bound)
        #expect(sessions.session(twin, now: now) != nil, "signing one out leaves the other")
        #expect(sessions.session(bound, now: now) == nil && sessions.approver(cookie, now: now) == "maria.lopez")
    }

    @Test("approvers.yaml: a token is known by its SHA-256, compared whole; a malformed hash names its line")
    func approvers() throws {
        let dir = TestPaths.scratchRoot.appendingPathComponent("approvers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("approvers.yaml").path
        try "version: 1\napprovers:\n  maria.lopez:\n    token_sha256: \(ApproversFile.sha256("tok-1"))\n    slack_user: U1\n  dev.patel:\n    slack_user: U2\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ApproversFile.load(path: path)
        #expect(file.approver(token: "tok-1")?.name == "maria.lopez" && file.approver(token: "tok-2") == nil)
        #expect(file.approver(slackUser: "U2")?.name == "dev.patel" && file.hasTokens)
        try "version: 1\napprovers:\n  maria.lopez:\n    token_sha256: not-a-hash\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DiagnosticsError.self) { try ApproversFile.load(path: path) }
    }
}
