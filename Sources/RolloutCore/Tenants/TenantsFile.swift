import Foundation

/// `rollout/tenants.yaml`: which tenant's agent may use which write tool at which stage, the gate
/// settings that promotions must meet, and the history of every stage change with its evidence.
/// Written by `promote`, `demote`, `pause` and `approve`; reviewed in pull requests.
public struct TenantsFile: Sendable, Hashable {
    public var version: Int
    public var gates: GateSettings
    /// Tenants in the order the file lists them.
    public var tenants: [TenantConfig]
    /// Oldest first.
    public var history: [StageChange]
    public var file: String?

    public init(version: Int = 1, gates: GateSettings = GateSettings(), tenants: [TenantConfig], history: [StageChange] = [], file: String? = nil) {
        self.version = version
        self.gates = gates
        self.tenants = tenants
        self.history = history
        self.file = file
    }

    public func tenant(_ id: String) -> TenantConfig? {
        tenants.first { $0.id == id }
    }

    /// The id as this file spells it, for a tenant typed in another Unicode form of the same text (`café`
    /// composed or decomposed); `typed` itself for a tenant not listed. The gates look up a tenant's events
    /// under this spelling (their queries compare bytes).
    public func spelling(of typed: String) -> String {
        tenant(typed)?.id ?? typed
    }

    /// This file's spelling of `typed` when it is the same tenant written with other bytes (another Unicode
    /// form), else nil. The host's rows and the audit log compare bytes: such a tenant would find its stage,
    /// then be recorded where the gates never look and judged against rows it does not match.
    public func spelledOtherwise(_ typed: String) -> String? {
        let listed = spelling(of: typed)
        return Array(listed.utf8) == Array(typed.utf8) ? nil : listed
    }

    /// The stage of `tool` for `tenant`: `off` for an unknown tenant (fail closed) or a paused one.
    public func stage(tenant id: String, tool: String) -> Stage {
        tenant(id)?.effectiveStage(tool: tool) ?? .off
    }
}

/// One tenant's rollout state.
public struct TenantConfig: Sendable, Hashable {
    public var id: String
    public var displayName: String?
    /// The stage of every tool not listed in `tools`.
    public var stage: Stage
    /// When `stage` was last changed; the soak counts from here.
    public var since: Date?
    /// Per-tool stages that differ from `stage`.
    public var tools: [String: Stage]
    /// The kill switch: while paused every tool is off, whatever its stage says.
    public var paused: Bool

    public init(id: String, displayName: String? = nil, stage: Stage, since: Date? = nil, tools: [String: Stage] = [:], paused: Bool = false) {
        self.id = id
        self.displayName = displayName
        self.stage = stage
        self.since = since
        self.tools = tools
        self.paused = paused
    }

    /// The stage a call to `tool` meets now.
    public func effectiveStage(tool: String) -> Stage {
        paused ? .off : tools[tool] ?? stage
    }
}

/// What a promotion needs, for every tenant unless the tenant says otherwise.
public struct GateSettings: Sendable, Hashable {
    /// How long a tenant stays in a stage, with no anomaly, before the next one.
    public var soak: TimeSpan
    /// Days within the soak that must carry traffic for the anomaly gate to judge.
    public var minCoverageDays: Int
    /// Audited calls within the soak needed for the anomaly gate to judge.
    public var minEvents: Int
    /// The fuzz report the fuzz gate reads.
    public var fuzzReport: String
    /// People who may approve a promotion to `broad`.
    public var approvers: [String]
    /// Whether imported events count as the anomaly gate's traffic (they never do unless this says so: an
    /// import is anyone's lines, not what a guard decided). For a folder whose log was imported, like the example's.
    public var importedEvidence = false

    public init(soak: TimeSpan = .days(7), minCoverageDays: Int = 5, minEvents: Int = 50, fuzzReport: String = "reports/fuzz.xml", approvers: [String] = []) {
        self.soak = soak
        self.minCoverageDays = minCoverageDays
        self.minEvents = minEvents
        self.fuzzReport = fuzzReport
        self.approvers = approvers
    }

    /// The settings as they are judged by: recorded with every promotion and in the compliance report,
    /// so a soak weakened to a minute shows in the evidence.
    public var json: JSONValue {
        var settings: [String: JSONValue] = ["soak": .string(soak.description), "min_coverage_days": .number(Double(minCoverageDays)),
                                             "min_events": .number(Double(minEvents)), "fuzz_report": .string(fuzzReport),
                                             "approvers": .array(approvers.sorted().map(JSONValue.string))]
        // Named only when set: the settings' digest recorded by earlier promotions stays what it was.
        if importedEvidence { settings["imported_evidence"] = .bool(true) }
        return .object(settings)
    }

    /// `jcs-sha256:` of the settings' canonical JSON.
    public var digest: String { "jcs-sha256:" + json.canonicalDigest }

    /// The settings as evidence entries: their digest, and each one readable.
    public var evidence: [String: String] {
        var entries = ["gates": digest, "gates.soak": soak.description, "gates.min_coverage_days": String(minCoverageDays), "gates.min_events": String(minEvents),
                       "gates.approvers": approvers.sorted().joined(separator: ",")]
        if importedEvidence { entries["gates.imported_evidence"] = "true" }
        return entries
    }
}

/// A recorded change of stage (or an approval of one), with who, why and the evidence digests.
public struct StageChange: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case promote, demote, pause, resume, approve
    }

    public var at: Date
    public var tenant: String
    /// The tool, or nil when the change applies to the tenant's stage.
    public var tool: String?
    public var action: Action
    public var from: Stage?
    public var to: Stage?
    public var by: String
    /// Made by a program (CI, a bot), not a person: it may demote, never promote past a person's decision.
    public var automated: Bool
    public var reason: String?
    /// Digests of what the decision rested on: policy, fuzz report, anomaly report, audit chain head.
    public var evidence: [String: String]

    public init(at: Date, tenant: String, tool: String? = nil, action: Action, from: Stage? = nil, to: Stage? = nil, by: String, automated: Bool = false,
                reason: String? = nil, evidence: [String: String] = [:]) {
        self.at = at
        self.tenant = tenant
        self.tool = tool
        self.action = action
        self.from = from
        self.to = to
        self.by = by
        self.automated = automated
        self.reason = reason
        self.evidence = evidence
    }
}
