import Crypto
import Foundation

/// Keeps secrets out of every log and report: the value of a field the policy marks `secret: true`, or
/// of a key named like a credential (token, password, secret, api_key...), is replaced by `hmac:` and the
/// first 12 hex digits of its HMAC-SHA256 under a key of the store (a fuzz run without a store: a key of
/// the run). Two equal secrets still compare equal within one store; nobody without the key can test a
/// guess, as anybody could against the first version's bare `sha256:` prefix (which old rows still hold,
/// and which is still recognised).
public struct Redactor: Sendable {
    /// Field names the policy marks secret, across models.
    public private(set) var secretFields: Set<String>
    /// Names already known not to be secret (the policy's other fields), so the hot path is a lookup.
    private var clearFields: Set<String> = []
    /// The models of the policy this redactor last covered: covering them (and its tools) again changes
    /// nothing, and is found so by comparing the arrays (the same storage, for the same policy value, compares at once).
    private var coveredModels: [ModelPolicy] = []
    /// And its tools (their arguments and bindings name secrets too).
    private var coveredTools: [ToolPolicy] = []
    /// The HMAC under the store's key, its padded key blocks hashed once: taking the key is most of the
    /// cost of a short text's digest.
    private let keyed: KeyedHMAC

    /// A key for one process: what a redactor without a store uses.
    public static let runKey: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    public init(secretFields: Set<String> = [], key: [UInt8] = Redactor.runKey) {
        self.secretFields = secretFields
        keyed = KeyedHMAC(key)
    }

    public init(policy: Policy, key: [UInt8] = Redactor.runKey) {
        self = Redactor(key: key).covering(policy)
    }

    /// This redactor, under the same key, hiding `policy`'s secret fields too (and its fields named like a
    /// credential): what a guard redacts with, whatever its environment's redactor was made from. A guard
    /// over `InMemoryEnvironment()` once recorded and answered a `secret: true` field that is not named
    /// like a credential (`ssn`) in the clear: the environment's redactor had never seen the policy.
    ///
    /// A redactor that already covers the policy (the fuzzer's built-in target builds a guard at every reset,
    /// over an environment made with `Redactor(policy:)`) is given back as it is: the credential heuristic over
    /// every name, and the sets copied to insert what they held, were 16% of a fuzz run, and a look-up per
    /// name still 6.5%.
    public func covering(_ policy: Policy) -> Redactor {
        if !coveredModels.isEmpty && coveredModels == policy.models && coveredTools == policy.tools { return self }
        var out = self
        // A name this redactor learned as clear from another policy turns secret: `isSecret` asks the secret
        // names first.
        func markSecret(_ name: String) {
            if !out.secretFields.contains(name) { out.secretFields.insert(name) }
        }
        // `secret: true` at any depth: a member of an object field (`profile.ssn`), the items of a list (the
        // list's own name then holds them), a tool's own argument (`args: {otp: …}`).
        func secrets(in rule: FieldRule) {
            if rule.secret { markSecret(rule.name) }
            for member in rule.fields { secrets(in: member) }
            if let items = rule.items {
                if items.secret { markSecret(rule.name) }
                for member in items.fields { secrets(in: member) }
            }
        }
        for model in policy.models {
            for field in model.fields { secrets(in: field) }
        }
        for tool in policy.tools {
            for argument in tool.arguments { secrets(in: argument) }
        }
        func learn(_ name: String) {
            guard !out.secretFields.contains(name) && !out.clearFields.contains(name) else { return }
            if Self.looksLikeCredential(name) { out.secretFields.insert(name) } else { out.clearFields.insert(name) }
        }
        for model in policy.models {
            // `allFieldNames` without the array it builds.
            learn(model.key)
            if let tenant = model.tenantField { learn(tenant) }
            for field in model.fields { learn(field.name) }
        }
        // A secret field a tool takes under another name (`bind: {fields: {pin: /new_pin}}`): the call's
        // arguments, shown to approvers and in notifications, hold it under that name.
        for tool in policy.tools {
            guard case .each(let pointers) = tool.binding.fields else { continue }
            for (field, pointer) in pointers where out.secretFields.contains(field) {
                // `/pins/0`: the list `pins` holds it.
                if let name = pointer.tokens.last(where: { !$0.isEmpty && $0 != "*" && Int($0) == nil }) { markSecret(name) }
            }
        }
        // A lookup that selects one secret value (`select: /card_number`) is recorded under the lookup's name.
        for tool in policy.tools {
            for lookup in tool.lookups {
                if let name = lookup.select?.tokens.last, out.isSecret(name) { markSecret(lookup.name) }
            }
        }
        out.coveredModels = policy.models
        out.coveredTools = policy.tools
        return out
    }

    /// Looked for in a key's letters and digits, lowercased: `api_key`, `api-key`, `X-API-Key` and
    /// `apiKey` all hold `apikey`.
    static let credentialWords: [[UInt8]] = ["token", "password", "passwd", "secret", "apikey", "privatekey", "credential", "authorization"]
        .map { Array($0.utf8) }

    /// Whether values under `key` are redacted.
    public func isSecret(_ key: String) -> Bool {
        if secretFields.contains(key) { return true }
        if clearFields.contains(key) { return false }
        return Self.looksLikeCredential(key)
    }

    /// A name like `api_key`, `X-Auth-Token`, `privateKey` or `dbPassword`: ASCII case-insensitive
    /// substring search over the name without its separators.
    public static func looksLikeCredential(_ key: String) -> Bool {
        let bytes = key.utf8.compactMap { byte -> UInt8? in
            if byte == 0x5F || byte == 0x2D || byte == 0x2E || byte == 0x20 { return nil }  // _ - . and space
            return byte >= 65 && byte <= 90 ? byte + 32 : byte
        }
        for word in credentialWords where bytes.count >= word.count {
            var i = 0
            while i + word.count <= bytes.count {
                if bytes[i] == word[0], bytes[i..<(i + word.count)].elementsEqual(word) { return true }
                i += 1
            }
        }
        return false
    }

    /// `hmac-sha256:` and the whole HMAC of `bytes` under this redactor's key, in hex: the digest of a text
    /// that may hold secret values, which nobody without the store's key can test a guess against (a plain
    /// SHA-256 of `{"token":"4821"}` gives the token back in a second).
    public func keyedDigest(_ bytes: [UInt8]) -> String {
        "hmac-sha256:" + keyed.authenticationCode(bytes).withUnsafeBytes(Hex.lowercase)
    }

    /// `hmac:` and 12 hex digits of the value's HMAC under this redactor's key.
    public func mark(_ value: JSONValue) -> String {
        if Self.isRedacted(value), let s = value.stringValue { return s }  // already redacted
        let text = value.stringValue ?? value.canonicalText
        return "hmac:" + keyed.authenticationCode(Array(text.utf8)).withUnsafeBytes { Hex.lowercase(UnsafeRawBufferPointer(rebasing: $0.prefix(6))) }
    }

    /// A value as a message may quote it (a refusal, a mismatch; messages are logged, answered and reported
    /// as they are): the mark of a secret member's value, else its canonical text.
    public func shown(_ name: String, _ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "null" }
        return isSecret(name) ? mark(value) : value.canonicalText
    }

    /// Each string and number inside `value` (marks left out), as the text a log would show, with the outermost
    /// member named as a secret that it stands under, or nil: what a log may show only as a mark, and what it
    /// may show as it is. A bool is no secret's text ("true" stands in every log).
    public func forEachLeaf(of value: JSONValue, under member: String? = nil, _ body: (_ text: String, _ leaf: JSONValue, _ secretMember: String?) -> Void) {
        switch value {
        case .object(let members):
            for (key, item) in members { forEachLeaf(of: item, under: member ?? (isSecret(key) ? key : nil), body) }
        case .array(let items):
            for item in items { forEachLeaf(of: item, under: member, body) }
        case .string(let text):
            if !Self.isRedacted(value) { body(text, value, member) }
        case .number:
            body(value.canonicalText, value, member)
        case .bool, .null:
            return
        }
    }

    /// `text` with each secret value of `sources` (a value under a secret member, at any depth, of four
    /// characters or more) replaced by its mark: an upstream's error text may quote what it was sent
    /// (`input_value=4821`), and that text goes into the log and the answer. A quote cut short (an answer's
    /// first 60 characters) is replaced from a secret's first 8 characters on.
    public func scrubbing(_ text: String, secretsOf sources: JSONValue...) -> String {
        Scrubber(self, sources).scrub(text)
    }

    /// `value` with each of its strings scrubbed so: an upstream's answer passed on and kept with its key.
    public func scrubbing(_ value: JSONValue, secretsOf sources: JSONValue...) -> JSONValue {
        let scrubber = Scrubber(self, sources)
        guard !scrubber.secrets.isEmpty else { return value }
        func walk(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let s): .string(scrubber.scrub(s))
            case .object(let members): .object(members.mapValues(walk))
            case .array(let items): .array(items.map(walk))
            default: value
            }
        }
        return walk(value)
    }

    /// The secrets of some values, by their text, with their marks, longest first (a secret that holds
    /// another is replaced whole).
    struct Scrubber {
        var secrets: [(clear: String, mark: String)] = []

        init(_ redactor: Redactor, _ sources: [JSONValue]) {
            var found: [String: String] = [:]
            for source in sources {
                redactor.forEachLeaf(of: source) { clear, leaf, member in
                    if member != nil, clear.utf8.count >= 4 { found[clear] = redactor.mark(leaf) }
                }
            }
            secrets = found.sorted { $0.key.utf8.count != $1.key.utf8.count ? $0.key.utf8.count > $1.key.utf8.count : $0.key < $1.key }
                .map { ($0.key, $0.value) }
        }

        func scrub(_ text: String) -> String {
            var out = text
            for (clear, mark) in secrets {
                if out.contains(clear) { out = out.replacingOccurrences(of: clear, with: mark) }
                guard clear.count >= 8 else { continue }
                let head = String(clear.prefix(8))
                var from = out.startIndex
                while let found = out.range(of: head, range: from..<out.endIndex) {
                    // As much of the secret as the text goes on to hold.
                    var end = found.upperBound
                    var next = clear.index(clear.startIndex, offsetBy: 8)
                    while end < out.endIndex, next < clear.endIndex, out[end] == clear[next] {
                        end = out.index(after: end)
                        next = clear.index(after: next)
                    }
                    let offset = out.distance(from: out.startIndex, to: found.lowerBound)
                    out.replaceSubrange(found.lowerBound..<end, with: mark)
                    from = out.index(out.startIndex, offsetBy: offset + mark.count)
                }
            }
            return out
        }
    }

    /// Whether `clear` is the value `redacted` hides (under this key, or the first version's bare digest).
    public func matches(_ clear: JSONValue, _ redacted: JSONValue) -> Bool {
        guard let text = redacted.stringValue else { return false }
        if text.hasPrefix("hmac:") { return mark(clear) == text }
        return Self.legacyDigest(clear) == text
    }

    /// The first version's redaction: `sha256:` and 12 hex digits, unkeyed. Only read, never written.
    static func legacyDigest(_ value: JSONValue) -> String {
        let text = value.stringValue ?? value.canonicalText
        return "sha256:" + String(SHA256.hash(data: Data(text.utf8)).hexString.prefix(12))
    }

    /// `value` with every secret member, at any depth, replaced by its mark.
    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                out[key] = isSecret(key) && !member.isNull ? .string(mark(member)) : redact(member)
            }
            return .object(out)
        case .array(let items):
            return .array(items.map(redact))
        default:
            return value
        }
    }

    /// The change with secret fields' before and after values replaced by marks, and secret members
    /// inside other fields' values (an object whose `api_key` changed) and inside its row key.
    public func redact(_ change: RowChange) -> RowChange {
        var out = change
        if Self.holdsMembers(change.key) { out.key = redact(change.key) }
        for (name, field) in change.fields {
            if isSecret(name) {
                out.fields[name] = FieldChange(
                    before: field.before.map { $0.isNull ? $0 : .string(mark($0)) },
                    after: field.after.map { $0.isNull ? $0 : .string(mark($0)) })
            } else if Self.holdsMembers(field.before) || Self.holdsMembers(field.after) {
                // Only an object or a list can hold a member named like a credential: plain values are left
                // as they are, without a copy (every audited write passes here).
                out.fields[name] = FieldChange(before: field.before.map(redact), after: field.after.map(redact))
            }
        }
        return out
    }

    /// Whether a value is an object or a list (which may hold members to redact).
    static func holdsMembers(_ value: JSONValue?) -> Bool {
        switch value {
        case .object?, .array?: true
        default: false
        }
    }

    /// Whether a redaction mark stands anywhere in `value` (a member of an object, an item of a list).
    public static func holdsRedacted(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let members): members.values.contains(where: holdsRedacted)
        case .array(let items): items.contains(where: holdsRedacted)
        default: isRedacted(value)
        }
    }

    /// An audit event as it may leave the store: secret values of its changes, details and the fields an
    /// imported system kept replaced by marks (a policy-less import still hides credential-named keys).
    public func redact(_ event: AuditEvent) -> AuditEvent {
        var out = event
        out.changes = event.changes.map(redact)
        if event.targets.contains(where: { Self.holdsMembers($0) }) { out.targets = event.targets.map(redact) }
        if case .object(let members) = redact(.object(event.details)) { out.details = members }
        if case .object(let members) = redact(.object(event.extra)) { out.extra = members }
        return out
    }

    /// Whether a value is a redaction mark rather than a real value.
    public static func isRedacted(_ value: JSONValue) -> Bool {
        guard case .string(let s) = value else { return false }
        return (s.hasPrefix("hmac:") && s.utf8.count == 17) || (s.hasPrefix("sha256:") && s.utf8.count == 19)
    }
}

/// HMAC-SHA256 (RFC 2104) under one key, whose two padded key blocks are hashed once: each use copies
/// the two hashers (the copy's state is its own), so one may be shared by every thread. Built on
/// SHA256's `update(bufferPointer:)` rather than `HMAC<SHA256>`, whose generic `update(data:)` walks a
/// `DataProtocol`'s regions and, with its `Data` and hex conversions, cost four times the hashing itself
/// on a decision's arguments. `KeyedDigestTests` hold it to `HMAC<SHA256>` on keys and texts around the block sizes.
final class KeyedHMAC: @unchecked Sendable {
    private let inner: SHA256
    private let outer: SHA256

    init(_ key: [UInt8]) {
        // A key longer than SHA-256's 64-byte block is hashed first; the block is the key padded with zeros.
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        var outer = SHA256()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The 32-byte HMAC of `bytes`.
    func authenticationCode(_ bytes: [UInt8]) -> SHA256Digest {
        var inner = self.inner
        bytes.withUnsafeBytes { inner.update(bufferPointer: $0) }
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
