import RolloutCore

/// The audit columns rollout derives from an event rather than copies (`effect`, `shape`), computed
/// from its JSON body: what `rollout audit verify` checks the stored columns against.
///
/// A well-typed body is read straight from the parsed JSON, which spares verification decoding a
/// whole `AuditEvent` per row; anything else (a field of an unexpected type) is decoded as an
/// `AuditEvent`, so both ways give exactly what the event's own `effectKey` and `shape` give.
struct DerivedColumns: Equatable {
    var effect: String?
    var shape: String?

    /// The fields `AuditEvent(json:)` requires to be non-empty strings.
    private static let requiredStrings: [JSONMembers.Name] = [.tenant, .tool, .decision]
    /// The fields `AuditEvent(json:)` requires to be strings, or absent or null.
    private static let optionalStrings: [JSONMembers.Name] = [.actor, .session, .model, .operation, .reason, .idempotencyKey, .approver,
                                                              .policyDigest, .backend, .message]

    /// Whether the body's scalar members have the types the members' reading needs (the strings, the
    /// row count); when not, the body needs a full decoding. Verification's shortcut
    /// (`PlainDerivedColumns`) asks the same, so the two never disagree on which bodies they read.
    static func scalarsReadable(_ members: some BodyMembers) -> Bool {
        for key in requiredStrings where !members.isNonEmptyString(key) { return false }
        for key in optionalStrings where !members.isStringOrNull(key) { return false }
        switch members.value(.rowCount) {
        case nil, .null?: return true
        case .number(let d)? where d >= 0 && d.rounded() == d && d <= Double(AuditEvent.maxRowCount): return true
        default: return false
        }
    }

    /// Reads the derived columns from the body's members; nil when the body needs a full decoding.
    init?(_ object: [String: JSONValue]) {
        self.init(members: object)
    }

    /// Reads the derived columns from the body's members (a parsed object's, or those `JSONMembers`
    /// found without building the body); nil when the body needs a full decoding.
    init?(members: some BodyMembers) {
        func member(_ name: JSONMembers.Name) -> JSONValue? { members.value(name) }
        guard Self.scalarsReadable(members) else { return nil }
        var targets: [JSONValue] = []
        switch member(.targets) {
        case .array(let items)?: targets = items
        case nil, .null?: break
        default: return nil
        }
        // The changed fields of each row, as `AuditEvent(json:)` reads them: `changes`, else the
        // one-row `fields_changed` of the interchange form (which is how a one-row event is stored).
        var rows: [[String: JSONValue]] = []
        switch member(.changes) {
        case .array(let items)?:
            for item in items {
                guard case .object(let fields)? = item["fields"] else { return nil }
                rows.append(fields)
            }
        case nil, .null?: break
        default: return nil
        }
        if rows.isEmpty, let fields = members.members(of: "fields_changed") {
            // The one-row form read by its members: only the after values are built, and only when
            // there are targets (for the effect); the shape is the names alone.
            let names = fields.names
            let shape = names.isEmpty ? nil : names.sorted().joined(separator: ",")
            if targets.isEmpty {
                if fields.allObjects {
                    effect = nil
                    self.shape = shape
                    return
                }
            } else if let after = Self.afterValues(fields, names: names.sorted(by: JSONValue.canonicalKeyLess)) {
                guard case .string(let tool)? = member(.tool) else { return nil }
                effect = AuditEvent.effectKey(tool: tool, targets: targets, after: names.isEmpty ? [] : [after])
                self.shape = shape
                return
            }
        }
        if rows.isEmpty {
            switch member(.fieldsChanged) {
            case .object(let fields)? where !fields.isEmpty:
                for value in fields.values {
                    guard case .object = value else { return nil }
                }
                rows = [fields]
            case .object?, nil, .null?: break
            default: return nil
            }
        }
        let firstFields = rows.first
        guard case .string(let tool)? = member(.tool) else { return nil }
        if targets.isEmpty {
            effect = nil
        } else {
            // As `FieldChange(json:)`: a field without an after value has none.
            let after = rows.map { fields in
                fields.compactMap { name, field in field["after"].map { (name: name, value: $0) } }
                    .sorted { JSONValue.canonicalKeyLess($0.name, $1.name) }
            }
            effect = AuditEvent.effectKey(tool: tool, targets: targets, after: after)
        }
        if let fields = firstFields, !fields.isEmpty {
            shape = fields.keys.sorted().joined(separator: ",")
        } else {
            shape = nil
        }
    }

    /// Each field's after value in `names`' order (a field without one has none, as `FieldChange(json:)`
    /// reads it); nil when a field's value is not an object read by its members (the caller then reads
    /// the member whole).
    private static func afterValues<Fields: BodyMembers>(_ fields: Fields, names: [String]) -> [(name: String, value: JSONValue)]? {
        var after: [(name: String, value: JSONValue)] = []
        for name in names {
            guard let field = fields.members(of: name) else { return nil }
            if let value = field.value(.after) { after.append((name, value)) }
        }
        return after
    }

    /// Decodes the whole event; a body that does not decode derives nothing.
    init(decoding json: JSONValue) {
        let event = try? AuditEvent(json: json)
        effect = event?.effectKey
        shape = event?.shape
    }
}

/// An event body's members as `DerivedColumns` and verification's column check read them: from a
/// parsed object, or from `JSONMembers`, which builds only the members asked for and tells a member's
/// type without building it.
protocol BodyMembers {
    func value(_ name: JSONMembers.Name) -> JSONValue?
    /// Whether the member is a string of at least one character.
    func isNonEmptyString(_ name: JSONMembers.Name) -> Bool
    /// Whether the member is absent, null or a string.
    func isStringOrNull(_ name: JSONMembers.Name) -> Bool
    /// An object member's own members; nil when the member is absent or not an object, or when they
    /// are not read this way (the caller then reads the member's value).
    func members(of name: String) -> Self?
    /// The members' names.
    var names: [String] { get }
    /// Whether every member is an object.
    var allObjects: Bool { get }
}

extension Dictionary: BodyMembers where Key == String, Value == JSONValue {
    func value(_ name: JSONMembers.Name) -> JSONValue? { self[name.string] }

    func isNonEmptyString(_ name: JSONMembers.Name) -> Bool {
        if case .string(let s)? = self[name.string] { return !s.isEmpty }
        return false
    }

    func isStringOrNull(_ name: JSONMembers.Name) -> Bool {
        switch self[name.string] {
        case nil, .null?, .string?: true
        default: false
        }
    }

    func members(of name: String) -> [String: JSONValue]? {
        guard case .object(let object)? = self[name] else { return nil }
        return object
    }

    var names: [String] { Array(keys) }

    var allObjects: Bool {
        values.allSatisfy { if case .object = $0 { true } else { false } }
    }
}

extension JSONMembers: BodyMembers {
    func isStringOrNull(_ name: JSONMembers.Name) -> Bool {
        switch kind(name) {
        case nil, .null?, .string?: true
        default: false
        }
    }

    func members(of name: String) -> JSONMembers? {
        guard kind(name) == .object, let raw = raw(name) else { return nil }
        return JSONMembers(raw)
    }

    var names: [String] { (0..<count).map(name(at:)) }

    var allObjects: Bool { (0..<count).allSatisfy { kind(at: $0) == .object } }
}
