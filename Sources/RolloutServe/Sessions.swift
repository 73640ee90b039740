import Crypto
import Foundation
import RolloutCore

/// Signed sign-in cookies and the CSRF tokens of their forms. A session names the approver and when it
/// ends, signed with a key of this serve process (a restart signs everyone out); the CSRF token of a
/// form is a MAC of the session, so a page another site makes cannot post a decision.
public struct Sessions: Sendable {
    /// The signing key's bytes (a fresh random key per process unless given).
    let keyBytes: [UInt8]
    /// Sessions signed out before their end.
    private let revoked = RevokedSessions()
    public static let cookie = "rollout_session"
    public static let lifetime: TimeInterval = 8 * 3600

    public init(key: [UInt8]? = nil) {
        var generator = SystemRandomNumberGenerator()
        keyBytes = key ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: keyBytes)).map { String(format: "%02x", $0) }.joined()
    }

    /// The cookie value for `approver` until `now + lifetime`, bound to the token they signed in with
    /// (`tokenTag`, a prefix of its SHA-256): a token replaced in approvers.yaml ends its sessions.
    public func issue(_ approver: String, tokenTag: String = "", now: Date = Date()) -> String {
        // A random part makes every session its own: signing one out never ends another begun in the same second.
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let body = Data(approver.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "") + "." + String(Int(now.timeIntervalSince1970 + Self.lifetime))
            + "." + tokenTag.filter(\.isHexDigit) + "." + nonce
        return body + "." + mac(body)
    }

    /// The approver of a cookie value, when its signature holds and it has not ended or been signed out.
    public func approver(_ value: String?, now: Date = Date()) -> String? { session(value, now: now)?.approver }

    /// The approver and token tag of a cookie value, when its signature holds and it has not ended or
    /// been signed out.
    public func session(_ value: String?, now: Date = Date()) -> (approver: String, tokenTag: String)? {
        guard let value, !revoked.contains(value) else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let ends = Double(parts[1]), ends > now.timeIntervalSince1970 else { return nil }
        let body = parts[0...3].joined(separator: ".")
        guard ApproversFile.constantTimeEqual(mac(body), parts[4]) else { return nil }
        var base64 = parts[0]
        while base64.count % 4 != 0 { base64 += "=" }
        guard let name = Data(base64Encoded: base64).flatMap({ String(data: $0, encoding: .utf8) }) else { return nil }
        return (name, parts[2])
    }

    /// Signs a session out for good (until it would have ended anyway).
    public func revoke(_ value: String) { revoked.insert(value) }

    /// The CSRF token the forms of this session carry.
    public func csrf(for session: String) -> String { mac("csrf:" + session) }
}

/// The cookie values of sessions signed out in this process (they would otherwise stay valid until
/// they end); kept until then.
final class RevokedSessions: @unchecked Sendable {
    private let lock = NSLock()
    private var values: Set<String> = []

    func insert(_ value: String) { lock.withLock { _ = values.insert(value) } }
    func contains(_ value: String) -> Bool { lock.withLock { values.contains(value) } }
}
