import RolloutCore

/// Finds a secret written in the clear into a target's audit log. DESIGN.md ("Reports") lets the value of a
/// field the policy marks `secret: true`, or of a member named like a credential, into a log only as an
/// `hmac:` mark. The secrets looked for are the ones the adversary knows: what its calls sent under such
/// names, and what the target's rows hold under them. A guard over `InMemoryEnvironment()` once recorded an
/// `ssn` in the clear, and no oracle looked at the log.
struct SecretLogOracle {
    /// Which member names hold secrets: the policy's `secret: true` fields and names like a credential.
    private let redactor: Redactor
    /// The rows' secret values (their text, 4 bytes or more), with the field each was found under.
    private let rowSecrets: [String: String]
    /// What calls since the log's last reset sent under a secret name, with that name.
    private var sentSecrets: [String: String] = [:]

    /// The shortest value looked for as a whole leaf: shorter ones ("1", "yes") stand in logs for other things.
    static let minimumWhole = 4
    /// The shortest sent value also looked for inside a longer text (a message that quotes it).
    static let minimumInside = 8

    /// The rule of each secret field, by name (the first model's that has it): what a replay's value must meet.
    private let rules: [String: FieldRule]

    init(policy: Policy, rows: Oracle.Snapshot) {
        redactor = Redactor(key: []).covering(policy)
        var rules: [String: FieldRule] = [:]
        for model in policy.models {
            for field in model.fields where redactor.isSecret(field.name) && rules[field.name] == nil { rules[field.name] = field }
        }
        self.rules = rules
        // Texts that are not secrets wherever else they stand: the policy's names (a `password` whose value is
        // "password" is named in every message about it), and what the rows hold under names that are not
        // secret (two fields of one pattern are seeded alike). Keys are never redacted, so not looked for.
        var clear: Set<String> = []
        for model in policy.models {
            clear.insert(model.name)
            for name in model.allFieldNames { clear.insert(name) }
        }
        for tool in policy.tools { clear.insert(tool.name) }
        var found: [String: String] = [:]
        for model in policy.models {
            for (_, row) in rows[model.name] ?? [:] {
                for (name, value) in row {
                    let secret = redactor.isSecret(name) && name != model.key && name != model.tenantField
                    redactor.forEachLeaf(of: value, under: secret ? name : nil) { text, _, member in
                        if let member { if text.utf8.count >= Self.minimumWhole { found[text] = member } } else { clear.insert(text) }
                    }
                }
            }
        }
        rowSecrets = found.filter { !clear.contains($0.key) }
        clearTexts = clear
    }

    /// Texts known not to be secrets: the policy's names and the rows' values under other names.
    private let clearTexts: Set<String>

    /// The log was reset (a fresh target): what earlier calls sent cannot be in it.
    mutating func forgetSent() {
        sentSecrets.removeAll()
    }

    /// Remembers what `arguments` carry under a secret name. A value the call also sends under a name that is
    /// not secret (a reason that quotes it) may be logged in the clear there, and is not looked for.
    mutating func noteSent(_ arguments: JSONValue) {
        var secret: [String: String] = [:]
        var clear: [String] = []
        redactor.forEachLeaf(of: arguments) { text, _, member in
            if let member { if text.utf8.count >= Self.minimumWhole { secret[text] = member } } else { clear.append(text) }
        }
        for (text, name) in secret where !clearTexts.contains(text) && !clear.contains(where: { $0.contains(text) }) { sentSecrets[text] = name }
    }

    /// How many ways `unmasked` has to fill a mark.
    static let unmaskVariants = 3

    /// `arguments` with each redaction mark under a secret name replaced by a value of the adversary's own: a
    /// replay file is written redacted, and a mark sent again would be logged as the mark it is. The leak may
    /// have needed a valid value (variant 0: the rule's, where the policy has one), the adversary's marker
    /// text (1), or a number out of the rule's range (2: a refusal that quoted it).
    func unmasked(_ arguments: JSONValue, variant: Int = 0) -> JSONValue {
        var n = 0
        func walk(_ value: JSONValue, secret: FieldRule??) -> JSONValue {
            switch value {
            case .object(let members):
                var out: [String: JSONValue] = [:]
                for key in members.keys.sorted() {
                    out[key] = walk(members[key]!, secret: redactor.isSecret(key) ? .some(rules[key]) : secret)
                }
                return .object(out)
            case .array(let items):
                return .array(items.map { walk($0, secret: secret) })
            default:
                guard let rule = secret, Redactor.isRedacted(value) else { return value }
                n += 1
                let marker = "fuzz-secret-replay-\(n)"
                switch variant {
                case 1: return .string(marker)
                case 2: if let bound = rule?.max.map({ $0 + 1_000_000 }) ?? rule?.min.map({ $0 - 1_000_000 }) { return .number(bound) }
                default: break
                }
                return rule.flatMap { ValueSynthesizer.secret(marker, rule: $0, index: n) } ?? .string(marker)
            }
        }
        return walk(arguments, secret: nil)
    }

    /// Where `event` holds a known secret in the clear: the first place (`changes[0].fields.ssn.after`) for
    /// each field it was sent or stored under, places in order. The values themselves are not given: findings
    /// go into reports. The event's own members (its sequence number, tenant, tool, decision) hold no value of
    /// a call or a row and are not read, nor are row keys (never redacted: a rollback finds its rows by them);
    /// nor is the event built as JSON first.
    func clearSecrets(in event: AuditEvent) -> [(path: String, field: String)] {
        guard !rowSecrets.isEmpty || !sentSecrets.isEmpty else { return [] }
        var found: [(path: String, field: String)] = []
        var path: [String] = []
        func within(_ name: String, _ body: () -> Void) {
            path.append(name)
            body()
            path.removeLast()
        }
        for (i, change) in event.changes.enumerated() {
            within("changes[\(i)]") {
                for (name, field) in change.fields {
                    let secret = redactor.isSecret(name)
                    if let before = field.before { within(".fields.\(name).before") { search(before, path: &path, underSecret: secret, into: &found) } }
                    if let after = field.after { within(".fields.\(name).after") { search(after, path: &path, underSecret: secret, into: &found) } }
                }
            }
        }
        if let reason = event.reason { within("reason") { search(.string(reason), path: &path, underSecret: false, into: &found) } }
        if let message = event.message { within("message") { search(.string(message), path: &path, underSecret: false, into: &found) } }
        if !event.details.isEmpty { within("details") { search(.object(event.details), path: &path, underSecret: false, into: &found) } }
        if !event.extra.isEmpty { within("extra") { search(.object(event.extra), path: &path, underSecret: false, into: &found) } }
        // Members were walked in their dictionaries' order, which differs from run to run: a report is not.
        var out: [(path: String, field: String)] = []
        for place in found.sorted(by: { $0.path < $1.path }) where !out.contains(where: { $0.field == place.field }) { out.append(place) }
        return out
    }

    /// A value of digits alone (a PIN, a card number) is looked for only under a secret name: elsewhere it may
    /// be a count or an id.
    static func isDigits(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2E || $0 == 0x2D }
    }

    private func search(_ value: JSONValue, path: inout [String], underSecret: Bool, into found: inout [(path: String, field: String)]) {
        switch value {
        case .object(let members):
            for (key, member) in members {
                path.append("." + key)
                search(member, path: &path, underSecret: underSecret || redactor.isSecret(key), into: &found)
                path.removeLast()
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                path.append("[\(i)]")
                search(item, path: &path, underSecret: underSecret, into: &found)
                path.removeLast()
            }
        case .string(let text):
            guard !sentSecrets.isEmpty || !rowSecrets.isEmpty, !Redactor.isRedacted(value) else { return }
            if let field = sentSecrets[text] ?? rowSecrets[text], underSecret || !Self.isDigits(text) {
                return found.append((path.joined(), field))
            }
            guard text.utf8.count > Self.minimumInside else { return }
            for (secret, field) in sentSecrets where secret.utf8.count >= Self.minimumInside && text.contains(secret) {
                return found.append((path.joined(), field))
            }
        case .number:
            guard underSecret, case let text = value.canonicalText, let field = sentSecrets[text] ?? rowSecrets[text] else { return }
            found.append((path.joined(), field))
        default:
            return
        }
    }
}
