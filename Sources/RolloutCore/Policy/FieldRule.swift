import Foundation

/// What a model's field may hold: its type and the limits a write must respect. The guard refuses a
/// value that breaks a rule (`invalid_value`); the adversary generates values at and past each limit.
public struct FieldRule: Sendable, Hashable {
    public enum ValueType: String, Sendable, Hashable, CaseIterable {
        case string, integer, number, boolean
        /// A JSON array whose elements follow `items`.
        case list
        /// A JSON object whose members follow `fields`; members it does not name are refused.
        case object
    }

    /// What a field means for the safety baseline: money and role fields need an approval condition.
    public enum Sensitivity: String, Sendable, Hashable, CaseIterable {
        case money, role, pii, none
    }

    public var name: String
    public var type: ValueType
    /// Allowed values (an enum).
    public var allowed: [JSONValue]?
    public var min: Double?
    public var max: Double?
    public var minLength: Int?
    public var maxLength: Int?
    /// A regular expression the whole string must match.
    public var pattern: String?
    /// Whether null is accepted.
    public var nullable: Bool
    /// Redacted in every report and log.
    public var secret: Bool
    /// Declared (`kind:`) or inferred from the name: `amount_cents` is money, `role` is a role.
    public var sensitivity: Sensitivity
    /// For a list: the rule every element follows (held in a list so that the type can contain itself).
    private var itemStorage: [FieldRule] = []
    public var minItems: Int?
    public var maxItems: Int?
    /// For a list: no element may repeat.
    public var unique: Bool = false
    /// For an object: the rule of each member, by name.
    public var fields: [FieldRule] = []
    /// The model whose row this field names by its key (`references: Order` on a refund's `order_id`): a
    /// write may name only a row of the caller's tenant, one that exists (a model's own fields only).
    public var references: String?
    /// `references: none`: the field names no row of the policy's models (an id of another system, a
    /// model's own external number), though its name reads like a reference; lint and the fuzzer take
    /// its word.
    public var referencesNothing = false

    /// For a list: the rule every element follows, when there is one.
    public var items: FieldRule? {
        get { itemStorage.first }
        set { itemStorage = newValue.map { [$0] } ?? [] }
    }

    /// A member rule of an object field.
    public func field(_ name: String) -> FieldRule? {
        for i in fields.indices where fields[i].name == name { return fields[i] }
        return nil
    }

    public init(
        name: String, type: ValueType, allowed: [JSONValue]? = nil, min: Double? = nil, max: Double? = nil,
        minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil, nullable: Bool = false,
        secret: Bool = false, sensitivity: Sensitivity? = nil
    ) {
        self.name = name
        self.type = type
        self.allowed = allowed
        self.min = min
        self.max = max
        self.minLength = minLength
        self.maxLength = maxLength
        self.pattern = pattern
        self.nullable = nullable
        self.secret = secret
        self.sensitivity = sensitivity ?? Self.inferSensitivity(name)
    }

    /// Whether the rule limits values at all beyond their type: what the safety baseline asks of a
    /// writable number or enum-like field.
    public var isConstrained: Bool {
        switch type {
        case .boolean: true
        case .integer, .number: min != nil || max != nil || allowed != nil
        case .string: allowed != nil || maxLength != nil || pattern != nil
        case .list: maxItems != nil && (items?.isConstrained ?? false)
        case .object: !fields.isEmpty && fields.allSatisfy(\.isConstrained)
        }
    }

    /// Parts of names that mean money, for fields without an explicit `kind`.
    public static let moneyWords = ["amount", "price", "cents", "balance", "refund", "credit", "payout", "fee", "cost", "total"]
    static let roleWords = ["role", "permission", "scope", "admin", "privilege", "access_level", "is_staff"]

    /// Names that mean money or privilege, for fields without an explicit `kind`. Money is judged by
    /// whole words (`refund_amount`, `amountCents`), never inside one, and a reference is not money:
    /// `credit_card_id` names a card, `total_baggages` counts bags (`total` alone, or with a money word,
    /// is money).
    public static func inferSensitivity(_ name: String) -> Sensitivity {
        let words = NameWords.split(name)
        let reference = ["id", "ids", "key", "token"].contains(words.last ?? "")
        let money = words.filter { moneyWords.contains($0) }
        if !reference, !money.isEmpty, money != ["total"] || words == ["total"] { return .money }
        let n = name.lowercased()
        if roleWords.contains(where: n.contains) { return .role }
        return .none
    }

    /// Why `value` breaks this rule, or nil when it is acceptable. Elements and members are checked
    /// too, and named by their place (`item_ids[2]`, `address.zip`).
    public func violation(_ value: JSONValue) -> String? {
        violation(value, at: name)
    }

    /// `hiding`: the value sits inside a secret field (a list of backup codes, an object holding a CVV), so
    /// no message quotes it.
    func violation(_ value: JSONValue, at name: String, hiding: Bool = false) -> String? {
        let hiding = hiding || secret || Redactor.looksLikeCredential(self.name)
        if value.isNull { return nullable ? nil : "\(name) may not be null" }
        switch type {
        case .list:
            guard case .array(let elements) = value else { return "\(name) must be a list, got \(value.typeName)" }
            if let minItems, elements.count < minItems { return "\(name) has \(elements.count) item\(elements.count == 1 ? "" : "s"), at least \(minItems) required" }
            if let maxItems, elements.count > maxItems { return "\(name) has \(elements.count) items, at most \(maxItems) allowed" }
            if unique, Set(elements).count != elements.count { return "\(name) repeats an item; each may appear once" }
            if let items {
                for (i, element) in elements.enumerated() {
                    if let problem = items.violation(element, at: "\(name)[\(i)]", hiding: hiding) { return problem }
                }
            }
        case .object:
            guard case .object(let members) = value else { return "\(name) must be an object, got \(value.typeName)" }
            for key in members.keys.sorted() {
                guard let rule = field(key) else {
                    return "\(name) has a member '\(key)' the policy does not describe; it may hold only \(fields.map(\.name).joined(separator: ", "))"
                }
                if let problem = rule.violation(members[key]!, at: "\(name).\(key)", hiding: hiding) { return problem }
            }
            for rule in fields where members[rule.name] == nil && !rule.nullable {
                return "\(name).\(rule.name) is missing"
            }
        case .string, .integer, .number, .boolean:
            break
        }
        switch type {
        case .string:
            guard case .string(let s) = value else { return "\(name) must be a string, got \(value.typeName)" }
            // A limit counts what bounds the text: Unicode scalars, as JSON Schema's maxLength does (a letter
            // with 60,000 combining accents is one character on screen and 120 kB on the wire); a minimum
            // counts characters as read, so accents do not pad a value to its minimum.
            // What a reader does not see does not count towards it: characters that show nothing (zero-width
            // spaces, fillers, the blank braille pattern), more than one space in a row, a value that is blank.
            if let minLength, case let seen = VisibleText.seenLength(s), seen < minLength {
                return "\(name) is \(seen) characters, at least \(minLength) required"
            }
            if let maxLength, s.unicodeScalars.count > maxLength {
                return "\(name) is \(s.unicodeScalars.count) characters (Unicode scalars), at most \(maxLength) allowed"
            }
            if let pattern, !Self.matches(s, pattern) { return "\(name) does not match the pattern \(pattern)" }
        case .integer:
            guard case .number(let d) = value, d.isFinite, d.rounded() == d else {
                return "\(name) must be an integer, got \(value.typeName)"
            }
            if let v = rangeViolation(d, name, hiding: hiding) { return v }
        case .number:
            guard case .number(let d) = value, d.isFinite else { return "\(name) must be a number, got \(value.typeName)" }
            if let v = rangeViolation(d, name, hiding: hiding) { return v }
        case .boolean:
            guard case .bool = value else { return "\(name) must be true or false, got \(value.typeName)" }
        case .list, .object:
            break
        }
        if let allowed, !allowed.contains(where: { $0.isIdentical(to: value) }) {
            return "\(name) must be one of \(allowed.map(\.canonicalText).joined(separator: ", "))"
        }
        return nil
    }

    private func rangeViolation(_ d: Double, _ name: String, hiding: Bool) -> String? {
        // A refusal's message is logged and answered: a secret's value (a PIN out of range) stays out of it.
        let value = hiding ? "out of range" : JSONValue.formatNumber(d)
        if let min, d < min { return "\(name) is \(value), at least \(JSONValue.formatNumber(min)) required" }
        if let max, d > max { return "\(name) is \(value), at most \(JSONValue.formatNumber(max)) allowed" }
        return nil
    }

    private static let regexCache = RegexCache()

    static func matches(_ s: String, _ pattern: String) -> Bool {
        guard let regex = regexCache.regex(pattern) else { return false }
        let range = NSRange(s.startIndex..., in: s)
        guard let match = regex.firstMatch(in: s, options: [.anchored], range: range) else { return false }
        return match.range == range
    }

    /// Whether `pattern` compiles as a regular expression.
    public static func isValidPattern(_ pattern: String) -> Bool {
        regexCache.regex(pattern) != nil
    }
}

/// Compiled regular expressions by pattern; NSRegularExpression is immutable and thread-safe.
final class RegexCache: @unchecked Sendable {
    private var cache: [String: NSRegularExpression?] = [:]
    private let lock = NSLock()

    func regex(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[pattern] { return cached }
        let compiled = try? NSRegularExpression(pattern: pattern)
        cache[pattern] = compiled
        return compiled
    }
}
