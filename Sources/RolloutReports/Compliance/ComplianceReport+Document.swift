import Foundation
import RolloutCore

extension ComplianceReport.Entry {
    /// An entry as report.json lists it.
    init?(listed value: JSONValue) {
        guard let seq = value["seq"]?.intValue, let ts = value["ts"]?.stringValue.flatMap(Timestamp.parse),
              let tenant = value["tenant"]?.stringValue, let tool = value["tool"]?.stringValue, let actor = value["actor"]?.stringValue,
              let decision = value["decision"]?.stringValue, let details = value["details"]?.objectValue
        else { return nil }
        self.seq = Int64(seq)
        self.ts = ts
        self.tenant = tenant
        self.tool = tool
        self.actor = actor
        self.decision = decision
        approver = value["approver"]?.stringValue
        reason = value["reason"]?.stringValue
        message = value["message"]?.stringValue
        self.details = details
    }
}

extension ComplianceReport {
    /// The report a report.json states (`document`, read back), or nil when a member it needs is missing or
    /// of another type: what `report --verify` renders the HTML from again, and recounts from the store.
    public init?(document: JSONValue) {
        func time(_ value: JSONValue?) -> Date? { value?.stringValue.flatMap(Timestamp.parse) }
        func entries(_ name: String) -> [Entry]? {
            guard let items = document[name]?.arrayValue else { return nil }
            let read = items.compactMap(Entry.init(listed:))
            return read.count == items.count ? read : nil
        }
        guard let from = time(document["period"]?["from"]), let to = time(document["period"]?["to"]),
              let scope = document["scope"]?.arrayValue?.compactMap(\.stringValue), let generatedAt = time(document["generated_at"]),
              let version = document["rollout_version"]?.stringValue, let chainJSON = document["chain"], let ok = chainJSON["ok"]?.boolValue,
              let checked = chainJSON["checked"]?.intValue, let headSeq = chainJSON["head"]?["seq"]?.intValue,
              let headHash = chainJSON["head"]?["hash"]?.stringValue,
              let tenantItems = document["tenants"]?.arrayValue, let dayItems = document["days"]?.arrayValue,
              let byDecision = document["by_decision"]?.objectValue, let refusalItems = document["refusals"]?.arrayValue,
              let approvals = entries("approvals"), let rollbacks = entries("rollbacks"), let stageChanges = entries("stage_changes"),
              let anomaliesScored = document["anomalies_scored"]?.boolValue, let anomalyItems = document["anomalies"]?.arrayValue,
              let rowsJSON = document["rows"], let rows = rowsJSON["count"]?.intValue, let rowsDigest = rowsJSON["sha256"]?.stringValue,
              let listLimit = document["list_limit"]?.intValue
        else { return nil }
        let chain = Chain(ok: ok, checked: checked, headSeq: Int64(headSeq), headHash: headHash,
                          breakSeq: chainJSON["break"]?["seq"]?.intValue.map(Int64.init), problem: chainJSON["break"]?["problem"]?.stringValue,
                          detail: chainJSON["break"]?["detail"]?.stringValue)
        var tenants: [Tenant] = []
        for t in tenantItems {
            guard let id = t["id"]?.stringValue, let stage = t["stage"]?.stringValue, let paused = t["paused"]?.boolValue,
                  let tools = t["tools"]?.objectValue else { return nil }
            tenants.append(Tenant(id: id, name: t["name"]?.stringValue, stage: stage, paused: paused, tools: tools.compactMapValues(\.stringValue)))
        }
        var days: [Day] = []
        for d in dayItems {
            guard let day = d["day"]?.stringValue, let counts = d["counts"]?.objectValue else { return nil }
            var byCategory: [DecisionCategory: Int] = [:]
            for (name, count) in counts {
                guard let category = DecisionCategory(rawValue: name), let n = count.intValue else { return nil }
                byCategory[category] = n
            }
            days.append(Day(day: day, counts: byCategory))
        }
        var refusals: [Refusal] = []
        for r in refusalItems {
            guard let code = r["code"]?.stringValue, let count = r["count"]?.intValue else { return nil }
            refusals.append(Refusal(code: code, count: count, example: r["example"]?.stringValue))
        }
        var anomalies: [Anomaly] = []
        for a in anomalyItems {
            guard let tenant = a["tenant"]?.stringValue, let start = time(a["start"]), let end = time(a["end"]), let family = a["family"]?.stringValue,
                  let signal = a["signal"]?.stringValue, let message = a["message"]?.stringValue, let events = a["events"]?.arrayValue
            else { return nil }
            anomalies.append(Anomaly(tenant: tenant, start: start, end: end, family: family, signal: signal, message: message,
                                     events: events.compactMap(\.intValue).map(Int64.init)))
        }
        var counts: [String: Int] = [:]
        for (decision, count) in byDecision {
            guard let n = count.intValue else { return nil }
            counts[decision] = n
        }
        self.init(from: from, to: to, scope: scope, generatedAt: generatedAt, rolloutVersion: version, policyDigest: document["policy_digest"]?.stringValue,
                  chain: chain, tenants: tenants, days: days, byDecision: counts, refusals: refusals, approvals: approvals, rollbacks: rollbacks,
                  stageChanges: stageChanges, anomalies: anomalies, anomaliesScored: anomaliesScored, rows: rows, rowsDigest: rowsDigest,
                  listLimit: listLimit)
        rowsThrough = rowsJSON["through"]?.intValue.map(Int64.init)
        csvDigest = rowsJSON["csv_sha256"]?.stringValue.map { String($0.dropFirst("sha256:".count)) }
        htmlRows = rowsJSON["html"]?.intValue
        let gatesValue = document["gates"]
        gates = gatesValue == .null ? nil : gatesValue
    }
}
