import Foundation

/// One decision in the audit log: who asked for what, why, what the guard decided, and the values
/// before and after. Refusals are events too. The store gives each a sequence number and chains it
/// to the one before by hash.
public struct AuditEvent: Sendable, Hashable {
    /// Position in the log, from 1; 0 until stored.
    public var seq: Int64
    public var ts: Date
    public var tenant: String
    public var actor: String
    public var session: String?
    /// The policy tool (or the imported system's tool name).
    public var tool: String
    public var model: String?
    /// `create`, `update`, `delete`, `bulk_update`, or what an imported system says.
    public var operation: String?
    public var targets: [JSONValue]
    public var rowCount: Int
    /// Per row, the fields changed with before and after values.
    public var changes: [RowChange]
    public var reason: String?
    public var idempotencyKey: String?
    /// A `DecisionCode` raw value for our own events; any string for imported ones.
    public var decision: String
    public var approver: String?
    public var policyDigest: String?
    /// Where the write runs: `builtin` (the demo domain), `upstream:NAME` (an entry of
    /// `rollout/upstreams.yaml`) or `command:sha256:...` (an upstream started without an entry). Approvals
    /// and rollbacks of the event run there and nowhere else.
    public var backend: String?
    public var message: String?
    /// Links and evidence: `approval_id`, `rollback_of`, `would_be`, `args_digest`, `result`.
    public var details: [String: JSONValue]
    /// Fields of an imported record that are not ours, kept as they were.
    public var extra: [String: JSONValue]

    /// Whether `rollout audit import` brought the event in: the import sets `details.imported` (the
    /// file's name) on every record, whatever the record says, and the hash covers it. No guard wrote
    /// such an event, so no approval runs from it and no rollback restores what it claims.
    public var isImported: Bool { details["imported"] != nil }

    public init(
        seq: Int64 = 0, ts: Date, tenant: String, actor: String, session: String? = nil, tool: String,
        model: String? = nil, operation: String? = nil, targets: [JSONValue] = [], rowCount: Int = 0,
        changes: [RowChange] = [], reason: String? = nil, idempotencyKey: String? = nil, decision: String,
        approver: String? = nil, policyDigest: String? = nil, backend: String? = nil, message: String? = nil,
        details: [String: JSONValue] = [:], extra: [String: JSONValue] = [:]
    ) {
        self.seq = seq
        self.ts = ts
        self.tenant = tenant
        self.actor = actor
        self.session = session
        self.tool = tool
        self.model = model
        self.operation = operation
        self.targets = targets
        self.rowCount = rowCount
        self.changes = changes
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.decision = decision
        self.approver = approver
        self.policyDigest = policyDigest
        self.backend = backend
        self.message = message
        self.details = details
        self.extra = extra
    }

    public var category: DecisionCategory { DecisionCategory(decision: decision) }

    /// What the write did, hashed: tool, rows and the values after. Two events with the same key made the
    /// same change, whatever their idempotency keys. Nil for an event without target rows.
    public var effectKey: String? {
        guard !targets.isEmpty else { return nil }
        let after = changes.map { change in
            change.fields.compactMap { name, field in field.after.map { (name: name, value: $0) } }
                .sorted { JSONValue.canonicalKeyLess($0.name, $1.name) }
        }
        return Self.effectKey(tool: tool, targets: targets, after: after)
    }

    /// The first 16 hex digits of the SHA-256 of `{"after":[…],"targets":[…],"tool":…}` in canonical form
    /// (RFC 8785), written straight into bytes rather than built as a value and then written: an event's
    /// store row and an import's derived column both take it, once per event. `after` holds each changed
    /// row's after values, their names in canonical order (`JSONValue.canonicalKeyLess`).
    public static func effectKey(tool: String, targets: [JSONValue], after: [[(name: String, value: JSONValue)]]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"after":["#.utf8)
        for (row, fields) in after.enumerated() {
            if row > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            for (index, field) in fields.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.appendCanonical(string: field.name, to: &out)
                out.append(UInt8(ascii: ":"))
                field.value.appendCanonical(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"targets":"#.utf8)
        JSONValue.array(targets).appendCanonical(to: &out)
        out.append(contentsOf: #","tool":"#.utf8)
        JSONValue.appendCanonical(string: tool, to: &out)
        out.append(UInt8(ascii: "}"))
        return String(JSONValue.digest(canonicalBytes: out).prefix(16))
    }

    /// The names of the fields the write changed, sorted and comma-separated; nil when none.
    public var shape: String? {
        guard let first = changes.first, !first.fields.isEmpty else { return nil }
        return first.fields.keys.sorted().joined(separator: ",")
    }

    /// The interchange summary: the fields of the first changed row with before and after.
    public var fieldsChanged: [String: FieldChange] { changes.first?.fields ?? [:] }
}
