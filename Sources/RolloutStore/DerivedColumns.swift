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
        for key in ["tenant", "tool", "decision"] {
            guard case .string(let s)? = object[key], !s.isEmpty else { return nil }
        }
        for key in Self.optionalStrings {
            switch object[key] {
            case nil, .null?, .string?: continue
            default: return nil
            }
        }
        switch object["row_count"] {
        case nil, .null?: break
        case .number(let d)? where d >= 0 && d.rounded() == d && d <= Double(AuditEvent.maxRowCount): break
        default: return nil
        }
        var targets: [JSONValue] = []
        switch object["targets"] {
        case .array(let items)?: targets = items
        case nil, .null?: break
        default: return nil
        }
        // The changed fields of each row, as `AuditEvent(json:)` reads them: `changes`, else the
        // one-row `fields_changed` of the interchange form (which is how a one-row event is stored).
        var rows: [[String: JSONValue]] = []
        switch object["changes"] {
        case .array(let items)?:
            for item in items {
                guard case .object(let fields)? = item["fields"] else { return nil }
                rows.append(fields)
            }
        case nil, .null?: break
        default: return nil
        }
        if rows.isEmpty {
            switch object["fields_changed"] {
            case .object(let fields)? where !fields.isEmpty:
                for value in fields.values {
                    guard case .object = value else { return nil }
                }
                rows = [fields]
            case .object?, nil, .null?: break
            default: return nil
            }
        }
        // As `FieldChange(json:)`: a field without an after value has none.
        let after = rows.map { JSONValue.object($0.compactMapValues { $0["after"] }) }
        let firstFields = rows.first
        guard case .string(let tool)? = object["tool"] else { return nil }
        if targets.isEmpty {
            effect = nil
        } else {
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
