import RolloutCore

/// What a dry run clears: the same write (`WriteRequest.effectDigest`), with the same arguments apart
/// from its reason, idempotency key and dry-run flag, from the same actor and subject, through the same
/// upstream (`DecisionScope`), changing the rows as the dry run showed them. Cleared by the effect alone,
/// a dry run shown with one value of a declared argument the effect does not cover (a `cascade` or
/// `notify` flag of `args:`) let the call with another value run as if it had been shown; a dry run one
/// actor asked for cleared another's write; one shown on a staging upstream cleared the write on
/// production; and one shown `pending → cancelled` cleared the write once the row was `shipped`, or a
/// second time. It is not used up: a write whose shown changes do not depend on the rows (a create) is
/// cleared by one dry run for as long as it is valid. The reason and the key may differ: a dry run is
/// asked without a key, and its real call says why in its own words.
/// The digest is keyed (`Redactor.keyedDigest`): the arguments and rows it covers hold secret values.
enum DryRunBinding {
    /// Marks a binding. A dry run recorded before it (the effect digest alone, or `dry1:`, 2026-12-02)
    /// clears nothing: it is asked again (it stays valid an hour at most).
    static let prefix = "dry2:"
    /// The member of a `dry_run` event's details that holds its binding (the chained record the
    /// unchained `dry_runs` table must agree with).
    static let detail = "dry_run_binding"

    /// The binding of `plan`'s write, as `scope`'s guard shows it (its changes with secret values marked,
    /// as the dry run's event records them).
    static func of(_ plan: WritePlan, tool: ToolPolicy, principal: Principal, scope: DecisionScope) -> String {
        let binding = tool.binding
        let omitted = [binding.reason, binding.idempotencyKey, binding.dryRun].compactMap { $0 }
        let shown = JSONValue.array(plan.changes.map { scope.redactor.redact($0).resultJSON })
        let text = IdempotencyBinding.canonicalText(plan.request, tool: tool, actor: principal.actor, subject: principal.subject,
                                                    leavingOut: omitted, backend: scope.backend, placement: scope.placement, shown: shown)
        return prefix + scope.redactor.keyedDigest(text)
    }
}

