/// The controls on one write tool: what it may change, what every call must carry, how often it may
/// run, and when a person must approve.
public struct ToolPolicy: Sendable, Hashable, CustomReflectable {
    /// The tool's values in one shared box: a decision copies its tool several times (into its context, out
    /// of the resolver, into a plan), and a struct of two dozen references retained each of them every time
    /// (Benchmarks/README, "Copies of a decision's values"). Copies share the box until one of them changes.
    private var storage: CopyOnWrite<Fields>

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

    /// The policy's name for the tool (`orders.update`); stages, caps and reports use it.
    public var name: String {
        get { storage.value.name }
        _modify { yield &storage.value.name }
    }
    /// The tool's name on the wire (MCP `tools/call`), when it differs from `name`: several policy
    /// entries can describe one generic tool, told apart by the model argument.
    public var toolName: String {
        get { storage.value.toolName }
        _modify { yield &storage.value.toolName }
    }
    public var model: String {
        get { storage.value.model }
        _modify { yield &storage.value.model }
    }
    public var operation: WriteOperation {
        get { storage.value.operation }
        _modify { yield &storage.value.operation }
    }
    /// The fields a call may change; everything else is refused.
    public var writable: [String] {
        get { storage.value.writable }
        _modify { yield &storage.value.writable }
    }
    public var reason: ReasonRule {
        get { storage.value.reason }
        _modify { yield &storage.value.reason }
    }
    public var idempotencyRequired: Bool {
        get { storage.value.idempotencyRequired }
        _modify { yield &storage.value.idempotencyRequired }
    }
    /// Above this many rows a matching dry run must come first.
    public var dryRunAboveRows: Int? {
        get { storage.value.dryRunAboveRows }
        _modify { yield &storage.value.dryRunAboveRows }
    }
    /// More rows than this are refused outright.
    public var maxRows: Int? {
        get { storage.value.maxRows }
        _modify { yield &storage.value.maxRows }
    }
    public var approval: ApprovalRule? {
        get { storage.value.approval }
        _modify { yield &storage.value.approval }
    }
    /// Calls per window for (tenant, tool).
    public var cap: Cap? {
        get { storage.value.cap }
        _modify { yield &storage.value.cap }
    }
    /// Calls per window for (tenant, actor), across this tool.
    public var actorCap: Cap? {
        get { storage.value.actorCap }
        _modify { yield &storage.value.actorCap }
    }
    public var binding: Binding {
        get { storage.value.binding }
        _modify { yield &storage.value.binding }
    }
    /// Free text for people reading reports.
    public var description: String? {
        get { storage.value.description }
        _modify { yield &storage.value.description }
    }
    /// The line of the policy file where the tool's entry starts, for report annotations.
    public var sourceLine: Int? {
        get { storage.value.sourceLine }
        _modify { yield &storage.value.sourceLine }
    }
    /// Top-level arguments the tool takes beyond what `bind` names, each with its rule (`args:`).
    public var arguments: [FieldRule] {
        get { storage.value.arguments }
        _modify { yield &storage.value.arguments }
    }
    /// Arguments the guard reads and removes before forwarding (`guard_args:`): controls such as a reason
    /// or an idempotency key for an upstream whose tools do not take them.
    public var guardArguments: [String] {
        get { storage.value.guardArguments }
        _modify { yield &storage.value.guardArguments }
    }
    /// What happens to arguments neither `bind` nor `args` declare: refused, or removed and recorded.
    public var extraArguments: ExtraArguments {
        get { storage.value.extraArguments }
        _modify { yield &storage.value.extraArguments }
    }
    /// An argument that must equal the principal's subject, for tools that carry the user id.
    public var principalField: JSONPointer? {
        get { storage.value.principalField }
        _modify { yield &storage.value.principalField }
    }
    /// Reads of current state the guard makes before deciding, in order.
    public var lookups: [Lookup] {
        get { storage.value.lookups }
        _modify { yield &storage.value.lookups }
    }
    /// The lookup whose answer is the target row as it is now: its values are the write's before values.
    public var beforeLookup: String? {
        get { storage.value.beforeLookup }
        _modify { yield &storage.value.beforeLookup }
    }
    /// Named conditions, each refusing, queueing or asking for a dry run.
    public var rules: [ToolRule] {
        get { storage.value.rules }
        _modify { yield &storage.value.rules }
    }
    /// The policy tool that undoes this one, for rolling back a proxied write (`inverse:`).
    public var inverse: String? {
        get { storage.value.inverse }
        _modify { yield &storage.value.inverse }
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
        // The declared names gathered once, not the declared places walked again for every member.
        var names: [String] = []
        forEachDeclaredPointer { pointer in
            if pointer.tokens.count == 1 { names.append(pointer.tokens[0]) }
            return false
        }
        return members.keys.allSatisfy { name in names.contains { $0.hasSameBytes(as: name) } }
    }

    /// Calls `visit` with each of `declaredPointers`, in its order, until `visit` returns true (then
    /// returns false: the visit stopped); the one list of what a tool declares.
    @discardableResult
    func forEachDeclaredPointer(_ visit: (JSONPointer) -> Bool) -> Bool {
        let b = binding
        func stops(_ pointer: JSONPointer?) -> Bool { pointer.map(visit) ?? false }
        if stops(b.model) || stops(b.reason) || stops(b.idempotencyKey) || stops(b.dryRun) || stops(principalField) { return false }
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
        storage = CopyOnWrite(Fields(
            name: name, toolName: toolName ?? name, model: model, operation: operation, writable: writable, reason: reason,
            idempotencyRequired: idempotencyRequired, dryRunAboveRows: dryRunAboveRows, maxRows: maxRows, approval: approval,
            cap: cap, actorCap: actorCap, binding: binding, description: description))
    }

    public static func == (a: ToolPolicy, b: ToolPolicy) -> Bool {
        a.storage.sharesStorage(with: b.storage) || a.storage.value == b.storage.value
    }

    public func hash(into hasher: inout Hasher) {
        storage.value.hash(into: &hasher)
    }

    /// The values, as printing and `dump` showed them before they moved into a box (test failures read them).
    public var customMirror: Mirror { Mirror(reflecting: storage.value) }
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
