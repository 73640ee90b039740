import Foundation

/// A record that cannot be read as an audit event: which field and why.
public struct AuditEventError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension AuditEvent {
    /// The most rows one event may say it touched: more is a corrupt or hostile record, not a write.
    public static let maxRowCount = 1_000_000_000

    /// The names of the JSON Lines interchange format that are ours; anything else is kept in `extra`.
    public static let knownKeys: Set<String> = [
        "seq", "ts", "tenant", "actor", "session", "tool", "model", "operation", "targets", "row_count",
        "fields_changed", "changes", "reason", "idempotency_key", "decision", "approver", "policy_digest",
        "message", "details", "backend",
    ]

    /// The event as one interchange object; unknown fields of imported records are written back at the
    /// top level, so an import then export loses nothing.
    /// An unknown field by one of `knownKeys` is never written: the body would name a member twice (SQLite's
    /// `json_extract` reads the first, rollout's parser and PostgreSQL the last), or supply a field the event
    /// does not hold (its targets, its details). `OrmAIRecord` keeps such fields under `ormai_fields`.
    public var json: JSONValue {
        var object = extra.filter { !Self.knownKeys.contains($0.key) }
        if seq > 0 { object["seq"] = .number(Double(seq)) }
        object["ts"] = .string(Timestamp.format(ts))
        object["tenant"] = .string(tenant)
        object["actor"] = .string(actor)
        object["tool"] = .string(tool)
        object["decision"] = .string(decision)
        object["row_count"] = .number(Double(rowCount))
        object["fields_changed"] = .object(fieldsChanged.mapValues(\.json))
        object["reason"] = reason.map(JSONValue.string) ?? .null
        object["idempotency_key"] = idempotencyKey.map(JSONValue.string) ?? .null
        object["approver"] = approver.map(JSONValue.string) ?? .null
        object["model"] = model.map(JSONValue.string) ?? .null
        object["operation"] = operation.map(JSONValue.string) ?? .null
        if let session { object["session"] = .string(session) }
        if !targets.isEmpty { object["targets"] = .array(targets) }
        if changes.count > 1 || (changes.count == 1 && changes[0].key != targets.first ?? .null) {
            object["changes"] = .array(changes.map(\.json))
        }
        if let policyDigest { object["policy_digest"] = .string(policyDigest) }
        if let backend { object["backend"] = .string(backend) }
        if let message { object["message"] = .string(message) }
        if !details.isEmpty { object["details"] = .object(details) }
        return .object(object)
    }

    /// The canonical bytes of `json`, written field by field without building the object first: the
    /// audit append and the import do this once per event. Equal to `json.canonicalBytes`.
    public var canonicalBytes: [UInt8] {
        if extra.isEmpty { return canonicalBytesOfKnownKeys }
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(16 + extra.count)
        for (key, value) in extra where !Self.knownKeys.contains(key) { members.append((key, value)) }
        if seq > 0 { members.append(("seq", .number(Double(seq)))) }
        members.append(("ts", .string(Timestamp.format(ts))))
        members.append(("tenant", .string(tenant)))
        members.append(("actor", .string(actor)))
        members.append(("tool", .string(tool)))
        members.append(("decision", .string(decision)))
        members.append(("row_count", .number(Double(rowCount))))
        members.append(("fields_changed", .object(fieldsChanged.mapValues(\.json))))
        members.append(("reason", reason.map(JSONValue.string) ?? .null))
        members.append(("idempotency_key", idempotencyKey.map(JSONValue.string) ?? .null))
        members.append(("approver", approver.map(JSONValue.string) ?? .null))
        members.append(("model", model.map(JSONValue.string) ?? .null))
        members.append(("operation", operation.map(JSONValue.string) ?? .null))
        if let session { members.append(("session", .string(session))) }
        if !targets.isEmpty { members.append(("targets", .array(targets))) }
        if changes.count > 1 || (changes.count == 1 && changes[0].key != targets.first ?? .null) {
            members.append(("changes", .array(changes.map(\.json))))
        }
        if let policyDigest { members.append(("policy_digest", .string(policyDigest))) }
        if let backend { members.append(("backend", .string(backend))) }
        if let message { members.append(("message", .string(message))) }
        if !details.isEmpty { members.append(("details", .object(details))) }
        members.sort { JSONValue.canonicalKeyLess($0.0, $1.0) }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(0x7B)
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out.append(0x2C) }
            JSONValue.writeString(key, into: &out)
            out.append(0x3A)
            JSONValue.write(value, into: &out, indent: nil, level: 0)
        }
        out.append(0x7D)
        return out
    }

    /// `canonicalBytes` of an event with no unknown fields (every event the guard writes): its members
    /// written straight in canonical key order, with no sort.
    private var canonicalBytesOfKnownKeys: [UInt8] {
        var w = CanonicalObjectWriter()
        w.member("actor", .string(actor))
        w.member("approver", approver)
        if let backend { w.member("backend", .string(backend)) }
        if changes.count > 1 || (changes.count == 1 && changes[0].key != targets.first ?? .null) {
            w.member("changes", .array(changes.map(\.json)))
        }
        w.member("decision", .string(decision))
        if !details.isEmpty { w.member("details", .object(details)) }
        w.member("fields_changed") { out in FieldChange.writeCanonical(fieldsChanged, into: &out) }
        w.member("idempotency_key", idempotencyKey)
        if let message { w.member("message", .string(message)) }
        w.member("model", model)
        w.member("operation", operation)
        if let policyDigest { w.member("policy_digest", .string(policyDigest)) }
        w.member("reason", reason)
        w.member("row_count", .number(Double(rowCount)))
        if seq > 0 { w.member("seq", .number(Double(seq))) }
        if let session { w.member("session", .string(session)) }
        if !targets.isEmpty { w.member("targets", .array(targets)) }
        w.member("tenant", .string(tenant))
        w.member("tool", .string(tool))
        w.member("ts", .string(Timestamp.format(ts)))
        return w.finishBytes()
    }

    /// Reads one interchange object. `ts`, `tenant`, `tool` and `decision` are required; `actor`
    /// defaults to "unknown"; unknown fields are kept in `extra`.
    public init(json: JSONValue) throws(AuditEventError) {
        guard case .object(let object) = json else {
            throw AuditEventError(field: "", message: "is \(json.typeNameWithArticle), expected an object")
        }
        func string(_ key: String, required: Bool = false) throws(AuditEventError) -> String? {
            switch object[key] {
            case .string(let s)?:
                if required, s.isEmpty { throw AuditEventError(field: key, message: "is empty") }
                return s
            case nil, .null?:
                if required { throw AuditEventError(field: key, message: "is missing") }
                return nil
            case let other?:
                throw AuditEventError(field: key, message: "is \(other.typeNameWithArticle), expected a string")
            }
        }
        guard let tsText = try string("ts", required: true) else { throw AuditEventError(field: "ts", message: "is missing") }
        guard let ts = Timestamp.parse(tsText) else {
            throw AuditEventError(field: "ts", message: "'\(tsText)' is not an RFC 3339 timestamp")
        }
        let tenant = try string("tenant", required: true) ?? ""
        let tool = try string("tool", required: true) ?? ""
        let decision = try string("decision", required: true) ?? ""

        var targets: [JSONValue] = []
        switch object["targets"] {
        case .array(let items)?: targets = items
        case nil, .null?: break
        case let other?: throw AuditEventError(field: "targets", message: "is \(other.typeNameWithArticle), expected a list")
        }

        var changes: [RowChange] = []
        switch object["changes"] {
        case .array(let items)?:
            for (i, item) in items.enumerated() {
                guard case .object(let fields)? = item["fields"] else {
                    throw AuditEventError(field: "changes[\(i)].fields", message: "is missing or not an object")
                }
                changes.append(RowChange(key: item["key"] ?? .null, fields: fields.mapValues(FieldChange.init(json:))))
            }
        case nil, .null?: break
        case let other?: throw AuditEventError(field: "changes", message: "is \(other.typeNameWithArticle), expected a list")
        }
        if changes.isEmpty {
            switch object["fields_changed"] {
            case .object(let fields)? where !fields.isEmpty:
                for (name, change) in fields {
                    guard case .object = change else {
                        throw AuditEventError(field: "fields_changed.\(name)", message: "is \(change.typeNameWithArticle), expected {before, after}")
                    }
                }
                changes = [RowChange(key: targets.first ?? .null, fields: fields.mapValues(FieldChange.init(json:)))]
            case .object?, nil, .null?: break
            case let other?: throw AuditEventError(field: "fields_changed", message: "is \(other.typeNameWithArticle), expected an object")
            }
        }

        var rowCount = changes.count
        switch object["row_count"] {
        case .number(let d)?:
            guard d >= 0, d.rounded() == d, d <= Double(Self.maxRowCount) else {
                throw AuditEventError(field: "row_count", message: "is \(JSONValue.formatNumber(d)), expected a whole number from 0 to \(Self.maxRowCount)")
            }
            rowCount = Int(d)
        case nil, .null?: break
        case let other?: throw AuditEventError(field: "row_count", message: "is \(other.typeNameWithArticle), expected a number")
        }

        // The store numbers events itself; an imported `seq` is kept only when it is a plausible position.
        var seq: Int64 = 0
        if case .number(let d)? = object["seq"], d >= 1, d.rounded() == d, d < 9.007_199_254_740_992e15 { seq = Int64(d) }
        var details: [String: JSONValue] = [:]
        switch object["details"] {
        case .object(let d)?: details = d
        case nil, .null?: break
        case let other?: throw AuditEventError(field: "details", message: "is \(other.typeNameWithArticle), expected an object")
        }

        self.init(
            seq: seq, ts: ts, tenant: tenant, actor: try string("actor") ?? "unknown", session: try string("session"),
            tool: tool, model: try string("model"), operation: try string("operation"), targets: targets,
            rowCount: rowCount, changes: changes, reason: try string("reason"),
            idempotencyKey: try string("idempotency_key"), decision: decision, approver: try string("approver"),
            policyDigest: try string("policy_digest"), backend: try string("backend"), message: try string("message"), details: details,
            extra: object.filter { !Self.knownKeys.contains($0.key) })
    }
}
