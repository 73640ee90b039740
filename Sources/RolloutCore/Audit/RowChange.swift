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
