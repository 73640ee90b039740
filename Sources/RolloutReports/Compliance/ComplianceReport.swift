import Foundation
import RolloutCore

/// What the compliance report says about a period, apart from the rows of every call: the chain
/// verdict, the tenants and their stages, counts per day and decision, refusals by code, approvals,
/// rollbacks, stage changes and anomalies. Its canonical JSON, with the digest of the rows, is what the
/// report's digest covers, so a later reader can tell whether any of the three files was edited.
public struct ComplianceReport: Sendable {
    /// The hash chain's verdict, and the head the report covers.
    public struct Chain: Sendable {
        public var ok: Bool
        public var checked: Int
        public var headSeq: Int64
        public var headHash: String
        public var breakSeq: Int64?
        public var problem: String?
        public var detail: String?

        public init(ok: Bool, checked: Int, headSeq: Int64, headHash: String, breakSeq: Int64? = nil, problem: String? = nil, detail: String? = nil) {
            self.ok = ok
            self.checked = checked
            self.headSeq = headSeq
            self.headHash = headHash
            self.breakSeq = breakSeq
            self.problem = problem
            self.detail = detail
        }
    }

    public struct Tenant: Sendable {
        public var id: String
        public var name: String?
        public var stage: String
        public var paused: Bool
        /// Tools at a stage of their own.
        public var tools: [String: String]

        public init(id: String, name: String?, stage: String, paused: Bool, tools: [String: String]) {
            self.id = id
            self.name = name
            self.stage = stage
            self.paused = paused
            self.tools = tools
        }
    }

    /// Calls of one day per decision category.
    public struct Day: Sendable {
        public var day: String
        public var counts: [DecisionCategory: Int]

        public init(day: String, counts: [DecisionCategory: Int]) {
            self.day = day
            self.counts = counts
        }
    }

    public struct Refusal: Sendable {
        public var code: String
        public var count: Int
        public var example: String?

        public init(code: String, count: Int, example: String?) {
            self.code = code
            self.count = count
            self.example = example
        }
    }

    /// An event of the period listed in full: an approval, a rollback, a stage change.
    public struct Entry: Sendable {
        public var seq: Int64
        public var ts: Date
        public var tenant: String
        public var tool: String
        public var actor: String
        public var decision: String
        public var approver: String?
        public var reason: String?
        public var message: String?
        /// approval_id, rollback_of, from, to, evidence.
        public var details: [String: JSONValue]

        public init(_ event: AuditEvent) {
            seq = event.seq
            ts = event.ts
            tenant = event.tenant
            tool = event.tool
            actor = event.actor
            decision = event.decision
            approver = event.approver
            reason = event.reason
            message = event.message
            details = event.details
        }
    }

    public struct Anomaly: Sendable {
        public var tenant: String
        public var start: Date
        public var end: Date
        public var family: String
        public var signal: String
        public var message: String
        public var events: [Int64]

        public init(tenant: String, start: Date, end: Date, family: String, signal: String, message: String, events: [Int64]) {
            self.tenant = tenant
            self.start = start
            self.end = end
            self.family = family
            self.signal = signal
            self.message = message
            self.events = events
        }
    }

    public var from: Date
    public var to: Date
    /// The tenants asked for; empty: all.
    public var scope: [String]
    public var generatedAt: Date
    public var rolloutVersion: String
    public var policyDigest: String?
    public var chain: Chain
    public var tenants: [Tenant]
    public var days: [Day]
    public var byDecision: [String: Int]
    public var refusals: [Refusal]
    public var approvals: [Entry]
    public var rollbacks: [Entry]
    public var stageChanges: [Entry]
    public var anomalies: [Anomaly]
    /// Whether anomalies were scored (they are skipped with `--no-anomalies`).
    public var anomaliesScored: Bool
    /// Calls listed in the rows files, and the SHA-256 of their JSON Lines form.
    public var rows: Int
    public var rowsDigest: String
    /// The last event the rows were read through (the chain head when the listing began): with the
    /// period and scope, what `report --verify` lists again from the store to compare.
    public var rowsThrough: Int64?
    /// The SHA-256 of writes.csv, when one was written: the report's digest (and signature) then covers the
    /// file people open in a spreadsheet, not only the JSON Lines form.
    public var csvDigest: String?
    /// Lists longer than this were cut (the rows files have everything).
    public var listLimit: Int
    /// The calls report.html shows (the first ones), when it was written: `report --verify` renders it again.
    public var htmlRows: Int?
    /// The gate settings of tenants.yaml when the report was made (soak, evidence thresholds, approvers).
    public var gates: JSONValue?

    public init(from: Date, to: Date, scope: [String], generatedAt: Date, rolloutVersion: String, policyDigest: String?, chain: Chain,
                tenants: [Tenant], days: [Day], byDecision: [String: Int], refusals: [Refusal], approvals: [Entry], rollbacks: [Entry],
                stageChanges: [Entry], anomalies: [Anomaly], anomaliesScored: Bool, rows: Int, rowsDigest: String, listLimit: Int) {
        self.from = from
        self.to = to
        self.scope = scope
        self.generatedAt = generatedAt
        self.rolloutVersion = rolloutVersion
        self.policyDigest = policyDigest
        self.chain = chain
        self.tenants = tenants
        self.days = days
        self.byDecision = byDecision
        self.refusals = refusals
        self.approvals = approvals
        self.rollbacks = rollbacks
        self.stageChanges = stageChanges
        self.anomalies = anomalies
        self.anomaliesScored = anomaliesScored
        self.rows = rows
        self.rowsDigest = rowsDigest
        self.listLimit = listLimit
    }

    /// Calls per decision category over the period.
    public var totals: [DecisionCategory: Int] {
        var out: [DecisionCategory: Int] = [:]
        for (decision, count) in byDecision { out[DecisionCategory(decision: decision), default: 0] += count }
        return out
    }

    /// Everything the report states, without its digest.
    public var json: JSONValue {
        func time(_ d: Date) -> JSONValue { .string(Timestamp.formatSeconds(d)) }
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func entry(_ e: Entry) -> JSONValue {
            ["seq": .number(Double(e.seq)), "ts": time(e.ts), "tenant": .string(e.tenant), "tool": .string(e.tool), "actor": .string(e.actor),
             "decision": .string(e.decision), "approver": opt(e.approver), "reason": opt(e.reason), "message": opt(e.message),
             "details": .object(e.details)]
        }
        var chainJSON: [String: JSONValue] = [
            "ok": .bool(chain.ok), "checked": .number(Double(chain.checked)),
            "head": ["seq": .number(Double(chain.headSeq)), "hash": .string(chain.headHash)],
        ]
        if let seq = chain.breakSeq {
            chainJSON["break"] = ["seq": .number(Double(seq)), "problem": opt(chain.problem), "detail": opt(chain.detail)]
        }
        return [
            "report": "rollout compliance report",
            "period": ["from": time(from), "to": time(to)],
            "scope": .array(scope.map(JSONValue.string)),
            "generated_at": time(generatedAt),
            "rollout_version": .string(rolloutVersion),
            "policy_digest": opt(policyDigest),
            "chain": .object(chainJSON),
            "tenants": .array(tenants.map { t in
                ["id": .string(t.id), "name": opt(t.name), "stage": .string(t.stage), "paused": .bool(t.paused),
                 "tools": .object(t.tools.mapValues(JSONValue.string))]
            }),
            "days": .array(days.map { d in
                ["day": .string(d.day), "counts": .object(Dictionary(uniqueKeysWithValues: d.counts.map { ($0.key.rawValue, JSONValue.number(Double($0.value))) }))]
            }),
            "by_decision": .object(byDecision.mapValues { .number(Double($0)) }),
            "refusals": .array(refusals.map { ["code": .string($0.code), "count": .number(Double($0.count)), "example": opt($0.example)] }),
            "approvals": .array(approvals.map(entry)),
            "rollbacks": .array(rollbacks.map(entry)),
            "stage_changes": .array(stageChanges.map(entry)),
            "anomalies_scored": .bool(anomaliesScored),
            "anomalies": .array(anomalies.map { a in
                ["tenant": .string(a.tenant), "start": time(a.start), "end": time(a.end), "family": .string(a.family), "signal": .string(a.signal),
                 "message": .string(a.message), "events": .array(a.events.map { .number(Double($0)) })]
            }),
            "rows": .object(["count": .number(Double(rows)), "sha256": .string(rowsDigest), "files": ["writes.jsonl", "writes.csv"]]
                .merging(rowsThrough.map { ["through": .number(Double($0))] } ?? [:]) { a, _ in a }
                .merging(csvDigest.map { ["csv_sha256": .string("sha256:" + $0)] } ?? [:]) { a, _ in a }
                .merging(htmlRows.map { ["html": .number(Double($0))] } ?? [:]) { a, _ in a }),
            "list_limit": .number(Double(listLimit)),
            "gates": gates ?? .null,
        ]
    }

    /// The report's digest: SHA-256 of the canonical JSON of everything it states (rows by their digest).
    public var digest: String { "sha256:" + json.canonicalDigest }

    /// `report.json`: the statement and its digest.
    public var document: JSONValue {
        var object = json.objectValue ?? [:]
        object["digest"] = .string(digest)
        return .object(object)
    }

    /// Checks a `report.json` read back: its digest must be the digest of the rest (its `signature`, made
    /// over the digest, is not part of it).
    public static func verifyDocument(_ document: JSONValue) -> (stated: String?, computed: String) {
        var object = document.objectValue ?? [:]
        let stated = object.removeValue(forKey: "digest")?.stringValue
        object["signature"] = nil
        return (stated, "sha256:" + JSONValue.object(object).canonicalDigest)
    }
}
