/// A named condition on a tool's calls (`rules:`): when its JsonLogic condition holds, the call is
/// refused, queued for a person, or asked for a dry run first, with the rule's message. Rules read the
/// one set of variables every condition sees: `{tool, tenant, actor, subject, args, before, after, rows,
/// lookup, now}`.
public struct ToolRule: Sendable, Hashable {
    /// What a rule that holds does to the call.
    public enum Decision: String, Sendable, Hashable, CaseIterable {
        /// Refused (`rule_refused`), nothing forwarded.
        case refuse
        /// Queued for a person (`pending_approval`).
        case approve
        /// Refused (`dry_run_required`) unless the same call ran as a dry run first.
        case dryRun = "dry_run"
    }

    public var name: String
    public var when: JsonLogicRule
    public var decision: Decision
    /// For the agent and the audit log: what the rule protects, in words.
    public var message: String
    /// Where the rule starts in the policy file.
    public var sourceLine: Int?

    public init(name: String, when: JsonLogicRule, decision: Decision = .refuse, message: String, sourceLine: Int? = nil) {
        self.name = name
        self.when = when
        self.decision = decision
        self.message = message
        self.sourceLine = sourceLine
    }
}
