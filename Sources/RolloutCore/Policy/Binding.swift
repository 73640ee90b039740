/// Where a tool's MCP arguments hold the parts of a canonical write request, as JSON pointers.
/// One format describes domain tools (`refund_order(order_id, amount)`) and generic ones such as
/// OrmAI's `db.update(model, id, data, reason)`.
public struct Binding: Sendable, Hashable {
    /// How the field values are found: one object of them, or one pointer per field.
    public enum Fields: Sendable, Hashable {
        case object(JSONPointer)
        case each([String: JSONPointer])
    }

    /// The model name, for generic tools that take it as an argument.
    public var model: JSONPointer?
    /// The key of the one row an update or delete targets.
    public var target: JSONPointer?
    /// The keys of the rows a bulk write targets.
    public var targets: JSONPointer?
    public var fields: Fields
    public var reason: JSONPointer?
    public var idempotencyKey: JSONPointer?
    public var dryRun: JSONPointer?

    public init(
        model: JSONPointer? = nil, target: JSONPointer? = nil, targets: JSONPointer? = nil,
        fields: Fields = .object(JSONPointer(tokens: ["data"])), reason: JSONPointer? = nil,
        idempotencyKey: JSONPointer? = nil, dryRun: JSONPointer? = nil
    ) {
        self.model = model
        self.target = target
        self.targets = targets
        self.fields = fields
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.dryRun = dryRun
    }

    /// Where field values are read from.
    public var fieldsPointers: [JSONPointer] {
        switch fields {
        case .object(let pointer): [pointer]
        case .each(let map): Array(map.values)
        }
    }

    /// The binding a tool gets when its policy entry names none: `/id`, `/ids`, `/data`, `/reason`,
    /// `/idempotency_key`, `/dry_run`.
    public static let conventional = Binding(
        target: JSONPointer(tokens: ["id"]), targets: JSONPointer(tokens: ["ids"]),
        fields: .object(JSONPointer(tokens: ["data"])), reason: JSONPointer(tokens: ["reason"]),
        idempotencyKey: JSONPointer(tokens: ["idempotency_key"]), dryRun: JSONPointer(tokens: ["dry_run"]))
}
