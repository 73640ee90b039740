import Foundation
import RolloutCore

/// Everything the steps of one decision read and establish, in pipeline order: the call and who makes
/// it, then the bound request, the rows and lookups, and finally the plan.
public struct DecisionContext {
    /// What a decision starts from and never changes, held once: a decision's context is copied a few
    /// times (into its transaction's body, which may run again), and each copy retained every reference
    /// of the policy, call, principal and scope (Benchmarks/README, "Copies of a decision's values").
    final class Inputs {
        let policy: Policy
        let call: ToolCall
        let tool: ToolPolicy
        let model: ModelPolicy
        let principal: Principal
        let stages: any StageSource
        let options: GuardOptions
        let decisionScope: DecisionScope

        init(policy: Policy, call: ToolCall, tool: ToolPolicy, model: ModelPolicy, principal: Principal, stages: any StageSource,
             options: GuardOptions, decisionScope: DecisionScope) {
            self.policy = policy
            self.call = call
            self.tool = tool
            self.model = model
            self.principal = principal
            self.stages = stages
            self.options = options
            self.decisionScope = decisionScope
        }
    }

    let inputs: Inputs
    public var policy: Policy { inputs.policy }
    public var call: ToolCall { inputs.call }
    public var tool: ToolPolicy { inputs.tool }
    public var model: ModelPolicy { inputs.model }
    public var principal: Principal { inputs.principal }
    public internal(set) var now: Date
    public var mode: EvaluationMode
    var stages: any StageSource { inputs.stages }
    var options: GuardOptions { inputs.options }
    /// The guard's backend and redactor: what a dry run's binding holds (`DryRunBinding`), and where a
    /// key's write must have been made for the key to answer.
    var decisionScope: DecisionScope { inputs.decisionScope }
    /// Set by the stage step: validate and record, execute nothing.
    public var shadow = false
    /// The call as it goes to the upstream: without guard arguments and dropped extras.
    public var forwardCall: ToolCall
    /// Arguments removed under `extra_args: drop`, as JSON pointers.
    public var droppedArguments: [String] = []
    /// Set by the binding step.
    public var request: WriteRequest? {
        didSet { marks = nil }
    }
    /// The call's digests under the store's key, made before the decision's transaction (`Guard.markCall`);
    /// nil until then, and again once the request changes.
    var marks: CallMarks?
    /// Current values of the target rows, aligned with the targets.
    public var rows: [[String: JSONValue]] = []
    /// Whether `rows` are real (observed, read from a lookup, or the built-in domain's).
    public var observed = false
    /// Set when the call was refused because its rows could not be read: a refusal about how this
    /// guard runs (no --observe), not about the write, so an approval it was running stays pending.
    public var rowsUnreadable = false
    /// What the lookups read, by name.
    public var lookups: [String: JSONValue] = [:]
    /// The session of the transaction the stateful steps run in.
    var session: (any GuardSession)?
    /// Rows read from the upstream's database (`--observe`), outside the built-in domain.
    var observer: (any RowReader)?
    /// The rule that asks for a person, when a named one does.
    public var approvalRule: ToolRule?
    /// What the approver of an approved write was shown (`mode == .approved`): the write runs only as shown.
    var approvedView: ApprovedView?

    init(policy: Policy, call: ToolCall, tool: ToolPolicy, model: ModelPolicy, principal: Principal, now: Date, mode: EvaluationMode,
         stages: any StageSource, options: GuardOptions, decisionScope: DecisionScope) {
        inputs = Inputs(policy: policy, call: call, tool: tool, model: model, principal: principal, stages: stages, options: options,
                        decisionScope: decisionScope)
        self.now = now
        self.mode = mode
        var forwarded = call
        for name in tool.guardArguments { forwarded.arguments = JSONPointer(tokens: [name]).removing(from: forwarded.arguments) }
        forwardCall = forwarded
    }

    /// The plan the steps have built so far.
    public var plan: WritePlan? {
        guard let request else { return nil }
        return WritePlan(request: request, model: model, rows: rows,
                         changes: Self.changes(request, model: model, rows: rows, observed: observed), observed: observed, lookups: lookups)
    }

    /// `{tool, tenant, actor, subject, args, before, after, rows, lookup, now}`: what every condition reads,
    /// with the first row the write touches as `before` (and `after`). Conditions that decide a write
    /// read `conditionDataByRow`.
    public var conditionData: JSONValue { conditionDataByRow[0] }

    /// `conditionData` once for each row the write touches, in target order, each with that row as
    /// `before` and its values after the write as `after` (one, with `before` null, when the write touches
    /// no row read): a rule over current state holds for a bulk write when it holds for any of its rows.
    public var conditionDataByRow: [JSONValue] { conditionDataByRow(reading: nil) }

    /// `conditionDataByRow` with only the members in `roots` (every member when nil): what conditions
    /// that read no more (`JsonLogicRule.dataRoots`) need. Most read one or two; building every member
    /// for every condition made `holdsForAnyRow` 4.2% of an in-memory guard run's perf samples (2.7% now).
    func conditionDataByRow(reading roots: Set<String>?) -> [JSONValue] {
        let request = self.request
        var data: [String: JSONValue] = [:]
        var readsBefore = false, readsAfter = false
        // The members read, in a pass over the rule's few roots (not a look-up of every member in them).
        for name in roots ?? Self.conditionMembers {
            switch name {
            case "tool": data[name] = .string(tool.name)
            case "tenant": data[name] = .string(principal.tenant)
            case "actor": data[name] = .string(principal.actor)
            case "subject": data[name] = principal.subject.map(JSONValue.string) ?? .null
            case "args": data[name] = call.arguments
            case "rows": data[name] = .number(Double(request?.rowCount ?? 0))
            case "lookup": data[name] = .object(lookups)
            case "now": data[name] = .number((now.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
            case "before": readsBefore = true
            case "after": readsAfter = true
            default: break
            }
        }
        let read: [[String: JSONValue]?] = rows.isEmpty ? [nil] : rows.map { $0 }
        return read.map { row in
            if readsBefore { data["before"] = row.map { .object($0) } ?? .null }
            if readsAfter {
                var after = row ?? [:]
                for (name, value) in request?.fields ?? [:] { after[name] = value }
                data["after"] = request?.operation == .delete ? .null : .object(after)
            }
            return .object(data)
        }
    }

    /// The members of a condition's data.
    static let conditionMembers: Set<String> = ["tool", "tenant", "actor", "subject", "args", "rows", "lookup", "now", "before", "after"]

    /// Whether `condition` holds for any row the write touches (`conditionDataByRow`).
    public func holdsForAnyRow(_ condition: JsonLogicRule) -> Bool {
        conditionDataByRow(reading: condition.dataRoots).contains { condition.isTruthy($0) }
    }

    /// Before and after of every field the write sets. A delete records the whole row as before, so
    /// that a rollback can put it back.
    static func changes(_ request: WriteRequest, model: ModelPolicy, rows: [[String: JSONValue]], observed: Bool) -> [RowChange] {
        switch request.operation {
        case .create:
            return [RowChange(key: .null, fields: request.fields.mapValues { FieldChange(before: .null, after: $0) })]
        case .delete:
            return zip(request.targets, rows).map { key, row in
                RowChange(key: key, fields: row.filter { $0.key != model.key }.mapValues { FieldChange(before: $0, after: .null) })
            }
        case .update, .bulkUpdate:
            return zip(request.targets, rows).map { key, row in
                var fields: [String: FieldChange] = [:]
                for (name, value) in request.fields { fields[name] = FieldChange(before: row[name] ?? (observed ? .null : nil), after: value) }
                return RowChange(key: key, fields: fields)
            }
        }
    }
}

/// The keyed digests a decision's event and key ledger record, made on the caller's thread before the
/// decision's transaction: under load that transaction runs on the group-commit worker, which bounds the
/// guard (Benchmarks/README, "The worker's share").
struct CallMarks {
    /// The event's `args_digest` (`Guard.argumentsMark`).
    var arguments: String
    /// The idempotency key's binding (`IdempotencyBinding.of`) and the request it was made for, when the
    /// request carries a key.
    var bound: (request: WriteRequest, binding: String)?

    /// The binding made for `request`, or nil when none was, or it was made for another request (a step
    /// that planned a write other than the context's request): the caller then makes it afresh. Checked in
    /// every build: a binding of other arguments would answer a retry of this call with another's result.
    func binding(for request: WriteRequest) -> String? {
        guard let bound, Self.sameBytes(bound.request, request) else { return nil }
        return bound.binding
    }

    /// Whether two requests are the same down to their texts' bytes, as the binding's digest reads them:
    /// Swift's `==` calls canonically equivalent spellings equal (`K` and the Kelvin sign).
    static func sameBytes(_ a: WriteRequest, _ b: WriteRequest) -> Bool {
        func same(_ x: String?, _ y: String?) -> Bool { x.map { y?.hasSameBytes(as: $0) ?? false } ?? (y == nil) }
        return a == b && a.tool.hasSameBytes(as: b.tool) && a.model.hasSameBytes(as: b.model)
            && JSONValue.array(a.targets).isIdentical(to: .array(b.targets)) && JSONValue.object(a.fields).isIdentical(to: .object(b.fields))
            && same(a.reason, b.reason) && same(a.idempotencyKey, b.idempotencyKey)
            && a.call.tool.hasSameBytes(as: b.call.tool) && a.call.arguments.isIdentical(to: b.call.arguments)
    }
}
