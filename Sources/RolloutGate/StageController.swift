import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

/// Carries out stage changes for one rollout folder and audit store: evaluates the gates, and commits
/// a change to `tenants.yaml` (and the flags file, when there is one) together with its audit event,
/// all or nothing. Of two changes decided from the same state, only the first commits; the other is
/// refused with `StageConflict`, as is a change to a `tenants.yaml` edited meanwhile.
public struct StageController {
    public var folder: RolloutFolder
    public var policy: Policy
    public var store: AuditStore
    public var clock: any TimeSource
    /// The fuzz report the fuzz gate reads; default: `gates.fuzz_report` of tenants.yaml.
    public var fuzzReportPath: String?
    /// Told what a change did beyond its own (a flag held back); the executable prints it.
    public var notice: ((String) -> Void)?

    public init(folder: RolloutFolder, policy: Policy, store: AuditStore, clock: any TimeSource = SystemTime(), fuzzReportPath: String? = nil) {
        self.folder = folder
        self.policy = policy
        self.store = store
        self.clock = clock
        self.fuzzReportPath = fuzzReportPath
    }

    /// The tool every stage event names in the audit log; scoring leaves these events out.
    public static let auditTool = "rollout.stage"

    /// What a promotion decided.
    public struct Promotion: Sendable {
        public var evaluation: GateEvaluation
        /// The recorded change; nil when a gate blocked or on a dry run.
        public var change: StageChange?
        public var auditSeq: Int64?
        public var dryRun: Bool
    }

    /// The file as read, the tenant as it names it, and the tenant's stage version at that moment.
    struct Snapshot {
        var text: String?
        var file: TenantsFile
        /// The tenant as tenants.yaml spells it: a name typed in another Unicode form finds the same entry,
        /// and the store's events, pauses and versions are keyed by the file's spelling.
        var tenant: String
        var version: Int64
    }

    func snapshot(tenant typed: String, tool: String? = nil) throws -> Snapshot {
        if let tool, policy.tool(named: tool) == nil {
            let known = policy.tools.map(\.name)
            throw StageMachine.Refusal("\(tool) is not a write tool of the policy; its tools: \(known.joined(separator: ", "))", badInput: true)
        }
        let text = try folder.readTenantsText()
        let file = try text.map { try TenantsDecoder.load(text: $0, file: folder.tenantsPath, policy: policy) }
            ?? TenantsFile(tenants: [], file: folder.tenantsPath)
        let tenant = file.spelling(of: typed)
        // Read after the file: a change committed between the two changes the file too, and the commit
        // compares the file's text again.
        let version = try store.stageVersion(tenant: tenant)
        return Snapshot(text: text, file: file, tenant: tenant, version: version)
    }

    func evaluator(_ file: TenantsFile) -> GateEvaluator {
        GateEvaluator(policy: policy, tenants: file, store: store, fuzzReportPath: fuzzReportPath ?? file.gates.fuzzReport, clock: clock)
    }

    /// Every gate for the tenant's (or tool's) next stage; the verdict is recorded for `rollout status`.
    public func gate(tenant: String, tool: String? = nil, to: Stage? = nil, promoter: String? = nil) throws -> GateEvaluation {
        let snap = try snapshot(tenant: tenant, tool: tool)
        let tenant = snap.tenant
        let judged = try withSharedPause(snap.file, tenant: tenant)
        try checkTarget(judged, tenant: tenant, tool: tool, to: to)
        let evaluation = try evaluator(judged).evaluate(tenant: tenant, tool: tool, to: to, promoter: promoter)
        try record(evaluation)
        return evaluation
    }

    /// A `--to` that is not the next stage is a mistake in the request, not a gate's verdict.
    func checkTarget(_ file: TenantsFile, tenant: String, tool: String?, to: Stage?) throws {
        guard let to else { return }
        let (_, current) = try StageMachine.current(file, tenant: tenant, tool: tool)
        if let next = current.next, next != to { _ = try StageMachine.target(from: current, to: to) }
    }

    func record(_ evaluation: GateEvaluation) throws {
        try store.recordGateRun(GateRun(tenant: evaluation.tenant, at: evaluation.at, nextStage: evaluation.next?.rawValue,
                                        passed: evaluation.passed, summary: evaluation.summary))
    }

    /// Promotes one step when every gate is successful; records the change with the digests it rests on.
    /// Throws `StageMachine.Refusal` for a change the rules forbid, `StageConflict` on a lost race.
    public func promote(tenant: String, tool: String? = nil, to: Stage? = nil, by: String, automated: Bool = false, reason: String?,
                        dryRun: Bool = false) throws -> Promotion {
        let snap = try snapshot(tenant: tenant, tool: tool)
        let tenant = snap.tenant
        // Refuse what the rules forbid before spending time on the gates.
        if automated { try StageMachine.checkAutomatedPromotion(snap.file, tenant: tenant, tool: tool) }
        // A tenant paused in the store (on any host) is paused here too: no gate passes.
        let judged = try withSharedPause(snap.file, tenant: tenant)
        try checkTarget(judged, tenant: tenant, tool: tool, to: to)
        let evaluation = try evaluator(judged).evaluate(tenant: tenant, tool: tool, to: to, promoter: by)
        try record(evaluation)
        guard evaluation.passed, let next = evaluation.next, !dryRun else {
            return Promotion(evaluation: evaluation, change: nil, auditSeq: nil, dryRun: dryRun)
        }
        let at = now()
        // Judged with the store's pause too: the machine refuses a paused tenant (the gates already did).
        let updated = try StageMachine.promote(judged, tenant: tenant, tool: tool, to: next, by: by, automated: automated, reason: reason,
                                               evidence: evaluation.evidence, at: at)
        let change = updated.history.last!
        let seq = try commit(snap, updated: updated, change: change)
        return Promotion(evaluation: evaluation, change: change, auditSeq: seq, dryRun: false)
    }

    /// Moves back one stage (or to `to`): no gate, always allowed, recorded.
    public func demote(tenant: String, tool: String? = nil, to: Stage? = nil, by: String, automated: Bool = false, reason: String?) throws -> (StageChange, Int64) {
        let snap = try snapshot(tenant: tenant, tool: tool)
        let tenant = snap.tenant
        let updated = try StageMachine.demote(snap.file, tenant: tenant, tool: tool, to: to, by: by, automated: automated, reason: reason, at: now())
        let change = updated.history.last!
        return (change, try commit(snap, updated: updated, change: change))
    }

    /// The kill switch (`paused: true`) and its release, recorded in the store too: guards on every host
    /// that writes the store obey it (`SharedPauses`), and a pause made on another host is resumed here.
    public func pause(tenant: String, paused: Bool, by: String, automated: Bool = false, reason: String?) throws -> (StageChange, Int64) {
        let snap = try snapshot(tenant: tenant)
        let tenant = snap.tenant
        if !paused {
            // Lifting the kill switch rests on the log: with a person's pause taken out of it, any actor could pause
            // again and resume (helper-79). A pause needs no check: stopping must not wait on a long log.
            let check = try store.verify(key: ChainKey.fromEnvironment, anchor: store.anchor)
            if let broken = check.firstBreak {
                throw StageMachine.Refusal("\(tenant) is not resumed: the audit log's hash chain breaks at event #\(broken.seq) (\(broken.problem.rawValue): \(broken.detail)), and a pause taken out of it could be lifted with it; resume once rollout audit verify passes (restore the store from a copy you trust)")
            }
        }
        let shared = try store.sharedPause(tenant: tenant)
        let updated = try StageMachine.pause(snap.file, tenant: tenant, paused: paused, by: by, automated: automated, reason: reason, at: now(),
                                             shared: shared)
        let change = updated.history.last!
        var pause: SharedPause? = SharedPause(tenant: tenant, paused: paused, by: by, automated: automated, reason: reason, at: change.at)
        // A person's pause in the store stays the person's: a bot pausing again on another host must not
        // turn it into a bot's pause, which a bot could then lift.
        if paused, automated, let shared, shared.paused, !shared.automated { pause = nil }
        return (change, try commit(snap, updated: updated, change: change, pause: pause))
    }

    /// The file as the gates judge it: a tenant the store holds paused (from any host) is paused.
    func withSharedPause(_ file: TenantsFile, tenant: String) throws -> TenantsFile {
        guard var config = file.tenant(tenant), !config.paused, let shared = try store.sharedPause(tenant: config.id), shared.paused else { return file }
        config.paused = true
        var out = file
        StageMachine.replace(&out, config)
        return out
    }

    /// Records a person's approval of the tenant's (or tool's) next stage.
    public func approve(tenant: String, tool: String? = nil, stage: Stage, by: String, reason: String) throws -> (StageChange, Int64) {
        let snap = try snapshot(tenant: tenant, tool: tool)
        let tenant = snap.tenant
        let updated = try StageMachine.approve(snap.file, tenant: tenant, tool: tool, stage: stage, by: by, reason: reason, at: now())
        let change = updated.history.last!
        return (change, try commit(snap, updated: updated, change: change))
    }

    /// Writes the new file (and flags) and the audit event in one store transaction; restores the old
    /// files when the transaction does not commit. Returns the audit event's sequence number.
    func commit(_ snap: Snapshot, updated: TenantsFile, change: StageChange, pause: SharedPause? = nil) throws -> Int64 {
        // In place when it can be (comments and layout kept), else regenerated with the header kept.
        let newText = snap.text.flatMap { TenantsEditor.edit($0, from: snap.file, to: updated) }
            ?? TenantsWriter.yaml(updated, header: snap.text.map(TenantsWriter.header(of:)) ?? Self.defaultHeader)
        let flagsPath = folder.flagsPath
        // A file there but unreadable to this user is still rewritten (by rename), every stage in it taken as off.
        let oldFlags = FileManager.default.fileExists(atPath: flagsPath) ? FileManager.default.contents(atPath: flagsPath) ?? Data() : nil
        // The flags say off for a tenant the store holds paused (read now: not inside the transaction), as
        // this change leaves it.
        var storePaused = oldFlags == nil ? [] : Set(try store.sharedPauses().map(\.tenant))
        if let pause {
            storePaused = storePaused.filter { $0 != pause.tenant }
            if pause.paused { storePaused.insert(pause.tenant) }
        }
        let flagsText = oldFlags == nil ? nil : try flagsText(updated.pausing(storePaused), old: oldFlags!, change: change)
        var written = false
        do {
            let stored = try store.commitStageChange(tenant: change.tenant, expectedVersion: snap.version, event: event(for: change, fileText: newText),
                                                     at: change.at, pause: pause) {
                // Someone edited the file (or another rollout process changed it) since it was read.
                guard try folder.readTenantsText() == snap.text else { throw StageConflict(tenant: change.tenant) }
                written = true
                try Self.atomicWrite(newText, to: folder.tenantsPath)
                if let flagsText { try Self.atomicWrite(flagsText, to: flagsPath) }
            }
            return stored.seq
        } catch {
            if written {
                if let old = snap.text { try? Self.atomicWrite(old, to: folder.tenantsPath) }
                if let oldFlags, !oldFlags.isEmpty { try? oldFlags.write(to: URL(fileURLWithPath: flagsPath), options: .atomic) }
            }
            throw error
        }
    }

    /// The flags file after `change`. Only the change itself may raise what the old file gives: a promotion
    /// its tenant (or tool), a resume its tenant. Anything else that would rise (a pause lifted on another host,
    /// a tenant added to tenants.yaml) rests on the store's pauses, which a pause deleted from the log would
    /// lift too: it rises only when the chain verifies, and otherwise stays as the old file had it.
    func flagsText(_ tenants: TenantsFile, old: Data, change: StageChange) throws -> String {
        let tools = policy.tools.map(\.name)
        var stages = FlagdExport.stages(tenants, tools: tools)
        // An old file rollout did not write (edited by hand) gives no stage: everything in it counts as `off`.
        let previous = (try? JSONValue.parse(old)).flatMap(FlagdExport.stages(of:)) ?? [:]
        let raising: (tenant: String, tool: String?)? = switch change.action {
        case .promote: (change.tenant, change.tool)
        case .resume: (change.tenant, nil)
        case .demote, .pause, .approve: nil
        }
        // flagd compares tenant names byte for byte: a name in another Unicode form in the old file is another tenant.
        func was(_ tool: String, _ tenant: String) -> Stage {
            previous[tool]?.first { $0.key.utf8.elementsEqual(tenant.utf8) }?.value ?? .off
        }
        func mayRise(_ tenant: String, _ tool: String) -> Bool {
            guard let raising else { return false }
            return raising.tenant == tenant && (raising.tool == nil || raising.tool == tool)
        }
        var risen: [String] = []
        for tool in tools {
            for (tenant, stage) in stages[tool] ?? [:] where !mayRise(tenant, tool) && stage > was(tool, tenant) {
                risen.append("\(tenant)/\(tool)")
            }
        }
        guard !risen.isEmpty else { return FlagdExport.document(stages: stages, tools: tools).prettyText() + "\n" }
        // A chain that cannot be read (an I/O error) is no chain shown intact: held too, and the change itself (a pause
        // above all) still goes through.
        let check = try? store.verify(key: ChainKey.fromEnvironment, anchor: store.anchor)
        if check?.ok != true {
            let why = check?.firstBreak.map { "the audit log's hash chain breaks at event #\($0.seq) (\($0.problem.rawValue))" } ?? "the audit log's hash chain could not be read"
            for tool in tools {
                for (tenant, stage) in stages[tool] ?? [:] where !mayRise(tenant, tool) {
                    let held = min(stage, was(tool, tenant))
                    stages[tool]?[tenant] = held == .off ? nil : held
                }
            }
            notice?("\(folder.flagsPath): kept \(risen.sorted().joined(separator: ", ")) as the file had it: \(why), so the store's pauses cannot be trusted to lift anything. Run rollout audit verify")
        }
        return FlagdExport.document(stages: stages, tools: tools).prettyText() + "\n"
    }

    func event(for change: StageChange, fileText: String) -> AuditEvent {
        var details: [String: JSONValue] = [
            "action": .string(change.action.rawValue),
            "automated": .bool(change.automated),
            "tenants_file": .string(folder.tenantsPath),
            "tenants_file_digest": .string("sha256:" + JSONValue.string(fileText).canonicalDigest),
        ]
        if let tool = change.tool { details["tool"] = .string(tool) }
        if let from = change.from { details["from"] = .string(from.rawValue) }
        if let to = change.to { details["to"] = .string(to.rawValue) }
        if !change.evidence.isEmpty { details["evidence"] = .object(change.evidence.mapValues(JSONValue.string)) }
        let subject = change.tool.map { "\(change.tenant)/\($0)" } ?? change.tenant
        let message: String
        switch change.action {
        case .promote, .demote: message = "\(change.action.rawValue) \(subject) from \(change.from?.rawValue ?? "?") to \(change.to?.rawValue ?? "?")"
        case .pause, .resume: message = "\(change.action.rawValue) \(subject)"
        case .approve: message = "approve \(subject) for \(change.to?.rawValue ?? "?")"
        }
        return AuditEvent(ts: change.at, tenant: change.tenant, actor: change.by, tool: Self.auditTool, operation: change.action.rawValue,
                          targets: [.string(change.tool ?? "*")], reason: change.reason, decision: "stage_\(change.action.rawValue)",
                          approver: change.evidence["approved_by"], policyDigest: policy.digest, message: message, details: details)
    }

    /// The clock to whole seconds: tenants.yaml records seconds, and a change must read back as written.
    func now() -> Date {
        Date(timeIntervalSince1970: clock.now().timeIntervalSince1970.rounded(.down))
    }

    static let defaultHeader = """
        # Which tenant's agent may use which write tool, at which stage: off -> shadow -> soft -> broad.
        # Written by `rollout promote`, `demote`, `pause` and `approve`; review changes in pull requests.
        """

    static func atomicWrite(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
