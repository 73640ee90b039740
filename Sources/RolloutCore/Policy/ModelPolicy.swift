/// A table the agent may write: its key, the field that scopes rows to a tenant, and the rules of
/// each field.
public struct ModelPolicy: Sendable, Hashable, CustomReflectable {
    /// The model's values in one shared box, as `ToolPolicy` keeps its own: a decision copies its model
    /// into its context, plan and steps.
    private var storage: CopyOnWrite<Fields>

    /// The stored values, shared between copies until one of them changes (`storage`).
    struct Fields: Hashable {
        var name: String
        var table: String
        var key: String
        var tenantField: String?
        var fields: [FieldRule]
        var softDelete: String?
        var managed: [String] = []
    }

    public var name: String {
        get { storage.value.name }
        _modify { yield &storage.value.name }
    }
    public var table: String {
        get { storage.value.table }
        _modify { yield &storage.value.table }
    }
    /// The primary key column.
    public var key: String {
        get { storage.value.key }
        _modify { yield &storage.value.key }
    }
    /// The column holding the owning tenant: never writable, always scoped. Nil (`tenant_field: none`)
    /// for a single-tenant server, whose rows are scoped by subject instead.
    public var tenantField: String? {
        get { storage.value.tenantField }
        _modify { yield &storage.value.tenantField }
    }
    /// Field rules in the order the policy lists them.
    public var fields: [FieldRule] {
        get { storage.value.fields }
        _modify { yield &storage.value.fields }
    }
    /// The column a delete sets instead of removing the row (`soft_delete: deleted_at`), for servers that
    /// keep deleted rows: such a row counts as deleted, and a read that still shows it is a finding.
    public var softDelete: String? {
        get { storage.value.softDelete }
        _modify { yield &storage.value.softDelete }
    }
    /// Columns the upstream changes on its own at a write (`managed: [updated_at, version]`): seen
    /// through `--observe`, their change is not the write's. Any other column the policy does not describe
    /// that changes in a write's rows is a write that is not what was asked (`upstream_mismatch`).
    public var managed: [String] {
        get { storage.value.managed }
        _modify { yield &storage.value.managed }
    }

    public init(name: String, table: String, key: String, tenantField: String?, fields: [FieldRule]) {
        storage = CopyOnWrite(Fields(name: name, table: table, key: key, tenantField: tenantField, fields: fields))
    }

    public static func == (a: ModelPolicy, b: ModelPolicy) -> Bool {
        a.storage.sharesStorage(with: b.storage) || a.storage.value == b.storage.value
    }

    public func hash(into hasher: inout Hasher) {
        storage.value.hash(into: &hasher)
    }

    /// The values, as printing and `dump` showed them before they moved into a box (test failures read them).
    public var customMirror: Mirror { Mirror(reflecting: storage.value) }

    /// Whether `row` is gone for the agent: absent, or marked deleted.
    public func isDeleted(_ row: [String: JSONValue]?) -> Bool {
        guard let row else { return true }
        guard let softDelete, let mark = row[softDelete] else { return false }
        return !mark.isNull
    }

    /// The field named exactly `name`, byte for byte (never one only canonically equivalent to it).
    public func field(_ name: String) -> FieldRule? {
        // By index: `first(where:)` copies each rule it passes (a dozen members retained and released),
        // and the guard asks for a field by name for every column of every row it reads.
        for i in fields.indices where fields[i].name.hasSameBytes(as: name) { return fields[i] }
        return nil
    }

    /// Every field name the model knows, the key and tenant field included.
    public var allFieldNames: [String] {
        [key] + (tenantField.map { [$0] } ?? []) + fields.map(\.name).filter { $0 != key && $0 != tenantField }
    }
}
