/// The controls on one write tool: what it may change, what every call must carry, how often it may
/// run, and when a person must approve.
public struct ToolPolicy: Sendable, Hashable {
    /// The tool's values in one shared box: a decision copies its tool several times (into its context, out
    /// of the resolver, into a plan), and a struct of two dozen references retained each of them every time
    /// (Benchmarks/README, "Copies of a decision's values"). Copies share the box until one of them changes.
    private var storage: Storage

    final class Storage: @unchecked Sendable {  // written only through `makeUnique`, when no other copy holds it
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// The stored values, shared between copies until one of them changes (`storage`).
    struct Fields: Hashable {
        var name: String
        var toolName: String
        var model: String
        var operation: WriteOperation
        var writable: [String]
        var reason: ReasonRule
        var idempotencyRequired: Bool
        var dryRunAboveRows: Int?
        var maxRows: Int?
        var approval: ApprovalRule?
        var cap: Cap?
        var actorCap: Cap?
        var binding: Binding
        var description: String?
        var sourceLine: Int?
        var arguments: [FieldRule] = []
        var guardArguments: [String] = []
        var extraArguments: ExtraArguments = .refuse
        var principalField: JSONPointer?
        var lookups: [Lookup] = []
        var beforeLookup: String?
        var rules: [ToolRule] = []
        var inverse: String?
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
    }

    /// The policy's name for the tool (`orders.update`); stages, caps and reports use it.
    public var name: String {
        get { storage.fields.name }
        _modify { makeUnique(); yield &storage.fields.name }
    }
    /// The tool's name on the wire (MCP `tools/call`), when it differs from `name`: several policy
    /// entries can describe one generic tool, told apart by the model argument.
    public var toolName: String {
        get { storage.fields.toolName }
        _modify { makeUnique(); yield &storage.fields.toolName }
    }
    public var model: String {
        get { storage.fields.model }
        _modify { makeUnique(); yield &storage.fields.model }
    }
    public var operation: WriteOperation {
        get { storage.fields.operation }
        _modify { makeUnique(); yield &storage.fields.operation }
    }
    /// The fields a call may change; everything else is refused.
    public var writable: [String] {
        get { storage.fields.writable }
        _modify { makeUnique(); yield &storage.fields.writable }
    }
    public var reason: ReasonRule {
        get { storage.fields.reason }
        _modify { makeUnique(); yield &storage.fields.reason }
    }
    public var idempotencyRequired: Bool {
        get { storage.fields.idempotencyRequired }
        _modify { makeUnique(); yield &storage.fields.idempotencyRequired }
    }
    /// Above this many rows a matching dry run must come first.
    public var dryRunAboveRows: Int? {
        get { storage.fields.dryRunAboveRows }
        _modify { makeUnique(); yield &storage.fields.dryRunAboveRows }
    }
    /// More rows than this are refused outright.
    public var maxRows: Int? {
        get { storage.fields.maxRows }
        _modify { makeUnique(); yield &storage.fields.maxRows }
    }
    public var approval: ApprovalRule? {
        get { storage.fields.approval }
        _modify { makeUnique(); yield &storage.fields.approval }
    }
    /// Calls per window for (tenant, tool).
    public var cap: Cap? {
        get { storage.fields.cap }
        _modify { makeUnique(); yield &storage.fields.cap }
    }
    /// Calls per window for (tenant, actor), across this tool.
    public var actorCap: Cap? {
        get { storage.fields.actorCap }
        _modify { makeUnique(); yield &storage.fields.actorCap }
    }
    public var binding: Binding {
        get { storage.fields.binding }
        _modify { makeUnique(); yield &storage.fields.binding }
    }
    /// Free text for people reading reports.
    public var description: String? {
        get { storage.fields.description }
        _modify { makeUnique(); yield &storage.fields.description }
    }
    /// The line of the policy file where the tool's entry starts, for report annotations.
    public var sourceLine: Int? {
        get { storage.fields.sourceLine }
        _modify { makeUnique(); yield &storage.fields.sourceLine }
    }
    /// Top-level arguments the tool takes beyond what `bind` names, each with its rule (`args:`).
    public var arguments: [FieldRule] {
        get { storage.fields.arguments }
        _modify { makeUnique(); yield &storage.fields.arguments }
    }
    /// Arguments the guard reads and removes before forwarding (`guard_args:`): controls such as a reason
    /// or an idempotency key for an upstream whose tools do not take them.
    public var guardArguments: [String] {
        get { storage.fields.guardArguments }
        _modify { makeUnique(); yield &storage.fields.guardArguments }
    }
    /// What happens to arguments neither `bind` nor `args` declare: refused, or removed and recorded.
    public var extraArguments: ExtraArguments {
        get { storage.fields.extraArguments }
        _modify { makeUnique(); yield &storage.fields.extraArguments }
    }
    /// An argument that must equal the principal's subject, for tools that carry the user id.
    public var principalField: JSONPointer? {
        get { storage.fields.principalField }
        _modify { makeUnique(); yield &storage.fields.principalField }
    }
    /// Reads of current state the guard makes before deciding, in order.
    public var lookups: [Lookup] {
        get { storage.fields.lookups }
        _modify { makeUnique(); yield &storage.fields.lookups }
    }
    /// The lookup whose answer is the target row as it is now: its values are the write's before values.
    public var beforeLookup: String? {
        get { storage.fields.beforeLookup }
        _modify { makeUnique(); yield &storage.fields.beforeLookup }
    }
    /// Named conditions, each refusing, queueing or asking for a dry run.
    public var rules: [ToolRule] {
        get { storage.fields.rules }
        _modify { makeUnique(); yield &storage.fields.rules }
    }
    /// The policy tool that undoes this one, for rolling back a proxied write (`inverse:`).
    public var inverse: String? {
        get { storage.fields.inverse }
        _modify { makeUnique(); yield &storage.fields.inverse }
    }

    /// What to do with an argument a tool does not declare.
    public enum ExtraArguments: String, Sendable, Hashable, CaseIterable {
        /// `argument_unbound`: the call is refused.
        case refuse
        /// The argument is removed before forwarding, and the audit event names it.
        case drop
    }

    /// The rule of a declared argument.
    public func argument(_ name: String) -> FieldRule? {
        for i in arguments.indices where arguments[i].name == name { return arguments[i] }
        return nil
    }

    /// Every place in a call's arguments this tool declares: its binding, its `args`, its guard arguments
    /// and its principal field. Anything else is an unbound argument. Only the key its operation reads
    /// is declared (`target` for an update or a delete, `targets` for a bulk update, neither for a
    /// create): a key the binder never reads would reach the upstream with no row checked.
    public var declaredPointers: [JSONPointer] {
        var out: [JSONPointer] = []
        forEachDeclaredPointer { out.append($0); return false }
        return out
    }

    /// Whether every member of `members` is itself a declared place (a pointer of one token naming it,
    /// byte for byte): then no argument is unbound, and nothing needs walking (`RequestBinder`).
    public func declaresEveryMember(of members: [String: JSONValue]) -> Bool {
        members.keys.allSatisfy { name in
            !forEachDeclaredPointer { $0.tokens.count == 1 && $0.tokens[0].hasSameBytes(as: name) }
        }
    }

    /// Calls `visit` with each of `declaredPointers`, in its order, until `visit` returns true (then
    /// returns false: the visit stopped); the one list of what a tool declares.
    @discardableResult
    func forEachDeclaredPointer(_ visit: (JSONPointer) -> Bool) -> Bool {
        let b = binding
        for pointer in [b.model, b.reason, b.idempotencyKey, b.dryRun, principalField] {
            if let pointer, visit(pointer) { return false }
        }
        switch operation {
        case .update, .delete: if let target = b.target, visit(target) { return false }
        case .bulkUpdate: if let targets = b.targets, visit(targets) { return false }
        case .create: break
        }
        switch b.fields {
        case .object(let pointer): if visit(pointer) { return false }
        case .each(let map): for pointer in map.values where visit(pointer) { return false }
        }
        for argument in arguments where visit(JSONPointer(tokens: [argument.name])) { return false }
        for name in guardArguments where visit(JSONPointer(tokens: [name])) { return false }
        return true
    }

    /// The first of this tool's conditions (its approval's `when`, then its rules) that reads the
    /// target rows as they are now, and the variable it reads there, or nil when none does: `before`,
    /// or `after` beyond the fields `request` sets (a delete has no `after`), or a variable whose name
    /// is computed as the condition runs and may be one of those. A guard that cannot read the rows
    /// cannot judge such a condition.
    public func conditionReadingRows(_ request: WriteRequest) -> (condition: String, variable: String)? {
        var conditions: [(String, JsonLogicRule)] = approval.map { [("the approval condition", $0.when)] } ?? []
        conditions += rules.map { ("rule \($0.name)", $0.when) }
        for (name, when) in conditions {
            for root in when.runTimeVariableRoots where root == nil || root == "before" || root == "after" {
                return (name, root.map { "a variable under \($0) whose name it computes" } ?? "a variable whose name it computes (it may be the row's)")
            }
            for path in when.rootVariables {
                let parts = path.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
                switch parts.first {
                case "before"?:
                    return (name, path)
                case "after"? where request.operation != .delete:
                    if parts.count < 2 || request.fields[String(parts[1])] == nil { return (name, path) }
                default:
                    continue
                }
            }
        }
        return nil
    }

    public init(
        name: String, toolName: String? = nil, model: String, operation: WriteOperation, writable: [String],
        reason: ReasonRule = ReasonRule(), idempotencyRequired: Bool = true, dryRunAboveRows: Int? = nil,
        maxRows: Int? = nil, approval: ApprovalRule? = nil, cap: Cap? = nil, actorCap: Cap? = nil,
        binding: Binding = .conventional, description: String? = nil
    ) {
        storage = Storage(Fields(
            name: name, toolName: toolName ?? name, model: model, operation: operation, writable: writable, reason: reason,
            idempotencyRequired: idempotencyRequired, dryRunAboveRows: dryRunAboveRows, maxRows: maxRows, approval: approval,
            cap: cap, actorCap: actorCap, binding: binding, description: description))
    }

    public static func == (a: ToolPolicy, b: ToolPolicy) -> Bool {
        a.storage === b.storage || a.storage.fields == b.storage.fields
    }

    public func hash(into hasher: inout Hasher) {
        storage.fields.hash(into: &hasher)
    }
}

/// A rate limit: at most `max` calls per `per`.
public struct Cap: Sendable, Hashable, CustomStringConvertible {
    public var max: Int
    public var per: TimeSpan

    public init(max: Int, per: TimeSpan) {
        self.max = max
        self.per = per
    }

    public var description: String { "\(max) per \(per)" }
}

/// When a write waits for a person, and for how long the approval stays valid.
public struct ApprovalRule: Sendable, Hashable {
    /// JsonLogic over `{tool, tenant, actor, args, before, after, rows}`.
    public var when: JsonLogicRule
    public var expiresAfter: TimeSpan

    public init(when: JsonLogicRule, expiresAfter: TimeSpan = .hours(24)) {
        self.when = when
        self.expiresAfter = expiresAfter
    }
}
