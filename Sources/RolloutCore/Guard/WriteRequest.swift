/// A write in canonical form, read out of a tool call through the policy's binding: which rows of
/// which model, which field values, and the controls the call carries.
public struct WriteRequest: Sendable, Hashable {
    /// The policy entry, e.g. `orders.update`.
    public var tool: String
    public var model: String
    public var operation: WriteOperation
    /// Keys of the rows an update, delete or bulk update targets; empty for a create.
    public var targets: [JSONValue]
    /// The field values the call sets.
    public var fields: [String: JSONValue]
    public var reason: String?
    public var idempotencyKey: String?
    public var dryRun: Bool
    /// The call this came from.
    public var call: ToolCall

    public init(
        tool: String, model: String, operation: WriteOperation, targets: [JSONValue], fields: [String: JSONValue],
        reason: String?, idempotencyKey: String?, dryRun: Bool, call: ToolCall
    ) {
        self.tool = tool
        self.model = model
        self.operation = operation
        self.targets = targets
        self.fields = fields
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.dryRun = dryRun
        self.call = call
    }

    /// What the write does, without its controls: the digest a dry run and the later real call must
    /// share, and that an idempotency key is bound to.
    /// The canonical text of `{tool, model, operation, targets, fields}`, written member by member in
    /// RFC 8785's key order rather than built as an object and sorted: the guard takes it on every write.
    public var effectDigest: String {
        var out: [UInt8] = []
        out.reserveCapacity(192)
        appendEffect(to: &out)
        return "sha256:" + JSONValue.digest(canonicalBytes: out)
    }

    /// Appends the canonical text whose digest is `effectDigest`, for a digest that holds the effect
    /// among other parts (an idempotency key's binding).
    public func appendEffect(to out: inout [UInt8]) {
        func key(_ name: StaticString) { name.withUTF8Buffer { out.append(contentsOf: $0) } }
        key(#"{"fields":"#)
        JSONValue.object(fields).appendCanonical(to: &out)
        key(#","model":"#)
        JSONValue.appendCanonical(string: model, to: &out)
        key(#","operation":"#)
        JSONValue.appendCanonical(string: operation.rawValue, to: &out)
        key(#","targets":"#)
        JSONValue.array(targets).appendCanonical(to: &out)
        key(#","tool":"#)
        JSONValue.appendCanonical(string: tool, to: &out)
        out.append(0x7D)
    }

    /// How many rows the write touches.
    public var rowCount: Int { operation == .create ? 1 : targets.count }
}
