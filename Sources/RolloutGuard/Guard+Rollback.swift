import Foundation
import RolloutCore
import RolloutStore

extension Guard {
    /// Undoes one executed write from its audit event's before and after values, itself audited
    /// (`rolled_back`, linked by `rollback_of`), through the backend the write ran on and nothing else:
    /// the built-in rows in one transaction, or an upstream through the tool the policy names as the
    /// write's `inverse:`. Refused, and audited as `rollback_refused` with the reason, when the rows
    /// changed since (or their current state cannot be read), a value was redacted and not kept, the
    /// write ran on another backend, or it was already rolled back.
    public func rollback(_ seq: Int64, by actor: String, reason: String) async throws -> Decision {
        let now = clock.now()
        if let halted = halt.reason { throw GuardError.halted(halted) }
        // The log after the write is checked before the transaction that decides, which then walks only
        // what was appended since: a write of last month is not checked holding the write lock.
        let known = try environment.checkedEvents(after: seq) { event in
            event.model.map { .writes(tenant: event.tenant, model: $0, decisions: Self.laterEvents) }
        }
        let checked: RollbackCheck = try environment.transaction { session in
            let original: AuditEvent
            do {
                guard let event = try session.ledger.event(seq: seq) else { throw GuardError.noSuchEvent(seq) }
                original = event
            } catch StoreError.unreadableEvent(_, let tenant, let tool, let detail) {
                // What it wrote cannot be told, nor where: refused, recorded under the row's own columns, on
                // no backend (none ran).
                let message = "event \(seq) cannot be read (\(detail)): the audit log was edited (run rollout audit verify), so what it wrote cannot be told; it will not be rolled back"
                let event = AuditEvent(ts: now, tenant: Self.recordedName(tenant ?? ""), actor: actor, tool: Self.recordedName(tool ?? ""), reason: reason,
                                       decision: DecisionCode.rollbackRefused.rawValue, policyDigest: policyDigest,
                                       message: message, details: ["rollback_of": .number(Double(seq))])
                let stored = try session.ledger.append(event)
                return .refused(Decision(code: .rollbackRefused, message: message, auditSeq: stored.seq, result: refusalResult(.rollbackRefused, message)))
            }
            func refused(_ message: String) throws -> RollbackCheck {
                .refused(try recordRollbackRefusal(original, by: actor, reason: reason, message: message, session: session, now: now))
            }
            if let problem = ReasonRule().problem(with: reason) { return try refused("a rollback needs a real reason: \(problem)") }
            guard original.decision == DecisionCode.executed.rawValue else {
                return try refused("event \(seq) is \(original.decision); only executed writes can be rolled back")
            }
            if let by = try session.ledger.rollback(of: seq) { return try refused(Self.alreadyRolledBack(seq, by: by)) }
            // Only a write a guard ran and recorded: an imported line says what it likes about before values.
            if original.isImported {
                return try refused("event \(seq) was imported (\(original.details["imported"]?.stringValue ?? "a file")), not written by a guard: a rollback undoes only a write a guard ran; undo it in the system it came from")
            }
            guard let written = original.backend else {
                return try refused("event \(seq) names no backend, so where it was written cannot be told: undo it by hand")
            }
            guard written.hasSameBytes(as: backend) else {
                return try refused("event \(seq) was written through \(written), and this guard runs \(backend): a rollback runs where the write ran")
            }
            guard let modelName = original.model, let model = policy.model(named: modelName) else {
                return try refused("event \(seq) wrote model \(original.model ?? "?"), which the policy does not define")
            }
            guard let operation = original.operation.flatMap(WriteOperation.init(rawValue:)) else {
                return try refused("event \(seq) has no operation that can be inverted")
            }
            guard !original.changes.isEmpty else { return try refused("event \(seq) recorded no changes to invert") }
            guard let tool = policy.tool(named: original.tool), tool.model == modelName else {
                return try refused("event \(seq) names tool \(original.tool), which the policy does not define for model \(modelName)")
            }
            // A later write to one of its rows would be undone without a word if the values happen to match
            // again (a, then b, then a): each later write is rolled back first, newest first. A later write
            // that was rolled back and its rollback cancel out. One that may have happened (in doubt) stands.
            // Only a rollback a guard ran cancels a write out: an imported line saying so does not (an
            // imported write still stands in the way).
            let keys = Set(original.changes.map(\.key))
            // Read from a log shown intact from the write to its head: an edited column hides no later write.
            let checked = try session.ledger.checkedEvents(after: seq, .writes(tenant: original.tenant, model: modelName, decisions: Self.laterEvents),
                                                           resuming: known)
            if let problem = checked.problem {
                return try refused("the audit log after event \(seq) does not hold (\(problem); run rollout audit verify), so whether its rows were written again cannot be told")
            }
            let later = checked.events
            // A write is rolled back once, by the chain's word as well as the table's: the rollbacks table is not
            // chained, and a row deleted from it let a second rollback overwrite what was written since (helper-81).
            // A rollback counts once done, or once its inverse was handed to the upstream (an intent), whatever
            // the upstream answered (a refusal can follow a commit; helper-82), unless it never reached it.
            let mine = later.filter { !$0.isImported && $0.details["rollback_of"]?.doubleValue == Double(seq) }
            let neverSent = Set(mine.filter { $0.decision == DecisionCode.backendError.rawValue }.compactMap { $0.details["intent_seq"]?.doubleValue }.map(Int64.init))
            if let done = mine.first(where: { $0.decision == DecisionCode.rolledBack.rawValue || ($0.decision == DecisionCode.intent.rawValue && !neverSent.contains($0.seq)) }) {
                return try refused(Self.alreadyRolledBack(seq, by: done.seq))
            }
            func rollbackOf(_ event: AuditEvent) -> Int64? {
                guard event.decision == DecisionCode.rolledBack.rawValue, !event.isImported, let of = event.details["rollback_of"]?.doubleValue else { return nil }
                return Int64(of)
            }
            let undone = Set(later.compactMap(rollbackOf))
            // A write handed to the upstream is settled by its outcome, which names its intent (a guard's
            // own: an imported line settles nothing).
            let settled = Set(later.filter { !$0.isImported }.compactMap { $0.details["intent_seq"]?.doubleValue }.map(Int64.init))
            for event in later where !undone.contains(event.seq) {
                if event.decision == DecisionCode.intent.rawValue {
                    // Unsettled, it may still land after this rollback, on values the rollback restored.
                    if !settled.contains(event.seq),
                       let row = event.changes.map(\.key).first(where: keys.contains) ?? event.targets.first(where: keys.contains) {
                        return try refused("\(modelName) \(row.canonicalText) is being written: event \(event.seq) handed a write of it to the upstream, and its outcome is not recorded. Try again once it is; if it never is (its guard stopped), check the upstream and undo both by hand")
                    }
                    continue
                }
                guard Self.laterWrites.contains(event.decision) else { continue }
                if let of = rollbackOf(event), of >= seq { continue }
                // An upstream error counts only when the write may have happened (it crashed after the call left).
                if event.decision == DecisionCode.backendError.rawValue, event.details["in_doubt"] != .bool(true) { continue }
                if let row = event.changes.map(\.key).first(where: keys.contains) ?? event.targets.first(where: keys.contains) {
                    // Only an executed write can be rolled back; one in doubt or mismatched is checked in the upstream.
                    let next = event.decision == DecisionCode.executed.rawValue
                        ? "Roll that write back first, or undo this one by hand"
                        : "It is \(event.decision), which no rollback undoes: check the upstream and undo both by hand"
                    return try refused("\(modelName) \(row.canonicalText) changed since: event \(event.seq) wrote it again. \(next)")
                }
            }
            if session.rows != nil {
                return .done(try rollbackRows(original, model: model, operation: operation, tool: tool, by: actor, reason: reason, session: session, now: now))
            }
            guard let inverseName = tool.inverse, let inverse = policy.tool(named: inverseName) else {
                return try refused("\(original.tool) names no inverse: tool in the policy, so its write cannot be undone through the upstream; undo it in the upstream itself")
            }
            if let mismatch = placementMismatch(original.details["placement"]) {
                return try refused("a rollback runs where the write ran, and event \(seq) was written where this guard's upstream may not write: \(mismatch)")
            }
            let stash = try session.ledger.stashedSecrets(seq: seq)
            return .upstream(original, model, operation, tool, inverse, stash)
        }
        switch checked {
        case .done(let decision), .refused(let decision):
            return decision
        case .upstream(let original, let model, let operation, let tool, let inverse, let stash):
            return try await rollbackUpstream(original, model: model, operation: operation, tool: tool, inverse: inverse, stash: stash,
                                              by: actor, reason: reason, now: now)
        }
    }

    /// The decisions of events that may have written a row again after a write: what stands in the way
    /// of its rollback.
    static let laterWrites = [DecisionCode.executed, .rolledBack, .upstreamMismatch, .inDoubt, .backendError].map(\.rawValue) + ["allowed"]

    /// What a rollback reads after its write: the later writes, and the intents of writes handed to an
    /// upstream with the refusals that may settle them (a write still in flight stands in the way too).
    static let laterEvents = laterWrites + [DecisionCode.intent, .upstreamRefused, .rollbackRefused].map(\.rawValue)

    enum RollbackCheck {
        case done(Decision)
        case refused(Decision)
        case upstream(AuditEvent, ModelPolicy, WriteOperation, ToolPolicy, ToolPolicy, JSONValue?)
    }

    /// Why event `seq` cannot be rolled back again: a rollback of it was recorded (done, refused by the
    /// upstream, or in doubt), or is running.
    static func alreadyRolledBack(_ seq: Int64, by: Int64) -> String {
        "event \(seq) already has a rollback (event \(by)): a write is rolled back once. If that rollback was refused or is in doubt, check the upstream and undo the write there"
    }

    /// The inverse of each logged change, once every row was checked against its current values; or why not.
    /// The event's own word is not trusted for what a rollback may touch: each row must belong to the
    /// event's tenant, and only fields its tool may write are restored (never the key or the tenant field),
    /// so an event that was imported or edited cannot make a rollback write another tenant's row or a
    /// field no agent may change.
    func inverseChanges(
        _ original: AuditEvent, model: ModelPolicy, operation: WriteOperation, tool: ToolPolicy, stash: JSONValue?,
        current: (JSONValue) throws -> [String: JSONValue]?
    ) throws -> Result<[RowChange], RollbackRefusal> {
        var inverse: [RowChange] = []
        for logged in original.changes {
            var change = logged
            let now = try current(change.key)
            let row = "\(model.name) \(change.key.canonicalText)"
            if let tenantField = model.tenantField {
                if let now, !(now[tenantField] ?? .null).isIdentical(to: .string(original.tenant)) {
                    return .failure(RollbackRefusal("\(row) belongs to tenant \(now[tenantField]?.canonicalText ?? "null"), not \(original.tenant): a rollback never touches another tenant's row"))
                }
                if operation == .delete, let was = change.fields[tenantField]?.before, !was.isIdentical(to: .string(original.tenant)) {
                    return .failure(RollbackRefusal("\(row) was logged as tenant \(was.canonicalText)'s row, not \(original.tenant)'s: a rollback never writes another tenant's row"))
                }
            }
            if operation == .update || operation == .bulkUpdate {
                let foreign = change.fields.keys.filter { !tool.writable.contains($0) || $0 == model.key || $0 == model.tenantField }.sorted()
                if !foreign.isEmpty {
                    return .failure(RollbackRefusal("\(row): the event changes \(foreign.joined(separator: ", ")), which \(tool.name) may not write, so a rollback will not restore it"))
                }
            }
            if operation == .delete {
                let unknown = change.fields.keys.filter { $0 != model.key && $0 != model.tenantField && model.field($0) == nil }.sorted()
                if !unknown.isEmpty {
                    return .failure(RollbackRefusal("\(row): the event holds \(unknown.joined(separator: ", ")), which model \(model.name) does not define"))
                }
            }
            for (name, field) in change.fields {
                if let before = field.before, Redactor.isRedacted(before) {
                    guard let clear = stash?[change.key.canonicalText]?[name], redactor.matches(clear, before) else {
                        return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText): \(name) was redacted in the log and its value was not kept, so it cannot be restored"))
                    }
                    change.fields[name]?.before = clear
                }
                if let after = field.after, Redactor.isRedacted(after), let value = now?[name], redactor.matches(value, after) {
                    change.fields[name]?.after = value
                }
                if field.before == nil {
                    return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText): the value of \(name) before the write is unknown"))
                }
                if let before = change.fields[name]?.before, Redactor.holdsRedacted(before) {
                    return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText): a value inside \(name) was redacted in the log, so it cannot be restored"))
                }
                // What a rollback writes back is a write like any other: it must be a value the model
                // allows (an imported event's before values are only what its record says).
                if operation != .create, let before = change.fields[name]?.before, let rule = model.field(name), let problem = rule.violation(before) {
                    return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText): the value it would restore breaks the model's rules (\(problem))"))
                }
            }
            switch operation {
            case .create:
                guard let now else { return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText) no longer exists")) }
                if let name = changedSince(change, now) {
                    return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText) changed since: \(name) is now \(redactor.shown(name, now[name]))"))
                }
                inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: $0.after, after: .null) }))
            case .update, .bulkUpdate:
                guard let now else { return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText) no longer exists")) }
                if let name = changedSince(change, now) {
                    return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText) changed since: \(name) is now \(redactor.shown(name, now[name])), the write set \(redactor.shown(name, change.fields[name]?.after ?? nil))"))
                }
                inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: $0.after, after: $0.before) }))
            case .delete:
                if now != nil { return .failure(RollbackRefusal("\(model.name) \(change.key.canonicalText) exists again, so the delete cannot be undone")) }
                inverse.append(RowChange(key: change.key, fields: change.fields.mapValues { FieldChange(before: .null, after: $0.before) }))
            }
        }
        return .success(inverse)
    }

    struct RollbackRefusal: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// What a rollback did to the rows, in words: a create's rows removed, an update's restored, a delete's put back.
    static func undone(_ operation: WriteOperation, rows count: Int) -> String {
        let rows = "\(count) row\(count == 1 ? "" : "s")"
        return switch operation {
        case .create: "\(rows) it created removed"
        case .update, .bulkUpdate: "\(rows) restored"
        case .delete: "\(rows) it deleted put back"
        }
    }

    /// The built-in rows: check, invert and record in one transaction.
    func rollbackRows(_ original: AuditEvent, model: ModelPolicy, operation: WriteOperation, tool: ToolPolicy, by actor: String, reason: String,
                      session: any GuardSession, now: Date) throws -> Decision {
        guard let rows = session.rows else { fatalError("rollbackRows needs the built-in rows") }
        let stash = try session.ledger.stashedSecrets(seq: original.seq)
        let checked = try inverseChanges(original, model: model, operation: operation, tool: tool, stash: stash) { key in
            try rows.rows(model: model, keys: [key]).first ?? nil
        }
        let inverse: [RowChange]
        switch checked {
        case .failure(let refusal): return try recordRollbackRefusal(original, by: actor, reason: reason, message: refusal.message, session: session, now: now)
        case .success(let changes): inverse = changes
        }
        for change in inverse {
            switch operation {
            case .create: try rows.delete(model: model, key: change.key)
            case .update, .bulkUpdate: try rows.update(model: model, key: change.key, values: change.fields.compactMapValues(\.after))
            case .delete:
                var values = change.fields.compactMapValues(\.after)
                values[model.key] = change.key
                _ = try rows.insert(model: model, values: values)
            }
        }
        var event = rollbackEvent(original, actor: actor, now: now, reason: reason)
        event.decision = DecisionCode.rolledBack.rawValue
        event.changes = inverse.map(redactor.redact)
        event.message = "rolled back event \(original.seq): \(Self.undone(operation, rows: inverse.count))"
        let stored = try session.ledger.append(event)
        try session.ledger.recordRollback(of: original.seq, by: stored.seq)
        let result: JSONValue = ["ok": true, "decision": "rolled_back", "audit_id": .number(Double(stored.seq)), "rollback_of": .number(Double(original.seq))]
        return Decision(code: .rolledBack, message: event.message!, auditSeq: stored.seq, changes: inverse, result: result)
    }

    /// A proxied write: read the rows as they are now (the observed database, or the tool's before
    /// lookup), build the inverse call through the `inverse:` tool's binding, and forward it in two phases.
    func rollbackUpstream(
        _ original: AuditEvent, model: ModelPolicy, operation: WriteOperation, tool: ToolPolicy, inverse: ToolPolicy, stash: JSONValue?,
        by actor: String, reason: String, now: Date
    ) async throws -> Decision {
        guard let upstream else { fatalError("rollbackUpstream needs an upstream") }
        func refuse(_ message: String) throws -> Decision {
            try environment.transaction { session in try recordRollbackRefusal(original, by: actor, reason: reason, message: message, session: session, now: now) }
        }
        // The current rows: without them a rollback could overwrite a change made since.
        var current: [JSONValue: [String: JSONValue]] = [:]
        for change in original.changes where !change.key.isNull {
            if let observer = upstream.observer {
                do {
                    current[change.key] = try observer.rows(model: model, keys: [change.key]).first ?? nil
                } catch {
                    return try refuse("\(model.name) \(change.key.canonicalText) cannot be read from the observed database (\(error)), so a rollback could overwrite a later change")
                }
            } else if let name = tool.beforeLookup, let lookup = tool.lookups.first(where: { $0.name == name }), let target = tool.binding.target {
                var call = ToolCall(tool: tool.toolName, arguments: target.setting(change.key, in: .object([:])))
                if let pointer = tool.binding.model { call.arguments = pointer.setting(.string(model.name), in: call.arguments) }
                let principal = Principal(tenant: original.tenant, actor: original.actor, subject: original.details["subject"]?.stringValue)
                guard let arguments = lookup.arguments(for: call, principal: principal) else {
                    return try refuse("the lookup \(name) cannot be made for \(model.name) \(change.key.canonicalText), so its current state is unknown")
                }
                switch await upstream.call(ToolCall(tool: lookup.tool, arguments: arguments)) {
                case .accepted(let result):
                    switch lookup.state(of: result) {
                    case .success(let value): current[change.key] = value.objectValue
                    case .failure(let unreadable):
                        return try refuse("reading \(model.name) \(change.key.canonicalText) through \(lookup.tool) gave no state to check it against (\(unreadable.why)), so a rollback could overwrite a later change")
                    }
                case .refused: current[change.key] = nil
                // The failure's text may hold the start of the read's answer: the row's values, secrets among them.
                case .failed(let failure):
                    return try refuse("reading \(model.name) \(change.key.canonicalText) through \(lookup.tool) failed: \(redactor.scrubbing("\(failure)", secretsOf: stash ?? .null))")
                }
            } else {
                return try refuse("the upstream's current rows cannot be read (no --observe, and \(tool.name) has no before: lookup), so a rollback could overwrite a later change")
            }
        }
        let checked = try inverseChanges(original, model: model, operation: operation, tool: tool, stash: stash) { current[$0] ?? nil }
        let changes: [RowChange]
        switch checked {
        case .failure(let refusal): return try refuse(refusal.message)
        case .success(let built): changes = built
        }
        let call: ToolCall
        switch InverseCall.build(changes, original: original, model: model, inverse: inverse, reason: reason) {
        case .failure(let refusal): return try refuse(refusal.message)
        case .success(let built): call = built
        }
        var forwarded = call
        for name in inverse.guardArguments { forwarded.arguments = JSONPointer(tokens: [name]).removing(from: forwarded.arguments) }
        // The whole table before the inverse, to compare with after it (as a proxied write is compared).
        var snapshot: [JSONValue: [String: JSONValue]]?
        if let observer = upstream.observer {
            do {
                snapshot = try observer.allRows(model: model)
            } catch {
                return try refuse("\(model.table) cannot be read from the observed database (\(error)), so what the inverse does could not be checked")
            }
        }

        // The rollback is claimed with its intent: a second rollback of the write, started before this one
        // ends (another process, another page) or after it ended in doubt, is refused before it forwards.
        enum Claim { case claimed(Int64), refused(Decision) }
        let claim: Claim = try environment.transaction { session in
            if let by = try session.ledger.rollback(of: original.seq) {
                return .refused(try recordRollbackRefusal(original, by: actor, reason: reason, message: Self.alreadyRolledBack(original.seq, by: by),
                                                          session: session, now: now))
            }
            var event = rollbackEvent(original, actor: actor, now: now, reason: reason)
            event.decision = DecisionCode.intent.rawValue
            event.changes = changes.map(redactor.redact)
            event.details["inverse_tool"] = .string(inverse.name)
            event.details["args_digest"] = .string(argumentsMark(forwarded))
            event.message = "rollback of event \(original.seq) forwarded to the upstream through \(inverse.name); its outcome is the next event"
            let seq = try session.ledger.append(event).seq
            try session.ledger.recordRollback(of: original.seq, by: seq)
            return .claimed(seq)
        }
        let intentSeq: Int64
        switch claim {
        case .refused(let refused): return refused
        case .claimed(let seq): intentSeq = seq
        }
        let outcome = await upstream.call(forwarded)
        // What the observed database shows now: an answer is no proof the rows came back (an upstream that
        // writes to another database answers all the same).
        var unrestored: [String] = []
        var unverifiable: String?
        if case .accepted = outcome, let observer = upstream.observer, let snapshot {
            do {
                unrestored = Self.unrestored(changes, operation: operation, model: model, tenant: original.tenant, redactor: redactor,
                                             before: snapshot, after: try observer.allRows(model: model))
            } catch {
                unverifiable = "\(error)"
            }
        }
        do {
            return try environment.transaction { session in
                var event = rollbackEvent(original, actor: actor, now: clock.now(), reason: reason)
                event.changes = changes.map(redactor.redact)
                event.details["intent_seq"] = .number(Double(intentSeq))
                event.details["inverse_tool"] = .string(inverse.name)
                switch outcome {
                case .accepted(let result) where unverifiable != nil:
                    // It answered, and whether the rows came back cannot be read: in doubt, never run again.
                    event.decision = DecisionCode.inDoubt.rawValue
                    event.message = "the upstream answered the inverse \(inverse.name), and the observed database cannot be read after it (\(unverifiable!)): whether the rows came back cannot be told, so the rollback will not run again. Check the upstream"
                    let stored = try session.ledger.append(event)
                    try session.ledger.settleRollback(of: original.seq, by: stored.seq)
                    return Decision(code: .inDoubt, message: event.message!, auditSeq: stored.seq,
                                    result: ["ok": false, "decision": "in_doubt", "audit_id": .number(Double(stored.seq)),
                                             "message": .string(event.message!), "upstream": result])
                case .accepted(let result) where !unrestored.isEmpty:
                    event.decision = DecisionCode.upstreamMismatch.rawValue
                    event.message = "the upstream answered the inverse \(inverse.name), and the observed database does not show the rollback as asked: \(unrestored.prefix(3).joined(separator: "; "))\(unrestored.count > 3 ? "; …" : ""). It wrote elsewhere, stored other values or changed other rows, so the rollback will not run again: check the upstream"
                    event.details["mismatch"] = .array(unrestored.map(JSONValue.string))
                    let stored = try session.ledger.append(event)
                    try session.ledger.settleRollback(of: original.seq, by: stored.seq)
                    return Decision(code: .upstreamMismatch, message: event.message!, auditSeq: stored.seq,
                                    result: ["ok": false, "decision": "upstream_mismatch", "audit_id": .number(Double(stored.seq)),
                                             "message": .string(event.message!), "upstream": result])
                case .accepted(let result):
                    event.decision = DecisionCode.rolledBack.rawValue
                    event.message = "rolled back event \(original.seq) through \(inverse.name): \(Self.undone(operation, rows: changes.count))"
                    let stored = try session.ledger.append(event)
                    try session.ledger.settleRollback(of: original.seq, by: stored.seq)
                    return Decision(code: .rolledBack, message: event.message!, auditSeq: stored.seq, changes: changes,
                                    result: ["ok": true, "decision": "rolled_back", "audit_id": .number(Double(stored.seq)),
                                             "rollback_of": .number(Double(original.seq)), "upstream": result])
                case .refused(let code, let message, _):
                    event.decision = DecisionCode.rollbackRefused.rawValue
                    // Its words may quote the values the inverse restores (a secret's, from the stash).
                    event.message = "the upstream refused the inverse \(inverse.name) (\(code)): \(redactor.scrubbing(LeakDetector.scrub(message), secretsOf: forwarded.arguments))"
                    let stored = try session.ledger.append(event)
                    try session.ledger.settleRollback(of: original.seq, by: stored.seq)
                    return Decision(code: .rollbackRefused, message: event.message!, auditSeq: stored.seq, result: refusalResult(.rollbackRefused, event.message!))
                case .failed(let failure) where failure.neverSent:
                    // Nothing reached the upstream: the rollback did not happen, and may be asked for again.
                    event.decision = DecisionCode.backendError.rawValue
                    event.message = "the inverse \(inverse.name) did not reach the upstream: \(redactor.scrubbing("\(failure)", secretsOf: forwarded.arguments)). Nothing was done; roll it back again once the upstream runs"
                    let stored = try session.ledger.append(event)
                    try session.ledger.releaseRollback(of: original.seq)
                    return Decision(code: .backendError, message: event.message!, auditSeq: stored.seq, result: refusalResult(.backendError, event.message!))
                case .failed(let failure):
                    event.decision = DecisionCode.inDoubt.rawValue
                    event.message = "the inverse \(inverse.name) was forwarded, and then \(redactor.scrubbing("\(failure)", secretsOf: forwarded.arguments)); the rollback may or may not have happened, so it will not run again. Check the upstream, and undo the write there if it still needs undoing"
                    let stored = try session.ledger.append(event)
                    try session.ledger.settleRollback(of: original.seq, by: stored.seq)
                    return Decision(code: .inDoubt, message: event.message!, auditSeq: stored.seq, result: refusalResult(.inDoubt, event.message!))
                }
            }
        } catch {
            halt.set("the outcome of a rollback (intent event \(intentSeq)) could not be recorded: \(error)")
            throw GuardError.outcomeNotRecorded(tool: inverse.name, intentSeq: intentSeq, upstream: "\(outcome)", error: "\(error)")
        }
    }

    /// How the observed table after an inverse call (`after`, against `before`, taken before it) differs
    /// from what the rollback restores: a created row still there; an updated row missing or holding other
    /// values; a deleted row not back, under its key or as the one new row of the tenant with its values (a
    /// create tool as the inverse gives it a new key); any other row created, changed or deleted.
    static func unrestored(_ changes: [RowChange], operation: WriteOperation, model: ModelPolicy, tenant: String, redactor: Redactor,
                           before: [JSONValue: [String: JSONValue]], after: [JSONValue: [String: JSONValue]]) -> [String] {
        var problems: [String] = []
        var accounted = Set(changes.map { ObservedChange.normalize($0.key) })
        func differences(_ row: [String: JSONValue], _ change: RowChange) -> [String] {
            change.fields.sorted { $0.key < $1.key }.compactMap { field, value in
                guard field != model.key, let want = value.after, (row[field] ?? .null) != want else { return nil }
                return "\(field) is \(redactor.shown(field, row[field])), the rollback restores \(redactor.shown(field, want))"
            }
        }
        let created = after.keys.filter { before[$0] == nil }
        for change in changes {
            let key = ObservedChange.normalize(change.key), name = "\(model.name) \(change.key.canonicalText)"
            switch operation {
            case .create:
                if !model.isDeleted(after[key]) { problems.append("\(name) still exists") }
            case .update, .bulkUpdate:
                guard let row = after[key], !model.isDeleted(row) else {
                    problems.append("\(name) does not exist")
                    continue
                }
                problems += differences(row, change).map { "\(name): \($0)" }
            case .delete:
                if let row = after[key], !model.isDeleted(row) {
                    problems += differences(row, change).map { "\(name): \($0)" }
                    continue
                }
                let candidates = created.filter { new in
                    guard !accounted.contains(new), let row = after[new], !model.isDeleted(row) else { return false }
                    return model.tenantField.map { row[$0]?.isIdentical(to: .string(tenant)) == true } ?? true && differences(row, change).isEmpty
                }
                if candidates.count == 1 {
                    accounted.insert(candidates[0])
                } else {
                    problems.append("\(name) is not back (\(candidates.count) new rows hold its values)")
                }
            }
        }
        for key in Set(before.keys).union(after.keys).subtracting(accounted).sorted(by: { $0.canonicalText < $1.canonicalText }) where before[key] != after[key] {
            let what = before[key] == nil ? "was created" : after[key] == nil ? "was deleted" : "changed"
            problems.append("\(model.name) \(key.canonicalText) \(what), and the rollback did not ask for it")
        }
        return problems
    }

    func recordRollbackRefusal(_ original: AuditEvent, by actor: String, reason: String, message: String, session: any GuardSession, now: Date) throws -> Decision {
        var event = rollbackEvent(original, actor: actor, now: now, reason: reason)
        event.decision = DecisionCode.rollbackRefused.rawValue
        event.message = message
        let stored = try session.ledger.append(event)
        return Decision(code: .rollbackRefused, message: message, auditSeq: stored.seq, result: refusalResult(.rollbackRefused, message))
    }

    /// The first field whose current value is not what the write left, if any.
    func changedSince(_ change: RowChange, _ current: [String: JSONValue]) -> String? {
        for name in change.fields.keys.sorted() where (current[name] ?? .null) != (change.fields[name]?.after ?? .null) {
            return name
        }
        return nil
    }

    func rollbackEvent(_ original: AuditEvent, actor: String, now: Date, reason: String) -> AuditEvent {
        AuditEvent(
            ts: now, tenant: original.tenant, actor: actor, tool: original.tool, model: original.model,
            operation: original.operation, targets: original.targets, rowCount: original.changes.count, reason: reason,
            decision: "", policyDigest: policyDigest, backend: original.backend ?? GuardBackend.builtin,
            details: ["rollback_of": .number(Double(original.seq))])
    }
}

/// The call that undoes a write through its `inverse:` tool, built through that tool's binding.
enum InverseCall {
    static func build(_ changes: [RowChange], original: AuditEvent, model: ModelPolicy, inverse: ToolPolicy, reason: String)
        -> Result<ToolCall, Guard.RollbackRefusal>
    {
        let binding = inverse.binding
        var args: JSONValue = .object([:])
        if let pointer = binding.model { args = pointer.setting(.string(model.name), in: args) }
        var fields: [String: JSONValue] = [:]
        switch inverse.operation {
        case .update, .bulkUpdate:
            guard changes.count == 1 || inverse.operation == .bulkUpdate else {
                return .failure(.init("the write changed \(changes.count) rows with their own before values; \(inverse.name) sets one row at a time"))
            }
            if inverse.operation == .bulkUpdate, Set(changes.map { $0.fields.compactMapValues(\.after) }).count > 1 {
                return .failure(.init("the rows had different values before the write; one \(inverse.name) call cannot restore them all"))
            }
            fields = changes[0].fields.compactMapValues(\.after)
            if inverse.operation == .update, let pointer = binding.target { args = pointer.setting(changes[0].key, in: args) }
            if inverse.operation == .bulkUpdate, let pointer = binding.targets { args = pointer.setting(.array(changes.map(\.key)), in: args) }
        case .delete:
            guard changes.count == 1, !changes[0].key.isNull, let pointer = binding.target else {
                return .failure(.init("the created row's key was not recorded, so \(inverse.name) cannot name it"))
            }
            args = pointer.setting(changes[0].key, in: args)
        case .create:
            fields = changes[0].fields.compactMapValues(\.after).filter { inverse.writable.contains($0.key) }
        }
        let notWritable = fields.keys.filter { !inverse.writable.contains($0) }.sorted()
        if !notWritable.isEmpty {
            return .failure(.init("\(inverse.name) may not write \(notWritable.joined(separator: ", ")), which the rollback must restore"))
        }
        switch binding.fields {
        case .object(let pointer):
            if inverse.operation != .delete { args = pointer.setting(.object(fields), in: args) }
        case .each(let map):
            for (name, value) in fields {
                guard let pointer = map[name] else { return .failure(.init("\(inverse.name) binds no argument for \(name)")) }
                args = pointer.setting(value, in: args)
            }
        }
        if let pointer = binding.reason { args = pointer.setting(.string(reason), in: args) }
        if let pointer = binding.idempotencyKey { args = pointer.setting(.string("rollback-of-\(original.seq)"), in: args) }
        return .success(ToolCall(tool: inverse.toolName, arguments: args))
    }
}
