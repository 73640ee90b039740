import Foundation
import RolloutCore

/// The generic webhook's signature, both ways (to an admin tool or Linear, and decisions back from it):
/// `X-Rollout-Timestamp` in seconds and `X-Rollout-Signature: sha256=` + hex HMAC-SHA256 of
/// `{timestamp}.{raw body}` under the shared secret; five minutes of clock either way.
public enum SignedWebhook {
    public static let timestampHeader = "X-Rollout-Timestamp"
    public static let signatureHeader = "X-Rollout-Signature"

    public static func sign(body: [UInt8], timestamp: String, secret: String) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        return "sha256=" + hmacHex(message, secret: secret)
    }

    /// Nil when the request is signed with `secret` within the window; why not otherwise.
    public static func verify(body: [UInt8], timestamp: String?, signature: String?, secret: String?, now: Date = Date()) -> String? {
        guard let secret, !secret.isEmpty else { return "no webhook secret is configured (ROLLOUT_WEBHOOK_SECRET)" }
        guard let timestamp, let signature, let seconds = Double(timestamp) else { return "the request is not signed" }
        guard abs(now.timeIntervalSince1970 - seconds) <= SlackSignature.window else { return "the request's timestamp is more than five minutes from now" }
        return ApproversFile.constantTimeEqual(sign(body: body, timestamp: timestamp, secret: secret), signature) ? nil : "the request's signature does not match"
    }
}
