import Crypto
import Foundation
import RolloutCore

/// Slack's request signature, checked before anything else of an interaction is read: `v0=` and the
/// hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under the app's signing secret,
/// compared in constant time; a timestamp more than five minutes from now (either way) is refused, so
/// a captured request cannot be replayed later (and one replayed within the window is caught by its
/// nonce, see `ServeApp`).
public enum SlackSignature {
    /// Why a request is not taken as Slack's (403 when no secret is configured, 401 otherwise).
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notConfigured, missingHeaders, staleTimestamp, badSignature

        public var description: String {
            switch self {
            case .notConfigured: "no Slack signing secret is configured (ROLLOUT_SLACK_SIGNING_SECRET)"
            case .missingHeaders: "the request lacks X-Slack-Signature or X-Slack-Request-Timestamp"
            case .staleTimestamp: "the request's timestamp is more than five minutes from now"
            case .badSignature: "the request's signature does not match"
            }
        }
    }

    public static let window: TimeInterval = 300

    /// The signature Slack sends for `body` at `timestamp` under `secret`.
    public static func sign(body: [UInt8], timestamp: String, secret: String) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message += body
        return "v0=" + hmacHex(message, secret: secret)
    }

    /// Nil when the request is Slack's; the reason otherwise.
    public static func verify(body: [UInt8], timestamp: String?, signature: String?, secret: String?, now: Date = Date()) -> Failure? {
        guard let secret, !secret.isEmpty else { return .notConfigured }
        guard let timestamp, let signature, let seconds = Double(timestamp) else { return .missingHeaders }
        guard abs(now.timeIntervalSince1970 - seconds) <= window else { return .staleTimestamp }
        return ApproversFile.constantTimeEqual(sign(body: body, timestamp: timestamp, secret: secret), signature) ? nil : .badSignature
    }
}

/// Hex HMAC-SHA256 of `message` under `secret`: the signature of Slack's requests and of our webhooks.
func hmacHex(_ message: [UInt8], secret: String) -> String {
    HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
}
