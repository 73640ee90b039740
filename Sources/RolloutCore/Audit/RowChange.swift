/// The values one write changed in one row: before and after for each field. `nil` for before or
/// after means unknown (a proxy that could not read the row), which is not the same as null.
public struct RowChange: Sendable, Hashable {
    public var key: JSONValue
    public var fields: [String: FieldChange]

    public init(key: JSONValue, fields: [String: FieldChange]) {
        self.key = key
        self.fields = fields
    }
}

public struct FieldChange: Sendable, Hashable {
    public var before: JSONValue?
    public var after: JSONValue?

    public init(before: JSONValue?, after: JSONValue?) {
        self.before = before
        self.after = after
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let before { object["before"] = before }
        if let after { object["after"] = after }
        return .object(object)
    }

    /// The canonical text of `fields` as `.object(fields.mapValues(\.json))` writes it, without building
    /// the objects: each event the guard appends writes it once.
    static func writeCanonical(_ fields: [String: FieldChange], into out: inout [UInt8]) {
        out.append(0x7B)
        let pairs = fields.count < 2 ? Array(fields) : fields.sorted { JSONValue.canonicalKeyLess($0.key, $1.key) }
        for (i, (name, change)) in pairs.enumerated() {
            if i > 0 { out.append(0x2C) }
            JSONValue.appendCanonical(string: name, to: &out)
            out.append(0x3A)
            out.append(0x7B)
            // "after" before "before", as the canonical order has them.
            if let after = change.after {
                JSONValue.appendCanonical(string: "after", to: &out)
                out.append(0x3A)
                after.appendCanonical(to: &out)
            }
            if let before = change.before {
                if change.after != nil { out.append(0x2C) }
                JSONValue.appendCanonical(string: "before", to: &out)
                out.append(0x3A)
                before.appendCanonical(to: &out)
            }
            out.append(0x7D)
        }
        out.append(0x7D)
    }

    init(json: JSONValue) {
        before = json["before"]
        after = json["after"]
    }
}

extension RowChange {
    var json: JSONValue {
        .object(["key": key, "fields": .object(fields.mapValues(\.json))])
    }
}
