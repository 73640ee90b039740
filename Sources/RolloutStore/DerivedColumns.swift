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

    /// The fields `AuditEvent(json:)` requires to be strings, or absent or null.
    private static let optionalStrings = ["actor", "session", "model", "operation", "reason", "idempotency_key", "approver",
                                          "policy_digest", "backend", "message"]

    /// Reads the derived columns from the body's members; nil when the body needs a full decoding.
    init?(_ object: [String: JSONValue]) {
        self.init(members: object)
    }

    /// Reads the derived columns from the body's members (a parsed object's, or those `JSONMembers`
    /// found without building the body); nil when the body needs a full decoding.
    init?(members: some BodyMembers) {
        func member(_ name: String) -> JSONValue? { members.value(name) }
        for key in ["tenant", "tool", "decision"] where !members.isNonEmptyString(key) { return nil }
        for key in Self.optionalStrings where !members.isStringOrNull(key) { return nil }
        switch member("row_count") {
        case nil, .null?: break
        case .number(let d)? where d >= 0 && d.rounded() == d && d <= Double(AuditEvent.maxRowCount): break
        default: return nil
        }
        var targets: [JSONValue] = []
        switch member("targets") {
        case .array(let items)?: targets = items
        case nil, .null?: break
        default: return nil
        }
        // The changed fields of each row, as `AuditEvent(json:)` reads them: `changes`, else the
        // one-row `fields_changed` of the interchange form (which is how a one-row event is stored).
        var rows: [[String: JSONValue]] = []
        switch member("changes") {
        case .array(let items)?:
            for item in items {
                guard case .object(let fields)? = item["fields"] else { return nil }
                rows.append(fields)
            }
        case nil, .null?: break
        default: return nil
        }
        if rows.isEmpty, targets.isEmpty, let names = members.namesOfObjectOfObjects("fields_changed") {
            // Without targets there is no effect, and the shape is the names alone: the changed fields'
            // values need not be built.
            effect = nil
            shape = names.isEmpty ? nil : names.sorted().joined(separator: ",")
            return
        }
        if rows.isEmpty {
            switch member("fields_changed") {
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
        guard case .string(let tool)? = member("tool") else { return nil }
        if targets.isEmpty {
            effect = nil
        } else {
            // As `FieldChange(json:)`: a field without an after value has none.
            let after = rows.map { JSONValue.object($0.compactMapValues { $0["after"] }) }
            let value: JSONValue = ["tool": .string(tool), "targets": .array(targets), "after": .array(after)]
            effect = String(value.canonicalDigest.prefix(16))
        }
        if let fields = firstFields, !fields.isEmpty {
            shape = fields.keys.sorted().joined(separator: ",")
        } else {
            shape = nil
        }
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
    func value(_ name: String) -> JSONValue?
    /// Whether the member is a string of at least one character.
    func isNonEmptyString(_ name: String) -> Bool
    /// Whether the member is absent, null or a string.
    func isStringOrNull(_ name: String) -> Bool
    /// The names in an object member whose values are all objects; nil when the member is not such an
    /// object, or when that is not told cheaply (the caller then reads the member's value).
    func namesOfObjectOfObjects(_ name: String) -> [String]?
}

extension Dictionary: BodyMembers where Key == String, Value == JSONValue {
    func value(_ name: String) -> JSONValue? { self[name] }

    func isNonEmptyString(_ name: String) -> Bool {
        if case .string(let s)? = self[name] { return !s.isEmpty }
        return false
    }

    func isStringOrNull(_ name: String) -> Bool {
        switch self[name] {
        case nil, .null?, .string?: true
        default: false
        }
    }

    func namesOfObjectOfObjects(_ name: String) -> [String]? {
        guard case .object(let object)? = self[name] else { return nil }
        for value in object.values {
            guard case .object = value else { return nil }
        }
        return Array(object.keys)
    }
}

extension JSONMembers: BodyMembers {
    func isStringOrNull(_ name: String) -> Bool {
        switch kind(name) {
        case nil, .null?, .string?: true
        default: false
        }
    }

    func namesOfObjectOfObjects(_ name: String) -> [String]? {
        guard kind(name) == .object, let raw = raw(name), let object = JSONMembers(raw) else { return nil }
        for index in 0..<object.count where object.kind(at: index) != .object { return nil }
        return (0..<object.count).map(object.name(at:))
    }
}
