/// The controls on one write tool: what it may change, what every call must carry, how often it may
/// run, and when a person must approve.
public struct ToolPolicy: Sendable, Hashable {
    /// The policy's name for the tool (`orders.update`); stages, caps and reports use it.
    public var name: String
    /// The tool's name on the wire (MCP `tools/call`), when it differs from `name`: several policy
    /// entries can describe one generic tool, told apart by the model argument.
    public var toolName: String
    public var model: String
    public var operation: WriteOperation
    /// The fields a call may change; everything else is refused.
    public var writable: [String]
    public var reason: ReasonRule
    public var idempotencyRequired: Bool
    /// Above this many rows a matching dry run must come first.
    public var dryRunAboveRows: Int?
    /// More rows than this are refused outright.
    public var maxRows: Int?
    public var approval: ApprovalRule?
    /// Calls per window for (tenant, tool).
    public var cap: Cap?
    /// Calls per window for (tenant, actor), across this tool.
    public var actorCap: Cap?
    public var binding: Binding
    /// Free text for people reading reports.
    public var description: String?
    /// The line of the policy file where the tool's entry starts, for report annotations.
    public var sourceLine: Int?

    public init(
        name: String, toolName: String? = nil, model: String, operation: WriteOperation, writable: [String],
        reason: ReasonRule = ReasonRule(), idempotencyRequired: Bool = true, dryRunAboveRows: Int? = nil,
        maxRows: Int? = nil, approval: ApprovalRule? = nil, cap: Cap? = nil, actorCap: Cap? = nil,
        binding: Binding = .conventional, description: String? = nil
    ) {
        self.name = name
        self.toolName = toolName ?? name
        self.model = model
        self.operation = operation
        self.writable = writable
        self.reason = reason
        self.idempotencyRequired = idempotencyRequired
        self.dryRunAboveRows = dryRunAboveRows
        self.maxRows = maxRows
        self.approval = approval
        self.cap = cap
        self.actorCap = actorCap
        self.binding = binding
        self.description = description
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
