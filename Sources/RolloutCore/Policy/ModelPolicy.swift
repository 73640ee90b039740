/// A table the agent may write: its key, the field that scopes rows to a tenant, and the rules of
/// each field.
public struct ModelPolicy: Sendable, Hashable {
    public var name: String
    public var table: String
    /// The primary key column.
    public var key: String
    /// The column holding the owning tenant: never writable, always scoped.
    public var tenantField: String
    /// Field rules in the order the policy lists them.
    public var fields: [FieldRule]

    public init(name: String, table: String, key: String, tenantField: String, fields: [FieldRule]) {
        self.name = name
        self.table = table
        self.key = key
        self.tenantField = tenantField
        self.fields = fields
    }

    public func field(_ name: String) -> FieldRule? {
        fields.first { $0.name == name }
    }

    /// Every field name the model knows, the key and tenant field included.
    public var allFieldNames: [String] {
        [key, tenantField] + fields.map(\.name).filter { $0 != key && $0 != tenantField }
    }
}
