import Foundation
import RolloutCore
import RolloutStore

/// The rules of moving between stages, as pure functions of a `TenantsFile`: forward one step at a
/// time, back any number, pause and resume, approvals recorded. Each returns the new file with the
/// change in its history.
public enum StageMachine {
    /// A change the rules forbid; `badInput` when the request named something that does not exist.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        public var badInput: Bool
        init(_ message: String, badInput: Bool = false) {
            description = message
            self.badInput = badInput
        }
    }

    /// The stage a change starts from: the tool's, or the tenant's.
    public static func current(_ file: TenantsFile, tenant: String, tool: String?) throws -> (TenantConfig, Stage) {
        guard let config = file.tenant(tenant) else {
            throw Refusal("no tenant \(tenant) in \(file.file ?? "tenants.yaml"); tenants: \(file.tenants.map(\.id).joined(separator: ", "))", badInput: true)
        }
        return (config, tool.flatMap { config.tools[$0] } ?? config.stage)
    }

    /// The stage a promotion goes to: the next one, or `to` when it is exactly the next one.
    public static func target(from stage: Stage, to: Stage?) throws -> Stage {
        guard let next = stage.next else { throw Refusal("the stage is already broad") }
        if let to, to != next {
            throw Refusal("promotion moves one step at a time: from \(stage.rawValue) the next stage is \(next.rawValue), not \(to.rawValue)", badInput: true)
        }
        return next
    }

    public static func promote(_ file: TenantsFile, tenant: String, tool: String?, to: Stage, by: String, automated: Bool = false, reason: String?,
                               evidence: [String: String], at: Date) throws -> TenantsFile {
        var (config, from) = try current(file, tenant: tenant, tool: tool)
        if config.paused { throw Refusal("tenant \(tenant) is paused; resume it first") }
        if automated { try checkAutomatedPromotion(file, tenant: tenant, tool: tool) }
        _ = try target(from: from, to: to)
        var out = file
        set(&config, tool: tool, stage: to, at: at)
        replace(&out, config)
        out.history.append(StageChange(at: at, tenant: tenant, tool: tool, action: .promote, from: from, to: to, by: by, automated: automated,
                                       reason: reason, evidence: evidence))
        return out
    }

    public static func demote(_ file: TenantsFile, tenant: String, tool: String?, to: Stage?, by: String, automated: Bool = false, reason: String?, at: Date) throws -> TenantsFile {
        var (config, from) = try current(file, tenant: tenant, tool: tool)
        // A tenant's demotion is a ceiling: a tool promoted on its own above it comes down with it (`off`, the
        // kill switch, leaves no tool live). Recorded in the change, as the tools' stages it lowered. A tenant
        // already at the stage asked for (or at `off`) is still demoted when a tool of its stands above it.
        let target = to ?? from.previous ?? from
        let lowered = tool == nil ? config.tools.filter { $0.value > target }.sorted { $0.key < $1.key } : []
        if lowered.isEmpty {
            guard from > .off || to != nil else { throw Refusal("the stage is already off") }
            guard target < from else { throw Refusal("demote goes down: \(target.rawValue) is not below \(from.rawValue)") }
        } else {
            guard target <= from else { throw Refusal("demote goes down: \(target.rawValue) is not below \(from.rawValue)") }
        }
        var out = file
        set(&config, tool: tool, stage: target, at: at, pinned: true)
        var evidence: [String: String] = [:]
        // A tool a person demoted keeps its own entry, lowered with the tenant: dropped, the tenant's later
        // promotions (automated ones too) would carry it up past the person's decision.
        for (name, _) in lowered { config.tools[name] = personDecision(file, tenant: tenant, tool: name) != nil ? target : nil }
        if !lowered.isEmpty { evidence[loweredTools] = lowered.map { "\($0.key) from \($0.value.rawValue)" }.joined(separator: ", ") }
        replace(&out, config)
        out.history.append(StageChange(at: at, tenant: tenant, tool: tool, action: .demote, from: from, to: target, by: by, automated: automated, reason: reason,
                                       evidence: evidence))
        return out
    }

    /// The kill switch and its release. `shared` is the tenant's pause as the audit store holds it (made
    /// on this host or another): a pause stands while the file or the store says so, so a tenant paused
    /// only in the store is resumed from any host, and one paused only in the file is paused again to
    /// record it in the store.
    public static func pause(_ file: TenantsFile, tenant: String, paused: Bool, by: String, automated: Bool = false, reason: String?, at: Date,
                             shared: SharedPause? = nil) throws -> TenantsFile {
        var (config, stage) = try current(file, tenant: tenant, tool: nil)
        let inStore = shared?.paused ?? false
        if paused, config.paused, inStore { throw Refusal("tenant \(tenant) is already paused") }
        if !paused, !config.paused, !inStore { throw Refusal("tenant \(tenant) is not paused") }
        config.paused = paused
        var out = file
        replace(&out, config)
        if !paused, automated {
            if file.tenant(tenant)?.paused == true, let decision = personDecision(file, tenant: tenant, tool: nil), decision.action == .pause {
                throw Refusal("an automated actor cannot resume a tenant that \(decision.by) paused; a person resumes it")
            }
            if let shared, shared.paused, !shared.automated {
                throw Refusal("an automated actor cannot resume a tenant that \(shared.by) paused; a person resumes it")
            }
        }
        out.history.append(StageChange(at: at, tenant: tenant, action: paused ? .pause : .resume, from: stage, to: stage, by: by, automated: automated, reason: reason))
        return out
    }

    /// Records a person's approval of a promotion to `stage`.
    public static func approve(_ file: TenantsFile, tenant: String, tool: String?, stage: Stage, by: String, reason: String, at: Date) throws -> TenantsFile {
        let (_, current) = try current(file, tenant: tenant, tool: tool)
        guard current.next == stage else {
            throw Refusal("\(tenant) is at \(current.rawValue); an approval is for its next stage (\(current.next?.rawValue ?? "none"))")
        }
        if !file.gates.approvers.isEmpty, !file.gates.approvers.contains(where: { PersonIdentity.same($0, by) }) {
            throw Refusal("\(by) is not an approver; gates.approvers lists \(file.gates.approvers.joined(separator: ", "))")
        }
        var out = file
        out.history.append(StageChange(at: at, tenant: tenant, tool: tool, action: .approve, from: current, to: stage, by: by, reason: reason))
        return out
    }

    /// Refuses an automated promotion that would overrule a person's demotion or pause.
    public static func checkAutomatedPromotion(_ file: TenantsFile, tenant: String, tool: String?) throws {
        guard let decision = personDecision(file, tenant: tenant, tool: tool) else { return }
        let what = decision.action == .pause ? "paused" : "demoted"
        throw Refusal("an automated actor cannot promote past a person's decision: \(decision.by) \(what) \(tenant) at \(Timestamp.formatSeconds(decision.at))\(decision.reason.map { " (\($0))" } ?? ""); a person promotes next")
    }

    /// The person's demotion or pause that an automated promotion would overrule: the latest change a
    /// person made to the tenant (or tool), when it was a step back and no person has moved it forward since.
    /// A tool a person demoted stays demoted through the tenant's later promotions (its stage is pinned), so
    /// for a tool only its own changes lift a person's demotion of it.
    public static func personDecision(_ file: TenantsFile, tenant: String, tool: String?) -> StageChange? {
        func isStepBack(_ c: StageChange) -> Bool { c.action == .demote || c.action == .pause }
        let byPerson = { (c: StageChange) in c.tenant == tenant && !c.automated && c.action != .approve }
        let tenantLast = file.history.lastIndex { byPerson($0) && $0.tool == nil }
        guard let tool else { return tenantLast.flatMap { isStepBack(file.history[$0]) ? file.history[$0] : nil } }
        let toolLast = file.history.lastIndex { byPerson($0) && $0.tool == tool }
        // The history is in the order the changes were made.
        if let tenantLast, isStepBack(file.history[tenantLast]), toolLast.map({ $0 < tenantLast }) ?? true { return file.history[tenantLast] }
        return toolLast.flatMap { isStepBack(file.history[$0]) ? file.history[$0] : nil }
    }

    /// The latest approval for the tenant's (or tool's) move to `stage` made since the stage began.
    public static func approval(_ file: TenantsFile, tenant: String, tool: String?, stage: Stage, since: Date?) -> StageChange? {
        file.history.last { c in
            c.tenant == tenant && c.tool == tool && c.action == .approve && c.to == stage && (since.map { c.at >= $0 } ?? true)
        }
    }

    /// The evidence entry of a tenant's demotion that names the tools' own stages it lowered.
    public static let loweredTools = "tools_lowered"

    /// When the tenant (or tool) entered its current stage. A tool's stage counts from its tenant's later
    /// changes too (a demotion may have lowered it), as the soak read from the log does.
    public static func since(_ file: TenantsFile, tenant: String, tool: String?) -> Date? {
        let tenantSince = file.tenant(tenant)?.since
            ?? file.history.last { $0.tenant == tenant && $0.tool == nil && ($0.action == .promote || $0.action == .demote) }?.at
        if let tool, let change = file.history.last(where: { $0.tenant == tenant && $0.tool == tool && ($0.action == .promote || $0.action == .demote) }) {
            return max(change.at, tenantSince ?? change.at)
        }
        return tenantSince
    }

    /// `pinned` for a tool's demotion: its stage is kept even where it equals the tenant's, so the tenant's next
    /// promotion (an automated one too) leaves it where a person put it, not carried up with the tenant.
    static func set(_ config: inout TenantConfig, tool: String?, stage: Stage, at: Date, pinned: Bool = false) {
        if let tool {
            config.tools[tool] = stage == config.stage && !pinned ? nil : stage
        } else {
            config.stage = stage
            config.since = at
        }
    }

    static func replace(_ file: inout TenantsFile, _ config: TenantConfig) {
        if let i = file.tenants.firstIndex(where: { $0.id == config.id }) { file.tenants[i] = config }
    }
}
