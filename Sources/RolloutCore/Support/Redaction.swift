import Crypto
import Foundation

/// Keeps secrets out of every log and report: the value of a field the policy marks `secret: true`, or
/// of a key named like a credential, is replaced by `sha256:` and the first 12 hex digits of its digest,
/// so two equal secrets still compare equal and none can be read.
public struct Redactor: Sendable {
    /// Field names the policy marks secret, across models.
    public var secretFields: Set<String>
    /// Names already known not to be secret (the policy's other fields), so the hot path is a lookup.
    private var clearFields: Set<String> = []

    public init(secretFields: Set<String> = []) {
        self.secretFields = secretFields
    }

    public init(policy: Policy) {
        secretFields = Set(policy.models.flatMap { $0.fields.filter(\.secret).map(\.name) })
        var clear = Set<String>()
        for model in policy.models {
            for name in model.allFieldNames where !secretFields.contains(name) {
                if Self.looksLikeCredential(name) { secretFields.insert(name) } else { clear.insert(name) }
            }
        }
        clearFields = clear
    }

    static let credentialWords: [[UInt8]] = ["token", "password", "passwd", "secret", "api_key", "apikey", "private_key", "credential"].map { Array($0.utf8) }

    /// Whether values under `key` are redacted.
    public func isSecret(_ key: String) -> Bool {
        if secretFields.contains(key) { return true }
        if clearFields.contains(key) { return false }
        return Self.looksLikeCredential(key)
    }

    /// A name like `api_key`, `X-Auth-Token` or `dbPassword`: ASCII case-insensitive substring search.
    static func looksLikeCredential(_ key: String) -> Bool {
        let bytes = key.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        for word in credentialWords where bytes.count >= word.count {
            var i = 0
            while i + word.count <= bytes.count {
                if bytes[i] == word[0], bytes[i..<(i + word.count)].elementsEqual(word) { return true }
                i += 1
            }
        }
        return false
    }

    /// `sha256:` and 12 hex digits of the value's canonical text.
    public static func digest(_ value: JSONValue) -> String {
        if case .string(let s) = value, s.hasPrefix("sha256:"), s.count == 19 { return s }  // already redacted
        let text = value.stringValue ?? value.canonicalText
        return "sha256:" + String(SHA256.hash(data: Data(text.utf8)).hexString.prefix(12))
    }

    /// `value` with every secret member, at any depth, replaced by its digest.
    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                out[key] = isSecret(key) && !member.isNull ? .string(Self.digest(member)) : redact(member)
            }
            return .object(out)
        case .array(let items):
            return .array(items.map(redact))
        default:
            return value
        }
    }

    /// The change with secret fields' before and after values replaced by digests.
    public func redact(_ change: RowChange) -> RowChange {
        var out = change
        for (name, field) in change.fields where isSecret(name) {
            out.fields[name] = FieldChange(
                before: field.before.map { $0.isNull ? $0 : .string(Self.digest($0)) },
                after: field.after.map { $0.isNull ? $0 : .string(Self.digest($0)) })
        }
        return out
    }

    /// Whether a value is a redaction digest rather than a real value.
    public static func isRedacted(_ value: JSONValue) -> Bool {
        if case .string(let s) = value { return s.hasPrefix("sha256:") && s.count == 19 }
        return false
    }
}
