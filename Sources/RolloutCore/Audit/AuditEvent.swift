import Foundation

/// One decision in the audit log: who asked for what, why, what the guard decided, and the values
/// before and after. Refusals are events too. The store gives each a sequence number and chains it
/// to the one before by hash.
public struct AuditEvent: Sendable, Hashable, CustomReflectable {
    /// The event's values in one shared box, as `ToolPolicy` keeps its own: the guard copies an event from
    /// its plan into the log and into its answer, and each copy of twenty members retained every one of them.
    private var storage: CopyOnWrite<Fields>

    /// The stored values, shared between copies until one of them changes (`storage`).
    struct Fields: Hashable {
        var seq: Int64
        var ts: Date
        var tenant: String
        var actor: String
        var session: String?
        var tool: String
        var model: String?
        var operation: String?
        var targets: [JSONValue]
        var rowCount: Int
        var changes: [RowChange]
        var reason: String?
        var idempotencyKey: String?
        var decision: String
        var approver: String?
        var policyDigest: String?
        var backend: String?
        var message: String?
        var details: [String: JSONValue]
        var extra: [String: JSONValue]
    }

    /// Position in the log, from 1; 0 until stored.
    public var seq: Int64 {
        get { storage.value.seq }
        _modify { yield &storage.value.seq }
    }
    public var ts: Date {
        get { storage.value.ts }
        _modify { yield &storage.value.ts }
    }
    public var tenant: String {
        get { storage.value.tenant }
        _modify { yield &storage.value.tenant }
    }
    public var actor: String {
        get { storage.value.actor }
        _modify { yield &storage.value.actor }
    }
    public var session: String? {
        get { storage.value.session }
        _modify { yield &storage.value.session }
    }
    /// The policy tool (or the imported system's tool name).
    public var tool: String {
        get { storage.value.tool }
        _modify { yield &storage.value.tool }
    }
    public var model: String? {
        get { storage.value.model }
        _modify { yield &storage.value.model }
    }
    /// `create`, `update`, `delete`, `bulk_update`, or what an imported system says.
    public var operation: String? {
        get { storage.value.operation }
        _modify { yield &storage.value.operation }
    }
    public var targets: [JSONValue] {
        get { storage.value.targets }
        _modify { yield &storage.value.targets }
    }
    public var rowCount: Int {
        get { storage.value.rowCount }
        _modify { yield &storage.value.rowCount }
    }
    /// Per row, the fields changed with before and after values.
    public var changes: [RowChange] {
        get { storage.value.changes }
        _modify { yield &storage.value.changes }
    }
    public var reason: String? {
        get { storage.value.reason }
        _modify { yield &storage.value.reason }
    }
    public var idempotencyKey: String? {
        get { storage.value.idempotencyKey }
        _modify { yield &storage.value.idempotencyKey }
    }
    /// A `DecisionCode` raw value for our own events; any string for imported ones.
    public var decision: String {
        get { storage.value.decision }
        _modify { yield &storage.value.decision }
    }
    public var approver: String? {
        get { storage.value.approver }
        _modify { yield &storage.value.approver }
    }
    public var policyDigest: String? {
        get { storage.value.policyDigest }
        _modify { yield &storage.value.policyDigest }
    }
    /// Where the write runs: `builtin` (the demo domain), `upstream:NAME` (an entry of
    /// `rollout/upstreams.yaml`) or `command:sha256:...` (an upstream started without an entry). Approvals
    /// and rollbacks of the event run there and nowhere else.
    public var backend: String? {
        get { storage.value.backend }
        _modify { yield &storage.value.backend }
    }
    public var message: String? {
        get { storage.value.message }
        _modify { yield &storage.value.message }
    }
    /// Links and evidence: `approval_id`, `rollback_of`, `would_be`, `args_digest`, `result`.
    public var details: [String: JSONValue] {
        get { storage.value.details }
        _modify { yield &storage.value.details }
    }
    /// Fields of an imported record that are not ours, kept as they were.
    public var extra: [String: JSONValue] {
        get { storage.value.extra }
        _modify { yield &storage.value.extra }
    }

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
        storage = CopyOnWrite(Fields(
            seq: seq, ts: ts, tenant: tenant, actor: actor, session: session, tool: tool, model: model, operation: operation, targets: targets,
            rowCount: rowCount, changes: changes, reason: reason, idempotencyKey: idempotencyKey, decision: decision, approver: approver,
            policyDigest: policyDigest, backend: backend, message: message, details: details, extra: extra))
    }

    public static func == (a: AuditEvent, b: AuditEvent) -> Bool {
        a.storage.sharesStorage(with: b.storage) || a.storage.value == b.storage.value
    }

    public func hash(into hasher: inout Hasher) {
        storage.value.hash(into: &hasher)
    }

    /// The values, as printing and `dump` showed them before they moved into a box (test failures read them).
    public var customMirror: Mirror { Mirror(reflecting: storage.value) }

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
