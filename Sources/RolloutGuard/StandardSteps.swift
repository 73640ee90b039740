import Foundation
import RolloutCore

/// The checks of DESIGN.md's decision pipeline, in order. Each reads the context, refuses (or queues,
/// or answers from the ledger) by returning a verdict, and otherwise adds what it established.
enum StandardSteps {
    static let all: [GuardStep] = [stage, binding, arguments, reason, idempotency, tenant, writable, values, rules, caps, rows, dryRun, approval]

    /// 1-2. The tool must be granted and switched on for this tenant; in shadow it is validated only.
    static let stage = GuardStep(.stage, phase: .beforeLookups) { context in
        let tool = context.tool
        if let scopes = context.principal.scopes, !scopes.contains(tool.name) {
            return .refuse(.toolDisabled, "\(tool.name) is not granted to \(context.principal.actor)")
        }
        let stage = context.stages.stage(tenant: context.principal.tenant, tool: tool.name)
        switch stage {
        case .off:
            if let why = context.stages.offReason(tenant: context.principal.tenant) { return .refuse(.toolDisabled, "\(tool.name): \(why)") }
            return .refuse(.toolDisabled,
                "\(tool.name) is off for tenant \(context.principal.tenant); it runs only once the tenant is promoted to shadow, soft or broad")
        case .shadow:
            if context.mode == .approved {
                return .refuse(.toolDisabled, "\(tool.name) is in shadow for tenant \(context.principal.tenant) now, so it cannot execute")
            }
            context.shadow = true
            context.mode = .shadow
        case .soft, .broad:
            break
        }
        return nil
    }

    /// 3. The binding must be able to read the request.
    static let binding = GuardStep(.binding, phase: .beforeLookups) { context in
        guard context.policy.model(named: context.tool.model) != nil else {
            return .refuse(.invalidArguments, "\(context.tool.name) writes model \(context.tool.model), which the policy does not define")
        }
        // Refused before any of it is bound: its reason or key would be a column of the event, which no
        // store holds with a NUL (`AuditEvent.columnHoldingNUL`), so the call was refused with no record.
        if context.call.arguments.holdsNUL {
            return .refuse(.invalidArguments, "\(context.tool.name): the arguments hold the character U+0000 (NUL), which no audit store can record and few databases hold; the call is refused")
        }
        switch RequestBinder.bind(context.call, to: context.tool) {
        case .success(let request):
            context.request = request
            return nil
        case .failure(let failure):
            return .refuse(.invalidArguments, "\(context.tool.name): \(failure.message)")
        }
    }

    /// 3b. Only declared arguments, and the user the host vouches for. An argument the policy does not
    /// declare is refused (or dropped where the tool says so): the upstream would act on it unchecked.
    static let arguments = GuardStep(.arguments, phase: .beforeLookups) { context in
        let tool = context.tool
        let unbound = RequestBinder.unboundArguments(context.call.arguments, tool: tool)
        if !unbound.isEmpty {
            switch tool.extraArguments {
            case .refuse:
                let declared = tool.declaredPointers.map(\.description).sorted().joined(separator: ", ")
                return .refuse(.argumentUnbound,
                    "\(tool.name) does not take \(unbound.joined(separator: ", ")); the policy declares only \(declared) (an argument it does not declare would reach the upstream unchecked)")
            case .drop:
                // Removing a list's element moves the elements after it: a place the policy checked
                // (`/lines/1/amount`) would then hold another element, and a later removal would take
                // the wrong one. Only members of objects are dropped; an undeclared element is refused.
                let arguments = context.call.arguments
                if let element = unbound.first(where: { JSONPointer($0).map { $0.isListElement(in: arguments) } ?? true }) {
                    return .refuse(.argumentUnbound,
                        "\(tool.name) does not take \(element), an element of a list; removing it would move the elements after it onto places the policy checked, so the call is refused (extra_args: drop removes only undeclared members of objects)")
                }
                context.droppedArguments = unbound
                for place in unbound {
                    if let pointer = JSONPointer(place) { context.forwardCall.arguments = pointer.removing(from: context.forwardCall.arguments) }
                }
                // What goes to the upstream is checked again: an undeclared place a removal missed is refused, not sent.
                let left = RequestBinder.unboundArguments(context.forwardCall.arguments, tool: tool)
                if !left.isEmpty {
                    return .refuse(.argumentUnbound, "\(tool.name) does not take \(left.joined(separator: ", ")), and it could not be removed; nothing was sent")
                }
            }
        }
        if let field = tool.principalField {
            guard let subject = context.principal.subject else {
                return .refuse(.principalMismatch,
                    "\(tool.name) acts for the user at \(field); the host gave no subject (rollout guard --subject or ROLLOUT_SUBJECT), so it acts for nobody")
            }
            guard let value = field.resolve(in: context.call.arguments), value.isIdentical(to: .string(subject)) else {
                let got = field.resolve(in: context.call.arguments)?.canonicalText ?? "nothing"
                return .refuse(.principalMismatch, "\(tool.name): \(field) is \(got), but the agent acts for \(subject); it may act only for that user")
            }
        }
        return nil
    }

    /// 4. A real reason.
    static let reason = GuardStep(.reason, phase: .beforeLookups) { context in
        let tool = context.tool
        guard let request = context.request, let problem = tool.reason.problem(with: request.reason) else { return nil }
        let hint = tool.reason.required ? " Say why this write is needed, in words (at least \(tool.reason.minLength) characters)." : ""
        return .refuse(.reasonRequired, "\(tool.name): \(problem).\(hint)")
    }

    /// 5. Idempotency: required on real writes; a known key replays, conflicts, or is in doubt.
    static let idempotency = GuardStep(.idempotency, phase: .inTransaction) { context in
        let tool = context.tool
        guard context.mode != .approved, let request = context.request, !request.dryRun, let session = context.session else { return nil }
        guard let key = request.idempotencyKey else {
            if tool.idempotencyRequired {
                return .refuse(.idempotencyKeyRequired,
                    "\(tool.name) needs an idempotency key\(tool.binding.idempotencyKey.map { " at \($0)" } ?? ""): a fresh unique string per write, reused only when retrying the same write")
            }
            return nil
        }
        guard let entry = try session.ledger.idempotency(tenant: context.principal.tenant, key: key) else { return nil }
        // The chain shows the key in use and the ledger lost what for: not free, and nothing to replay.
        if entry.missingFromLedger { return .inDoubt(entry) }
        // A write that may have happened (at its upstream, or its outcome lost) runs again under no key.
        // Whoever asks and however the call is worded, the answer is in_doubt, which says nothing of the
        // first call: a conflict would tell a retry worded anew to take a new key, and write twice.
        if entry.isUnsettled { return .inDoubt(entry) }
        // On another backend (staging and production sharing a store) the first write's answer is not this
        // one's: replayed, it would tell the agent a write happened where it never ran.
        guard entry.tool == tool.name, entry.backend.hasSameBytes(as: context.decisionScope.backend),
              try keyAnswers(entry, request, context, session: session) else {
            return .refuse(.idempotencyConflict,
                "\(tool.name): idempotency key '\(key)' was already used (audit event \(entry.auditSeq)) for another write, by another actor or subject, on another backend or upstream (its command, directory or environment), or with other arguments; a key answers only a retry of its own call (the same arguments from the same caller; a reason kept apart from the written fields may be worded anew). A new write takes a new key; if this call retries the write of audit event \(entry.auditSeq), do not send it again under a new key: that event says what became of it")
        }
        // The answer comes from the ledger, which is not chained: it is replayed only as the event it names
        // says it ended. An executed write answered as an error (its result edited) invites a resend under a
        // new key, and an in-flight one answered as done (its decision edited) a write that may not have
        // happened (helper-81); whatever does not match is in doubt.
        guard try replayMatchesChain(entry, session: session, redactor: context.decisionScope.redactor) else { return .inDoubt(entry) }
        return .replay(entry)
    }

    /// Whether `entry`'s answer is what its chained event says: the event holds, was written by a guard for this
    /// tenant and key (another key's event, its row's columns copied over, answered this retry with another call's
    /// outcome; helper-82), and has the entry's decision; an answer that names a decision or an event names that
    /// one; an upstream's answer inside it is the one the event's digest holds; an executed write's answer is no error.
    static func replayMatchesChain(_ entry: IdempotencyEntry, session: any GuardSession, redactor: Redactor) throws -> Bool {
        guard let event = try session.ledger.heldEvent(seq: entry.auditSeq), !event.isImported,
              event.tenant.hasSameBytes(as: entry.tenant), event.idempotencyKey.map({ $0.hasSameBytes(as: entry.key) }) == true,
              event.decision.hasSameBytes(as: entry.decision.rawValue) else { return false }
        // Every answer a guard stores names its decision (one that does not was edited; helper-83), and most name their
        // event (a refusal's answer does not).
        guard entry.result["decision"] == .string(event.decision) else { return false }
        if let id = entry.result["audit_id"], id != .number(Double(entry.auditSeq)) { return false }
        // The upstream's answer, where the event holds its digest. An event written before the digest (an earlier
        // rollout, or one still running beside this one on a shared store) holds none: its answer is checked as
        // above, and replayed (helper-83: every such key answered in doubt after an upgrade).
        if case .string(let digest)? = event.details["upstream_digest"] {
            guard let upstream = entry.result["upstream"], digest == redactor.keyedDigest(upstream.canonicalBytes) else { return false }
        }
        if entry.decision == .executed, entry.result["ok"] == .bool(false) || entry.result["isError"] == .bool(true) { return false }
        // The newest word on the key: a row pointed back at an earlier event of it (a refusal before the write
        // that ran) would tell the retry the write was refused (helper-83).
        if try session.ledger.keyWrittenAfter(entry.auditSeq, tenant: entry.tenant, key: entry.key) { return false }
        return true
    }

    /// Whether `entry`'s key answers this call: its binding (`IdempotencyBinding`) is this call's. A
    /// ledger row written before bindings holds the write's effect digest alone; it answers the same
    /// write from the actor and subject the event that used the key records, and no one else.
    static func keyAnswers(_ entry: IdempotencyEntry, _ request: WriteRequest, _ context: DecisionContext, session: any GuardSession) throws -> Bool {
        if entry.binding.hasPrefix(IdempotencyBinding.prefix) {
            return entry.binding == context.marks?.binding(for: request) ?? IdempotencyBinding.of(request, tool: context.tool, principal: context.principal, scope: context.decisionScope)
        }
        if entry.binding.hasPrefix(IdempotencyBinding.legacyPrefix) {
            return entry.binding == IdempotencyBinding.legacy(request, tool: context.tool, actor: context.principal.actor, subject: context.principal.subject)
        }
        guard entry.binding == request.effectDigest, let first = try session.ledger.event(seq: entry.auditSeq) else { return false }
        return Guard.sameName(first.details["subject"]?.stringValue, context.principal.subject) && first.actor.hasSameBytes(as: context.principal.actor)
    }

    /// 6. Tenant scoping: never the tenant field, never another tenant's row; the rows as they are now.
    static let tenant = GuardStep(.tenant, phase: .inTransaction) { context in
        let tool = context.tool, model = context.model
        guard let request = context.request else { return nil }
        if let field = model.tenantField, request.fields[field] != nil {
            return .refuse(.crossTenant, "\(tool.name): \(field) is the tenant field; a write can never set it")
        }
        if let verdict = referencedRows(&context) { return verdict }
        guard !request.targets.isEmpty else {
            context.observed = true
            return nil
        }
        let reader: (any RowReader)? = context.session?.rows ?? context.observer
        var found: [[String: JSONValue]?]
        if let reader {
            do {
                found = try reader.rows(model: model, keys: request.targets)
            } catch {
                // Rows it cannot read (a database gone, locked, not a database): refused and audited, never
                // judged on nothing; an approval run stays pending (the run was at fault, not the write).
                context.rowsUnreadable = true
                return .refuse(.lookupFailed,
                    "\(tool.name): \(model.name) \(request.targets.map(\.canonicalText).joined(separator: ", ")) cannot be read (\(error)); the write is refused rather than judged on rows it cannot read")
            }
        } else if let name = tool.beforeLookup, let row = context.lookups[name]?.objectValue, request.targets.count == 1 {
            found = [row]
        } else {
            // Rows nobody can read (no --observe, no lookup of the row): what they hold is unknown, never
            // invented. A write whose check needs them (their tenant, a condition over them) is refused.
            let rows = request.targets.map(\.canonicalText).joined(separator: ", ")
            let how = request.targets.count == 1
                ? "this guard reads no \(model.name) rows (start it with --observe, or give the tool a lookup of the row as its before values)"
                : "this guard reads no \(model.name) rows (start it with --observe; a lookup reads one row, and this write targets \(request.targets.count))"
            if let field = model.tenantField {
                context.rowsUnreadable = true
                return .refuse(.crossTenant,
                    "\(tool.name): the tenant of \(model.name) \(rows) cannot be checked: \(how); \(model.name) rows belong to tenants (\(field)), so a write to one it cannot check is refused")
            }
            if let (condition, path) = tool.conditionReadingRows(request) {
                context.rowsUnreadable = true
                return .refuse(.ruleRefused,
                    "\(tool.name): \(condition) reads \(path), which cannot be known for \(model.name) \(rows): \(how); the write is refused rather than judged on values it does not have")
            }
            context.rows = request.targets.map { _ in [:] }
            context.observed = false
            return nil
        }
        var rows: [[String: JSONValue]] = []
        for (key, row) in zip(request.targets, found) {
            guard let row, !model.isDeleted(row) else {
                return .refuse(.notFound, "\(tool.name): no \(model.name) \(key.canonicalText) in tenant \(context.principal.tenant)")
            }
            if let field = model.tenantField, row[field]?.isIdentical(to: .string(context.principal.tenant)) != true {
                return .refuse(.crossTenant, "\(tool.name): \(model.name) \(key.canonicalText) does not belong to tenant \(context.principal.tenant)")
            }
            // A key another spelling of the row's own (`"06"` or `"6"` for 6, another case under NOCASE)
            // finds the row as the database compares keys, yet is recorded as written: a rollback then took
            // the later writes of `6` for another row's and undid them unseen, and caps or rules that count
            // a row by its key counted two rows. The key is the one the row holds, byte for byte.
            // A table row read without its key (a policy `key:` naming no column) cannot show which spelling it holds:
            // refused, not taken on the agent's word. A lookup's answer is the server's own shape, which often leaves the
            // key out (the tau2 server's orders): only a key it does return is compared.
            // A null is no key (a key is never null): read as absent. (JSONValue takes `nil` as its null: Optional spelled out.)
            var readBack: JSONValue? = row[model.key]
            if readBack?.isNull == true { readBack = Optional.none }
            if readBack == nil, reader == nil {
                // Without the key in the answer, a server that finds rows case-insensitively (or as numbers) would take
                // `#w0000001` for `#W0000001`. Where the policy states the key's form (a field rule for it), the key
                // must have that form; where it states none, the agent's spelling is what is recorded.
                if let rule = model.field(model.key), let problem = rule.violation(key) {
                    return .refuse(.invalidArguments,
                        "\(tool.name): the key \(key.canonicalText) of \(model.name) is not in the form the policy gives \(model.key) (\(problem)); its lookup's answer does not name the key, so only that form tells one row's spelling")
                }
                readBack = key
            }
            guard let held = readBack else {
                context.rowsUnreadable = true
                return .refuse(.lookupFailed,
                    "\(tool.name): \(model.name) \(key.canonicalText) was read without its key \(model.key), so whether the call names it as the row does cannot be told; give the policy's key: as the table names the column")
            }
            if !held.isIdentical(to: key) {
                return .refuse(.invalidArguments,
                    "\(tool.name): the key \(key.canonicalText) finds \(model.name) \(held.canonicalText) only as the database compares keys; send the key as the row holds it (\(held.canonicalText)), so that every record of the row names it alike")
            }
            rows.append(row)
        }
        context.rows = rows
        context.observed = true
        return nil
    }

    /// 6b. A field that names another row by its key (`references:`) names one of the tenant's own, that
    /// exists: a refund of another tenant's order moves money out of that tenant's books. Read as the
    /// target rows are (the built-in domain, or `--observe`); a reference nobody can read is refused.
    static func referencedRows(_ context: inout DecisionContext) -> Verdict? {
        let tool = context.tool, model = context.model, tenant = context.principal.tenant
        guard let request = context.request else { return nil }
        for name in request.fields.keys.sorted() {
            guard let target = model.field(name)?.references, let value = request.fields[name], !value.isNull else { continue }
            guard let referenced = context.policy.model(named: target) else {
                return .refuse(.invalidArguments, "\(tool.name): \(name) references model \(target), which the policy does not define")
            }
            if let problem = RequestBinder.keyProblem(value) {
                return .refuse(.invalidValue, "\(tool.name): \(name) names a \(referenced.name) by its key, and it is \(problem)")
            }
            let what = "\(name) names \(referenced.name) \(context.decisionScope.redactor.shown(name, value))"
            guard let reader = context.session?.rows ?? context.observer else {
                context.rowsUnreadable = true
                return .refuse(.crossTenant,
                    "\(tool.name): \(what), and this guard reads no \(referenced.name) rows (start it with --observe): a reference whose tenant it cannot check is refused")
            }
            let row: [String: JSONValue]?
            do {
                row = try reader.rows(model: referenced, keys: [value]).first ?? nil
            } catch {
                context.rowsUnreadable = true
                return .refuse(.lookupFailed, "\(tool.name): \(what), which cannot be read (\(error)); the write is refused rather than judged on a row it cannot read")
            }
            guard let row, !referenced.isDeleted(row) else {
                return .refuse(.notFound, "\(tool.name): \(what), and tenant \(tenant) has no such \(referenced.name)")
            }
            if let field = referenced.tenantField, row[field]?.isIdentical(to: .string(tenant)) != true {
                return .refuse(.crossTenant, "\(tool.name): \(what), which does not belong to tenant \(tenant)")
            }
            // As for a target's key: a rule or cap that counts writes per referenced row must see one name for it.
            if !(row[referenced.key]?.isIdentical(to: value) ?? false) {
                guard let held = row[referenced.key], !held.isNull else {
                    return .refuse(.lookupFailed, "\(tool.name): \(what), whose row was read without its key \(referenced.key), so whether it is named as the row names it cannot be told")
                }
                return .refuse(.invalidValue,
                    "\(tool.name): \(what), which finds \(referenced.name) \(context.decisionScope.redactor.shown(name, held)) only as the database compares keys; send the key as the row holds it")
            }
        }
        return nil
    }

    /// 7. Only writable fields.
    static let writable = GuardStep(.writable, phase: .inTransaction) { context in
        let tool = context.tool
        guard let request = context.request else { return nil }
        // By bytes: a field spelled another way (the Kelvin sign for K) is not the writable one the upstream reads.
        let notWritable = request.fields.keys.filter { name in !tool.writable.contains { $0.hasSameBytes(as: name) } }.sorted()
        guard !notWritable.isEmpty else { return nil }
        let list = tool.writable.isEmpty ? "none" : tool.writable.joined(separator: ", ")
        return .refuse(.fieldNotWritable, "\(tool.name) may not change \(notWritable.joined(separator: ", ")); it may change only: \(list)")
    }

    /// 8. Values within the model's rules and the tool's argument rules (and every required field on a create).
    static let values = GuardStep(.values, phase: .inTransaction) { context in
        let tool = context.tool, model = context.model
        guard let request = context.request else { return nil }
        for name in request.fields.keys.sorted() {
            if let rule = model.field(name), let problem = rule.violation(request.fields[name]!) {
                return .refuse(.invalidValue, "\(tool.name): \(problem)")
            }
        }
        for rule in tool.arguments {
            let value = JSONPointer(tokens: [rule.name]).resolve(in: context.call.arguments)  // the member of that exact name
            if let value, let problem = rule.violation(value) { return .refuse(.invalidValue, "\(tool.name): \(problem)") }
            if value == nil, !rule.nullable { return .refuse(.invalidValue, "\(tool.name): the argument \(rule.name) is missing") }
        }
        if request.operation == .create {
            let missing = tool.writable.filter { name in request.fields[name] == nil && !(model.field(name)?.nullable ?? true) }
            if !missing.isEmpty { return .refuse(.invalidValue, "\(tool.name): a new \(model.name) needs \(missing.joined(separator: ", "))") }
        }
        return nil
    }

    /// 8b. The tool's named rules that refuse.
    static let rules = GuardStep(.rules, phase: .inTransaction) { context in
        let refusing = context.tool.rules.filter { $0.decision == .refuse }
        guard !refusing.isEmpty else { return nil }
        // Each row of a bulk write is judged: one row a rule refuses refuses the write.
        var roots: Set<String>? = []
        for rule in refusing { roots = rule.when.dataRoots.flatMap { mine in roots?.union(mine) } }
        let rows = context.conditionDataByRow(reading: roots)
        for rule in refusing {
            guard let at = rows.firstIndex(where: { rule.when.isTruthy($0) }) else { continue }
            let targets = context.request?.targets ?? []
            let which = rows.count > 1 && targets.indices.contains(at) ? " (\(context.model.name) \(targets[at].canonicalText))" : ""
            return .refuse(.ruleRefused, "\(context.tool.name): \(rule.message)\(which) (rule \(rule.name))")
        }
        return nil
    }

    /// 9. Caps per window, for the tenant and for the actor.
    static let caps = GuardStep(.caps, phase: .inTransaction) { context in
        let tool = context.tool
        guard context.mode != .approved, let request = context.request, !request.dryRun, let session = context.session else { return nil }
        if let cap = tool.cap {
            let since = context.now.addingTimeInterval(-cap.per.timeInterval)
            if try session.ledger.callCount(tenant: context.principal.tenant, tool: tool.name, actor: nil, since: since, upTo: cap.max) >= cap.max {
                return .refuse(.capExceeded, "\(tool.name): tenant \(context.principal.tenant) has used its cap of \(cap); try again later or ask for a higher cap")
            }
        }
        if let cap = tool.actorCap {
            let since = context.now.addingTimeInterval(-cap.per.timeInterval)
            if try session.ledger.callCount(tenant: context.principal.tenant, tool: tool.name, actor: context.principal.actor, since: since, upTo: cap.max) >= cap.max {
                return .refuse(.capExceeded, "\(tool.name): actor \(context.principal.actor) has used its cap of \(cap)")
            }
        }
        return nil
    }

    /// 10. Row limits, and the dry run a large write needs first.
    static let rows = GuardStep(.rows, phase: .inTransaction) { context in
        let tool = context.tool
        guard let request = context.request else { return nil }
        if let maxRows = tool.maxRows, request.rowCount > maxRows {
            return .refuse(.tooManyRows, "\(tool.name): \(request.rowCount) rows is above the limit of \(maxRows); split the work or ask a person")
        }
        guard !request.dryRun, context.mode != .approved, let session = context.session else { return nil }
        var why: String?
        if let threshold = tool.dryRunAboveRows, request.rowCount > threshold {
            why = "\(request.rowCount) rows is above \(threshold)"
        } else if let rule = tool.rules.first(where: { $0.decision == .dryRun && context.holdsForAnyRow($0.when) }) {
            why = "\(rule.message) (rule \(rule.name))"
        }
        guard let why else { return nil }
        let since = context.now.addingTimeInterval(-context.options.dryRunValidity.timeInterval)
        // What the dry run showed must be what this write does now: the same call, on the rows as they are.
        if let plan = context.plan,
           try session.ledger.hasDryRun(tenant: context.principal.tenant, tool: tool.name,
                                        binding: DryRunBinding.of(plan, tool: tool, principal: context.principal, scope: context.decisionScope), since: since) {
            return nil
        }
        return .refuse(.dryRunRequired, "\(tool.name): \(why); run the same call with dry_run: true first, check the diff, then repeat it (the same arguments from the same caller, while the rows are as the dry run showed them: only the reason and the idempotency key may differ)")
    }

    /// 11. A call with its dry-run flag: the diff it would make, recorded, and nothing written.
    static let dryRun = GuardStep(.dryRun, phase: .inTransaction) { context in
        guard let request = context.request, request.dryRun, let plan = context.plan else { return nil }
        return .dryRun(plan)
    }

    /// 12. Approval for the high-stakes few.
    static let approval = GuardStep(.approval, phase: .inTransaction) { context in
        if context.mode == .approved {
            // Approved: only as its approver was shown it. With no view (a bug's only cause), it does not run.
            guard let plan = context.plan else { return nil }
            let redactor = context.decisionScope.redactor
            guard let view = context.approvedView else {
                return .refuse(.approvalRefused, "\(context.tool.name): what its approver was shown cannot be read; the write did not run")
            }
            if let difference = view.difference(plan.changes.map(redactor.redact), model: context.model.name) {
                return .refuse(.approvalRefused,
                    "\(context.tool.name): the write is no longer what its approver was shown: \(difference). It did not run; the agent may ask for it again on the rows as they are")
            }
            return nil
        }
        // The conditions' data and the plan are built only for a tool that can ask for a person.
        guard context.request != nil,
              context.tool.approval != nil || context.tool.rules.contains(where: { $0.decision == .approve })
        else { return nil }
        // A person is asked when the condition holds for any row the write touches.
        if let approval = context.tool.approval, context.holdsForAnyRow(approval.when) { return context.plan.map { .pending($0, rule: nil) } }
        if let rule = context.tool.rules.first(where: { $0.decision == .approve && context.holdsForAnyRow($0.when) }) {
            context.approvalRule = rule
            return context.plan.map { .pending($0, rule: rule) }
        }
        return nil
    }
}
