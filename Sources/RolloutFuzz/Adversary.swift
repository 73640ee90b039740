import Foundation
import RolloutCore

/// How a fuzz run is bounded and where it writes.
public struct FuzzOptions: Sendable {
    public var seed: UInt64
    /// Total calls; the catalogue always runs whole, random variants use what is left.
    public var calls: Int?
    /// Wall-clock budget in seconds for the random variants (not reproducible byte for byte).
    public var seconds: Double?
    /// Only these policy tools (all when empty).
    public var tools: [String]
    /// Where replay files go; none are written when nil.
    public var replayDirectory: String?
    public var shrink: Bool

    public static let defaultCalls = 2_000

    public init(seed: UInt64 = 1, calls: Int? = nil, seconds: Double? = nil, tools: [String] = [], replayDirectory: String? = nil, shrink: Bool = true) {
        self.seed = seed
        self.calls = calls
        self.seconds = seconds
        self.tools = tools
        self.replayDirectory = replayDirectory
        self.shrink = shrink
    }
}

/// Where a run is, for progress bars and logs.
public struct FuzzProgress: Sendable {
    public var tool: String
    public var attackClass: AttackClass?
    /// Fraction of the catalogue done, 0...1.
    public var fraction: Double
    public var calls: Int
    public var findings: Int
    /// Set when a class has just finished.
    public var finished: ClassResult?
    /// True once every class of `tool` (or the suite) is done.
    public var toolDone = false
    /// In the random phase: seconds left of a time-boxed run (`--time`), nil when it counts calls.
    public var secondsLeft: Double?
    /// In the random phase: the calls it may still make, nil when time-boxed.
    public var callsLeft: Int?
}

/// Everything a run found, for the JUnit report and the summary.
public struct FuzzResult: Sendable {
    public var target: String
    public var policyDigest: String
    public var policyVersion: Int
    public var seed: UInt64
    public var results: [ClassResult]
    public var calls: Int
    public var seconds: Double
    public var startedAt: Date
    /// Tools the target and the policy do not agree on (MCP targets).
    public var coverage: [String] = []
    /// Server processes started for the run (MCP targets).
    public var serverStarts: Int?

    public var findings: [Finding] { results.flatMap(\.findings) }
    public var enforcementGaps: Int { findings.filter { $0.kind == .enforcementGap }.count }
    public var policyGaps: Int { findings.filter { $0.kind == .policyGap }.count }
    public var errors: Int { results.filter { if case .error = $0.status { true } else { false } }.count }
    public var inconclusive: Int { results.filter { if case .inconclusive = $0.status { true } else { false } }.count }
}

/// The adversary: tries every attack class on every write tool of the policy against a target,
/// judges each outcome with the oracle, shrinks what fails and saves it as a replay file. Runs are
/// seeded: the same seed and budget give the same findings.
public final class Adversary {
    public let policy: Policy
    public let target: FuzzTarget
    public let options: FuzzOptions
    let progress: (FuzzProgress) -> Void
    let gaps: [SafetyBaseline.Gap]
    private var calls = 0
    private var findingCount = 0
    /// Rows of each model right after a reset: the same every time, so read once.
    private var pristineRows: [String: [JSONValue: [String: JSONValue]]] = [:]
    /// The same rows as attacks draw them, sorted and split by tenant once per model.
    private var pristineRowSets: [String: CallFactory.RowSets] = [:]
    /// The live rows of each model a tool's field names by key (`CallFactory.referencedRows`), sorted once.
    private var sortedRows: [String: [(key: JSONValue, row: [String: JSONValue])]] = [:]
    /// Each tool's baselines, made once from those rows and shared by every factory of the tool.
    private var baselineMemos: [String: BaselineMemo] = [:]
    /// Each tool's writable fields that name rows by key, with the model each names (declared, or read from
    /// the field's name): the same for the whole run, and asked for by every factory.
    private var referencedModels: [String: [(field: String, model: ModelPolicy)]] = [:]
    /// What the adversary learned through the target's reads (nil when it reads rows directly).
    private(set) var knowledge: Knowledge?
    /// Baselines the target took, per tool, in knowledge mode.
    private var probed: [String: [(targets: [JSONValue], fields: [String: JSONValue])]] = [:]
    /// The tool the current attack is on, for the leak oracle.
    private var currentTool: String?
    /// Calls whose answers carried internals, by tool.
    private var leaks: [String: [Finding]] = [:]
    /// The answer to the latest call, for the per-attack record.
    private var lastOutcome: CallOutcome?
    /// Secrets the target's log must hold only as marks; nil where the log cannot be read.
    private var secretOracle: SecretLogOracle?
    /// How far the log has been read.
    private var logMark: AuditLogMark?
    /// The calls made on the log read so far (since the target's last reset).
    private var loggedSteps: [AttackStep] = []

    public init(policy: Policy, target: FuzzTarget, options: FuzzOptions, progress: @escaping (FuzzProgress) -> Void = { _ in }) {
        self.policy = policy
        self.target = target
        self.options = options
        self.progress = progress
        gaps = SafetyBaseline.gaps(policy)
    }

    /// The tools a run covers, in policy order.
    public var tools: [ToolPolicy] {
        options.tools.isEmpty ? policy.tools : policy.tools.filter { options.tools.contains($0.name) }
    }

    public func run() async throws -> FuzzResult {
        let started = Date()
        let clock = DispatchTime.now()
        if let directory = options.replayDirectory { try ReplayFile.clear(directory) }
        var results: [ClassResult] = []
        let classes = AttackClass.perTool
        let total = Double(max(tools.count * classes.count + 2, 1))
        try await learn()
        try await watchLog()
        for tool in tools {
            if let refusal = try await baselineRefusal(tool) {
                // Every attack on this tool would be refused for the same reason as the valid call: say so.
                for attackClass in classes {
                    results.append(ClassResult(tool: tool.name, attackClass: attackClass, status: .inconclusive(refusal), findings: [], calls: 0, attacks: 0, seconds: 0))
                }
                progress(FuzzProgress(tool: tool.name, attackClass: nil, fraction: Double(results.count) / total, calls: calls, findings: findingCount, finished: results.last, toolDone: true))
                continue
            }
            for attackClass in classes {
                progress(FuzzProgress(tool: tool.name, attackClass: attackClass, fraction: Double(results.count) / total, calls: calls, findings: findingCount))
                let result = try await runClass(attackClass, tool: tool)
                results.append(result)
                findingCount += result.findings.count
                progress(FuzzProgress(tool: tool.name, attackClass: attackClass, fraction: Double(results.count) / total, calls: calls, findings: findingCount,
                                      finished: result, toolDone: attackClass == classes.last))
            }
        }
        results.append(try await runUndescribed())
        progress(FuzzProgress(tool: UndescribedAttacks.suite, attackClass: .undescribed, fraction: Double(results.count) / total, calls: calls,
                              findings: findingCount, finished: results.last, toolDone: true))
        results.append(try await runReads())
        progress(FuzzProgress(tool: ReadAttacks.suite, attackClass: .readScope, fraction: Double(results.count) / total, calls: calls,
                              findings: findingCount, finished: results.last, toolDone: true))
        try await runRandomPhase(into: &results, startedAt: clock)
        // Every call of a tool was judged for leaks along the way: one case per tool.
        for tool in tools {
            let found = leaks[tool.name] ?? []
            let inconclusive = results.contains { r in
                guard r.tool == tool.name, case .inconclusive = r.status else { return false }
                return true
            }
            if inconclusive && found.isEmpty { continue }
            results.append(ClassResult(tool: tool.name, attackClass: .leak, status: found.isEmpty ? .passed : .failed, findings: found,
                                       calls: 0, attacks: 0, seconds: 0))
        }
        if let directory = options.replayDirectory {
            results = try ReplayFile.save(results, policy: policy, seed: options.seed, target: target.description, directory: directory)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock.uptimeNanoseconds) / 1e9
        // The calls the target was really sent: learning reads, probes, resets and attacks.
        let sent = await target.callsSent()
        var result = FuzzResult(target: target.description, policyDigest: policy.digest, policyVersion: policy.version, seed: options.seed,
                                results: results, calls: sent, seconds: seconds, startedAt: started)
        result.coverage = target.coverage()
        result.serverStarts = await target.serverStarts()
        return result
    }

    /// The target's rows of `model` before any attack, read once per run.
    func pristine(_ model: ModelPolicy) async throws -> [JSONValue: [String: JSONValue]] {
        if let cached = pristineRows[model.name] { return cached }
        let rows = try await target.rows(model) ?? [:]
        pristineRows[model.name] = rows
        return rows
    }

    func factory(for tool: ToolPolicy, label: String) async throws -> CallFactory {
        let model = policy.model(named: tool.model)!
        let rows = try await pristine(model)
        let rowSets = pristineRowSets[model.name] ?? CallFactory.RowSets(rows, model: model, tenants: target.tenants)
        pristineRowSets[model.name] = rowSets
        var factory = CallFactory(policy: policy, tool: tool, rowSets: rowSets, tenants: target.tenants, keyPrefix: "fuzz-\(options.seed)-\(label)")
        // The pristine rows are read once per run, so one tool's baselines are the same in every factory.
        let memo = baselineMemos[tool.name] ?? BaselineMemo()
        baselineMemos[tool.name] = memo
        factory.made = memo
        factory.knowledge = knowledge
        factory.probed = probed[tool.name] ?? []
        // Rows of the models the tool's fields name by key: what valid calls and reference attacks name.
        let references = referencedModels[tool.name] ?? tool.writable.compactMap { name in
            (model.field(name)?.references.flatMap(policy.model(named:)) ?? SafetyBaseline.unreferencedKey(name, of: model, in: policy))
                .map { (field: name, model: $0) }
        }
        referencedModels[tool.name] = references
        for (name, named) in references {
            let namedRows = try await pristine(named)
            let sorted = sortedRows[named.name] ?? CallFactory.sortedRows(namedRows).filter { !named.isDeleted($0.row) }
            sortedRows[named.name] = sorted
            factory.referencedRows[name] = (named, sorted)
        }
        // A guard lists the arguments it takes for the server (a reason, a key); the bare server does not take them.
        if !tool.guardArguments.isEmpty, let schema = target.toolSchemas[tool.toolName] {
            let properties = schema["properties"]?.objectValue ?? [:]
            factory.sendGuardArguments = tool.guardArguments.allSatisfy { properties[$0] != nil }
        }
        return factory
    }

    /// Reads the target to learn its ids and values, when its rows cannot be read directly and its policy
    /// has reads or lookups to learn through.
    func learn() async throws {
        let needs = policy.tools.contains { !$0.lookups.isEmpty || $0.principalField != nil } || !policy.reads.isEmpty
        guard needs, !target.toolSchemas.isEmpty else { return }
        var learned = Knowledge(subject: target.subjects.own, otherSubject: target.subjects.other)
        let target = self.target
        _ = try await Learner.learn(policy: policy, schemas: target.toolSchemas, knowledge: &learned) { call in
            try await target.learn(call)
        }
        knowledge = learned
    }

    /// Runs one class. A target that breaks (exits, hangs, garbles) ends the whole run: its error is thrown.
    func runClass(_ attackClass: AttackClass, tool: ToolPolicy) async throws -> ClassResult {
        let start = DispatchTime.now()
        let before = calls
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        try await target.reset()
        currentTool = tool.name
        var factory = try await factory(for: tool, label: "\(tool.name)-\(attackClass.rawValue)")
        let plan = AttackCatalogue.plan(attackClass, factory: &factory, capabilities: target.capabilities, gaps: gaps)
        switch plan {
        case .skipped(let why):
            return ClassResult(tool: tool.name, attackClass: attackClass, status: .skipped(why), findings: [], calls: 0, attacks: 0, seconds: elapsed())
        case .attacks(let attacks), .partial(let attacks, _):
            // A class with no attack to make tested nothing: passed, it would count as evidence of a safe tool.
            if attacks.isEmpty {
                var why = "no attack of this class applies to the tool here"
                var skipped = ClassResult(tool: tool.name, attackClass: attackClass, status: .skipped(why), findings: [], calls: 0, attacks: 0, seconds: elapsed())
                if case .partial(_, let unreachable) = plan, !unreachable.isEmpty {
                    why += ": " + unreachable.joined(separator: "; ")
                    skipped.status = .skipped(why)
                    skipped.unreachable = unreachable
                }
                return skipped
            }
            var findings: [Finding] = []
            var outcomes: [(variant: String, answer: String, call: JSONValue)] = []
            for (i, attack) in attacks.enumerated() {
                if i > 0 && target.capabilities.cheapReset { try await target.reset() }
                lastOutcome = nil
                if let finding = try await execute(attack) { findings.append(finding) }
                outcomes.append((attack.variant, lastOutcome?.summary ?? "", attack.step.call.arguments))
            }
            var result = ClassResult(tool: tool.name, attackClass: attackClass, status: findings.isEmpty ? .passed : .failed,
                                     findings: findings, calls: calls - before, attacks: attacks.count, seconds: elapsed())
            result.outcomes = outcomes
            if case .partial(_, let unreachable) = plan { result.unreachable = unreachable }
            return result
        }
    }

    /// Every tool the target lists that the policy does not describe, and realistic names no policy
    /// names: each must be refused.
    func runUndescribed() async throws -> ClassResult {
        let start = DispatchTime.now()
        let before = calls
        try await target.reset()
        var findings: [Finding] = []
        let attacks = UndescribedAttacks.plan(policy: policy, listed: target.listedTools, tenants: target.tenants)
        for attack in attacks {
            if target.capabilities.cheapReset { try await target.reset() }
            if let finding = try await execute(attack) {
                findingCount += 1
                findings.append(finding)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return ClassResult(tool: UndescribedAttacks.suite, attackClass: .undescribed, status: findings.isEmpty ? .passed : .failed,
                           findings: findings, calls: calls - before, attacks: attacks.count, seconds: seconds)
    }

    /// Why the target refuses the adversary's valid baseline call for `tool`, or nil when it takes it. In
    /// knowledge mode several calls the policy allows are probed, and the ones the target takes become the
    /// baselines every attack starts from (the server may check what the policy does not: an item of the
    /// same product).
    func baselineRefusal(_ tool: ToolPolicy) async throws -> String? {
        try await target.reset()
        var factory = try await factory(for: tool, label: "\(tool.name)-baseline")
        if factory.knowledgeMode {
            let candidates = factory.search(limit: 8, distinctTargets: true) { factory.isValid($0, $1) }
            guard !candidates.isEmpty else {
                return "the adversary found no call of \(tool.name) that the policy allows among what it learned through the target's reads (\(knowledge?.reads.count ?? 0) reads); attacks would prove nothing"
            }
            var accepted: [(targets: [JSONValue], fields: [String: JSONValue])] = []
            var lastRefusal = ""
            for candidate in candidates where accepted.count < 3 {
                try await target.reset()
                let args = factory.arguments(targets: candidate.targets, fields: candidate.fields, reason: .string(CallFactory.goodReason), key: factory.nextKey())
                currentTool = tool.name
                let outcome = try await call(AttackStep(ToolCall(tool: tool.toolName, arguments: args)))
                if outcome.verdict == .refused {
                    lastRefusal = outcome.summary
                } else {
                    accepted.append(candidate)
                    target.noteStateChanged()
                }
            }
            guard !accepted.isEmpty else {
                return "the target refused every one of \(candidates.count) calls of \(tool.name) the policy allows (last: \(lastRefusal)); attacks on this tool would prove nothing (does the policy match the target?)"
            }
            probed[tool.name] = accepted
            return nil
        }
        guard let step = AttackCatalogue.baselineStep(&factory, index: 0) else {
            // No valid call to start from: every class would be skipped, and a tool no attack reached is untested.
            return "\(AttackCatalogue.noRows) (\(tool.model)), so the adversary has no valid call of \(tool.name) to start from; attacks on this tool would prove nothing"
        }
        let before = try await Oracle.snapshot(target, policy: policy)
        let outcome = try await call(step)
        if before != (try await Oracle.snapshot(target, policy: policy)) { target.noteStateChanged() }
        guard outcome.verdict == .refused else { return nil }
        return "the target refused the adversary's valid call \(step.call.tool.debugDescription) \(Redactor(policy: policy).redact(step.call.arguments).canonicalText.prefix(200)): \(outcome.summary); attacks on this tool would prove nothing (does the policy match the target?)"
    }

    func call(_ step: AttackStep) async throws -> CallOutcome {
        calls += 1
        guard let tenant = target.tenants.name(step.tenant) else { throw TargetFailure("the target has no \(step.tenant.rawValue) tenant") }
        let outcome = try await target.call(step.call, tenant: tenant)
        noteLeak(step, outcome)
        noteLoggedSecret(step)
        lastOutcome = outcome
        return outcome
    }

    /// Starts reading the target's audit log for secrets in the clear, where the target lets it be read.
    func watchLog() async throws {
        guard let (_, mark) = target.auditLog(since: nil), let rows = try await Oracle.snapshot(target, policy: policy) else { return }
        secretOracle = SecretLogOracle(policy: policy, rows: rows)
        logMark = mark
    }

    /// The log oracle, after every call and rollback: an entry that holds a secret the adversary knows (one it
    /// sent, one the rows hold) in the clear is a leak of the tool the call was for.
    func noteLoggedSecret(_ step: AttackStep) {
        guard secretOracle != nil, let (entries, mark) = target.auditLog(since: logMark) else { return }
        // Changed in place: a copy would copy what the calls sent, at every call.
        if mark.generation != logMark?.generation {
            secretOracle!.forgetSent()
            loggedSteps.removeAll()
        }
        logMark = mark
        secretOracle!.noteSent(step.call.arguments)
        let oracle = secretOracle!
        // What ran before it on this log (the last 16 calls: an attack's setup is a few), a finding's setup,
        // so that its replay logs what was found.
        let setup = loggedSteps
        loggedSteps.append(step)
        if loggedSteps.count > 16 { loggedSteps.removeFirst() }
        // Judged for the policy tool the call was for, as the answers are (`noteLeak`).
        guard let tool = policy.entries(forWireName: step.call.tool).first?.name, policy.tool(named: tool) != nil else { return }
        for event in entries {
            for (path, field) in oracle.clearSecrets(in: event) where (leaks[tool]?.count ?? 0) < 3 {
                let variant = "the audit log holds \(field) in the clear"
                guard !(leaks[tool] ?? []).contains(where: { $0.variant == variant }) else { continue }
                leaks[tool, default: []].append(Finding(
                    tool: tool, attackClass: .leak, kind: .enforcementGap, variant: variant, setup: setup, step: step, expectation: .refused,
                    observed: "audit event \(event.seq) (\(event.tool), \(event.decision)) holds the value of \(field) unredacted at \(path)",
                    rule: Self.secretRule, replayFile: nil))
                findingCount += 1
            }
        }
    }

    /// Re-runs a leak finding's calls on the reset target: what they leak now, in the answers or the log, when
    /// it is the same leak; nil when it is gone.
    func replayLeak(_ file: ReplayFile) async throws -> String? {
        currentTool = file.tool
        // The file holds marks where secrets were sent: each way of filling them is tried on a fresh target.
        for variant in 0..<SecretLogOracle.unmaskVariants {
            if variant > 0 { try await target.reset() }
            try await watchLog()
            leaks.removeAll()
            func unmasked(_ step: AttackStep) -> AttackStep {
                guard let oracle = secretOracle else { return step }
                var out = step
                out.call.arguments = oracle.unmasked(step.call.arguments, variant: variant)
                return out
            }
            for setup in file.setup { _ = try await call(unmasked(setup)) }
            _ = try await call(unmasked(file.step))
            if let observed = leaks[file.tool]?.first(where: { $0.variant == file.variant })?.observed { return observed }
            if secretOracle == nil { break }
        }
        return nil
    }

    static let secretRule = "secret: true fields and credential-named members reach the audit log only as hmac: marks"

    /// The leak oracle, on every answer: internals in it are a finding for the tool the call was for.
    func noteLeak(_ step: AttackStep, _ outcome: CallOutcome) {
        guard let tool = policy.entries(forWireName: step.call.tool).first?.name ?? currentTool, policy.tool(named: tool) != nil,
            policy.entries(forWireName: step.call.tool).contains(where: { $0.name == tool }) else { return }
        // What the adversary sent comes back in many answers (an echo of the arguments): only the rest can leak.
        let sent = Self.strings(in: step.call.arguments)
        guard let leak = LeakDetector.leak(in: outcome.raw, cleaning: { EchoRemover.remove(sent, from: $0) }), (leaks[tool]?.count ?? 0) < 3 else { return }
        let variant = "the answer to \(step.call.tool) holds \(leak.split(separator: ":").first ?? "internals")"
        guard !(leaks[tool] ?? []).contains(where: { $0.variant == variant }) else { return }
        leaks[tool, default: []].append(Finding(
            tool: tool, attackClass: .leak, kind: .enforcementGap, variant: variant, setup: [], step: step, expectation: .refused,
            observed: String(leak.prefix(160)), rule: "no answer carries internals: SQL, parameters, stack traces, file paths", replayFile: nil))
        findingCount += 1
    }

    /// Every string in a JSON value.
    static func strings(in value: JSONValue) -> [String] {
        switch value {
        case .string(let s): [s]
        case .array(let items): items.flatMap(strings)
        case .object(let members): members.values.flatMap(strings)
        default: []
        }
    }

    /// Reads must not show another user's or tenant's data, or a row the server calls deleted.
    func runReads() async throws -> ClassResult {
        let start = DispatchTime.now()
        let before = calls
        currentTool = nil
        var findings: [Finding] = []
        var pristine: [String: [JSONValue: [String: JSONValue]]?] = [:]
        try await target.reset()
        for model in policy.models {
            if let cached = pristineRows[model.name] { pristine[model.name] = cached } else { pristine[model.name] = try await target.rows(model) }
        }
        let attacks = ReadAttacks.plan(policy: policy, listed: Set(target.listedTools), schemas: target.toolSchemas, knowledge: knowledge,
                                       rows: pristine, tenants: target.tenants, subjects: target.subjects)
        for attack in attacks {
            try await target.reset()
            if let finding = try await execute(attack) {
                findingCount += 1
                findings.append(finding)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let status: ClassResult.Status = attacks.isEmpty ? .skipped("no read the policy describes can be checked for scope here")
            : findings.isEmpty ? .passed : .failed
        return ClassResult(tool: ReadAttacks.suite, attackClass: .readScope, status: status, findings: findings, calls: calls - before,
                           attacks: attacks.count, seconds: seconds)
    }

    /// Runs an attack and judges it; returns the (shrunk) finding when a safe system would have acted otherwise.
    func execute(_ attack: Attack) async throws -> Finding? {
        if attack.expectation == .restored { return try await executeRollback(attack) }
        guard let (outcome, violation) = try await attempt(attack, step: attack.step) else { return nil }
        var step = attack.step
        var observed = violation
        if options.shrink, target.capabilities.cheapReset, attack.setup.isEmpty {
            let smaller = try await Shrinker.shrink(step.call.arguments) { candidate in
                try await target.reset()
                return try await attempt(attack, step: AttackStep(ToolCall(tool: step.call.tool, arguments: candidate), as: step.tenant)) != nil
            }
            if smaller != step.call.arguments {
                step.call.arguments = smaller
                try await target.reset()
                observed = try await attempt(attack, step: step)?.1 ?? violation
            }
        }
        _ = outcome
        return Finding(
            tool: attack.tool, attackClass: attack.attackClass, kind: attack.kindIfViolated, variant: attack.variant,
            setup: attack.setup, step: step, expectation: attack.expectation, observed: observed,
            rule: attack.baselineGap.map { "safety baseline: \($0)" } ?? "policy: \(Self.rule(for: attack, policy: policy))",
            replayFile: nil)
    }

    /// Setup, then the step; the outcome and the violation when there is one.
    func attempt(_ attack: Attack, step: AttackStep) async throws -> (CallOutcome, String)? {
        for setup in attack.setup { _ = try await call(setup) }
        let before = try await Oracle.snapshot(target, policy: policy)
        let outcome = try await call(step)
        let after = try await Oracle.snapshot(target, policy: policy)
        if before != after { target.noteStateChanged() }
        guard let violation = Oracle.violation(attack.expectation, outcome: outcome, before: before, after: after, tenants: target.tenants, policy: policy) else {
            return nil
        }
        return (outcome, violation)
    }

    func executeRollback(_ attack: Attack) async throws -> Finding? {
        let before = try await Oracle.snapshot(target, policy: policy)
        var executed: [(step: AttackStep, outcome: CallOutcome)] = []
        for setup in attack.setup {
            let outcome = try await call(setup)
            if outcome.verdict == .accepted { executed.append((setup, outcome)) }
        }
        var refusals: [String] = []
        for (step, outcome) in executed.reversed() {
            calls += 1
            if let undo = try await target.rollback(outcome), undo.verdict != .accepted { refusals.append(undo.summary) }
            noteLoggedSecret(step)
        }
        let after = try await Oracle.snapshot(target, policy: policy)
        var violation = Oracle.violation(.restored, outcome: CallOutcome(verdict: .accepted, code: nil, message: ""), before: before, after: after, tenants: target.tenants, policy: policy)
        if violation == nil, !refusals.isEmpty { violation = "rollback refused: \(refusals[0])" }
        guard let violation else { return nil }
        return Finding(tool: attack.tool, attackClass: .rollback, kind: .enforcementGap, variant: attack.variant, setup: attack.setup,
                       step: attack.step, expectation: .restored, observed: violation,
                       rule: "policy: every executed write has before and after values and can be rolled back", replayFile: nil)
    }

    /// The policy rule an attack tests, in words.
    static func rule(for attack: Attack, policy: Policy) -> String {
        let tool = policy.tool(named: attack.tool)
        switch attack.attackClass {
        case .reason: return "reason: \(tool?.reason.required == true ? "required" : "optional"), at most \(tool?.reason.maxLength ?? 0) characters"
        case .idempotency: return "idempotency: \(tool?.idempotencyRequired == true ? "required" : "optional"); a key replays its first call and binds to it"
        case .fields: return "writable: [\(tool?.writable.joined(separator: ", ") ?? "")]"
        case .tenant: return "rows are scoped to the caller's tenant; arguments never widen authority"
        case .values: return "the model's field rules"
        case .rows: return "dry_run above \(tool?.dryRunAboveRows.map(String.init) ?? "-") rows, max_rows \(tool?.maxRows.map(String.init) ?? "-")"
        case .caps: return "cap \(tool?.cap?.description ?? "-"), actor cap \(tool?.actorCap?.description ?? "-")"
        case .approval: return "approval when \(tool?.approval?.when.source.canonicalText ?? "-")"
        case .injection: return "text in a field or reason never changes authority"
        case .stage: return "off: refused; shadow: nothing executes"
        case .names: return "only names the policy spells exactly can write"
        case .rollback: return "every executed write can be rolled back"
        case .unbound: return "extra_args: \(tool?.extraArguments.rawValue ?? "refuse"); the tool declares only \(tool?.declaredPointers.map(\.description).sorted().joined(separator: ", ") ?? "")"
        case .rules:
            let name = attack.variant.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
            return "rule \(name): \(tool?.rules.first { $0.name == name }?.message ?? attack.variant)"
        case .dryRun: return "a call with its dry-run flag changes nothing"
        case .leak: return "no answer carries internals: SQL, parameters, stack traces, file paths"
        case .readScope: return "a read shows the caller's own data only, and no deleted row"
        case .undescribed: return "default deny: a tool the policy describes neither as a write nor as a read is refused"
        }
    }

    // MARK: random variants

    /// Random values, names and fields on random tools, with what is left of the budget.
    func runRandomPhase(into results: inout [ClassResult], startedAt: DispatchTime) async throws {
        let budget = options.calls ?? (options.seconds == nil ? FuzzOptions.defaultCalls : Int.max)
        let deadline = options.seconds.map { startedAt.uptimeNanoseconds + UInt64($0 * 1e9) }
        guard !tools.isEmpty else { return }
        var rng = SeededRandom(seed: options.seed).derived("random-phase")
        var generated = 0
        let startCalls = calls
        let startTime = DispatchTime.now().uptimeNanoseconds
        while calls < budget {
            let now = DispatchTime.now().uptimeNanoseconds
            if let deadline, now >= deadline { break }
            // Progress of this phase: time when it is time-boxed, calls otherwise.
            var report = FuzzProgress(tool: "random variants", attackClass: nil, fraction: 0, calls: calls, findings: findingCount)
            if let deadline {
                report.secondsLeft = Double(deadline - now) / 1e9
                report.fraction = Double(now - startTime) / Double(max(1, deadline - startTime))
            } else {
                report.callsLeft = budget - calls
                report.fraction = Double(calls - startCalls) / Double(max(1, budget - startCalls))
            }
            progress(report)
            let tool = tools[Int.random(in: 0..<tools.count, using: &rng)]
            let choice = Int.random(in: 0..<3, using: &rng)
            // A costly reset (restarting a server) is not worth it for attacks that expect a refusal.
            if target.capabilities.cheapReset { try await target.reset() }
            var factory = try await factory(for: tool, label: "\(tool.name)-random-\(generated)")
            generated += 1
            guard let attack = RandomVariants.attack(choice, factory: &factory, rng: &rng) else {
                calls += 1  // count the attempt so a tool with nothing to vary cannot spin forever
                continue
            }
            guard let finding = try await execute(attack),
                let index = results.firstIndex(where: { $0.tool == tool.name && $0.attackClass == attack.attackClass })
            else { continue }
            // Keep one finding per variant kind; the catalogue usually found it already.
            if !results[index].findings.contains(where: { $0.kind == finding.kind && $0.variant.hasPrefix(finding.variant.components(separatedBy: ":").first ?? "") }) {
                results[index].findings.append(finding)
                results[index].status = .failed
                findingCount += 1
            }
        }
    }
}
