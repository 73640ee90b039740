import Crypto
import Foundation

/// Signed sign-in cookies and the CSRF tokens of their forms. A session names the approver and when it
/// ends, signed with a key of this serve process (a restart signs everyone out); the CSRF token of a
/// form is a MAC of the session, so a page another site makes cannot post a decision.
public struct Sessions: Sendable {
    /// The signing key's bytes (a fresh random key per process unless given).
    let keyBytes: [UInt8]
    public static let cookie = "rollout_session"
    public static let lifetime: TimeInterval = 8 * 3600

    public init(key: [UInt8]? = nil) {
        var generator = SystemRandomNumberGenerator()
        keyBytes = key ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: keyBytes)).map { String(format: "%02x", $0) }.joined()
    }

    /// The cookie value for `approver` until `now + lifetime`.
    public func issue(_ approver: String, now: Date = Date()) -> String {
        let body = Data(approver.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "") + "." + String(Int(now.timeIntervalSince1970 + Self.lifetime))
        return body + "." + mac(body)
    }

    /// The approver of a cookie value, when its signature holds and it has not ended.
    public func approver(_ value: String?, now: Date = Date()) -> String? {
        guard let value else { return nil }
        let parts = value.split(separator: ".").map(String.init)
        guard parts.count == 3, let ends = Double(parts[1]), ends > now.timeIntervalSince1970 else { return nil }
        let body = parts[0] + "." + parts[1]
        let expected = Array(mac(body).utf8), given = Array(parts[2].utf8)
        guard expected.count == given.count else { return nil }
        var difference: UInt8 = 0
        for i in expected.indices { difference |= expected[i] ^ given[i] }
        guard difference == 0 else { return nil }
        var base64 = parts[0]
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The CSRF token the forms of this session carry.
    public func csrf(for session: String) -> String { mac("csrf:" + session) }
}
