import Foundation
import RolloutCore
import RolloutStore

/// One tenant's line on `rollout status`: its stages, how far through the soak it is, its last anomaly
/// and its last gate verdict. Built from tenants.yaml and the verdicts already recorded in the store,
/// never by scoring again, so that it answers at once on any size of audit log.
public struct TenantStatus: Sendable {
    public var tenant: String
    public var name: String?
    public var stage: Stage
    public var paused: Bool
    public var since: Date?
    /// The stage every write tool of the policy is at for this tenant now (paused: all off).
    public var tools: [(tool: String, stage: Stage)]
    public var next: Stage?
    /// When the soak counts from: the stage's start, or a later anomaly.
    public var soakStart: Date?
    public var soakDays: Double?
    public var soakTotalDays: Double
    public var lastAnomalyAt: Date?
    public var lastAnomaly: String?
    /// When the anomaly verdict was last computed (by `score`, `gate` or `promote`).
    public var scoredAt: Date?
    public var gate: GateRun?
    public var lastEvent: Date?

    public var soakComplete: Bool { (soakDays ?? 0) >= soakTotalDays }

    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "tenant": .string(tenant), "stage": .string(stage.rawValue), "paused": .bool(paused),
            "tools": .object(Dictionary(uniqueKeysWithValues: tools.map { ($0.tool, JSONValue.string($0.stage.rawValue)) })),
            "soak": .object([
                "days": soakDays.map { .number(($0 * 10).rounded() / 10) } ?? .null, "of_days": .number(soakTotalDays),
                "since": soakStart.map { .string(Timestamp.formatSeconds($0)) } ?? .null, "complete": .bool(soakComplete),
            ]),
        ]
        out["name"] = name.map(JSONValue.string) ?? .null
        out["since"] = since.map { .string(Timestamp.formatSeconds($0)) } ?? .null
        out["next"] = next.map { .string($0.rawValue) } ?? .null
        out["last_anomaly"] = lastAnomalyAt.map { at in
            .object(["at": .string(Timestamp.formatSeconds(at)), "message": lastAnomaly.map(JSONValue.string) ?? .null])
        } ?? .null
        out["scored_at"] = scoredAt.map { .string(Timestamp.formatSeconds($0)) } ?? .null
        out["gate"] = gate.map { g in
            .object(["at": .string(Timestamp.formatSeconds(g.at)), "passed": .bool(g.passed), "next": g.nextStage.map(JSONValue.string) ?? .null,
                     "summary": .string(g.summary)])
        } ?? .null
        out["last_event"] = lastEvent.map { .string(Timestamp.formatSeconds($0)) } ?? .null
        return .object(out)
    }
}

public enum StatusBoard {
    /// A line per tenant of `tenants`, in file order; `store` nil when there is no audit store yet.
    public static func build(tenants: TenantsFile, tools: [String], store: AuditStore?, now: Date) throws -> [TenantStatus] {
        // Paused in the store (from this host or another) is paused, whatever this host's file says.
        let tenants = try tenants.withSharedPauses(from: store)
        return try tenants.tenants.map { t in
            let score = try store?.latestScoreRun(tenant: t.id)
            let since = StageMachine.since(tenants, tenant: t.id, tool: nil)
            var soakStart = since
            if let since, let anomaly = score?.lastAnomalyAt, anomaly > since { soakStart = anomaly }
            return TenantStatus(
                tenant: t.id, name: t.displayName, stage: t.stage, paused: t.paused, since: since,
                tools: tools.map { ($0, t.effectiveStage(tool: $0)) }, next: t.stage.next,
                soakStart: soakStart, soakDays: soakStart.map { max(0, now.timeIntervalSince($0)) / 86_400 },
                soakTotalDays: Double(tenants.gates.soak.seconds) / 86_400,
                lastAnomalyAt: score?.lastAnomalyAt, lastAnomaly: score?.lastAnomaly, scoredAt: score?.at,
                gate: try store?.latestGateRun(tenant: t.id), lastEvent: try store?.lastEventTime(tenant: t.id))
        }
    }
}
