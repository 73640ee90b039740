import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

/// `rollout report --verify`: a report folder checked against its store. The report's digests have no
/// key, so only the store (its calls listed again, its chain head and verdict) and, with the chain key,
/// the report's signature can say it is the one that was made.
public enum ReportCheck: Sendable {
    /// It agrees with itself and with the store.
    case verified(digest: String)
    /// Nothing could be checked against a store: none was found, or its signed chain needs the key.
    case notVerified(String)
    /// What does not match, one line each.
    case failed([String])

    /// Checks the report in `directory` against `store` (nil: none found), with `key` when given. `policy`: the
    /// folder's, which scores the anomalies again when it is the one the report was made under.
    public static func run(directory: String, store: AuditStore?, key: ChainKey?, policy: Policy? = nil) throws -> ReportCheck {
        // The store's chain is verified once; a signed chain without its key cannot be, which is said as such.
        let verification = try store.map { try $0.verify(key: key, anchor: $0.anchor) }
        if let missing = verification?.firstBreak, missing.problem == .keyMissing {
            return .notVerified("\(missing.detail); the report's rows and verdict cannot be checked against this store without it")
        }
        // What report.json states, read back: its lists and tables are recounted from the store, its HTML rendered again.
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        let stated = FileManager.default.contents(atPath: path("report.json")).flatMap { try? JSONValue.parse($0) }.flatMap(ComplianceReport.init(document:))
        var recount: ComplianceCollector.Recount?
        var outcome = try ComplianceVerifier.check(
            directory: directory, headHash: store.map { a in { try a.eventHash(seq: $0) } },
            firstBreak: verification.map { v in { v.firstBreak?.seq } },
            rows: store.map { a in { from, to, tenants, through in
                let listed = try ComplianceCollector.recount(store: a, scope: ComplianceScope(from: from, to: to, tenants: tenants, maxSeq: through),
                                                             listLimit: stated?.listLimit ?? 1000, htmlRows: stated?.htmlRows ?? 0)
                recount = listed
                return (listed.rows, listed.digest)
            } },
            // With the key too: the signature vouches for how far the report listed, not that the period had ended
            // by then (a signed report made mid-month was verified later as the month's account, its later calls missing).
            laterCall: store.map { a in { from, to, tenants, after in
                try a.firstCall(ComplianceScope(from: from, to: to, tenants: tenants), after: after)
            } },
            signature: key.map { key in { key.mac(reportDigest: $0) } },
            filesSignature: key.map { key in { key.mac(reportFiles: $0) } },
            eventTime: store.map { a in { try a.event(seq: $0)?.ts } })
        if store != nil { outcome.problems += recounted(stated, recount, digest: outcome.digest, path: path) }
        var unscored: String?
        if let store, let stated, recount != nil, stated.anomaliesScored {
            // Scored again under the policy the report names: without the key, anomalies taken out of every file verified.
            if stated.policyDigest == nil || stated.policyDigest == policy?.digest {
                let rescored = try ComplianceCollector.rescore(store: store, policy: stated.policyDigest == nil ? nil : policy, from: stated.from,
                                                               to: stated.to, tenants: stated.scope, listLimit: stated.listLimit)
                var rebuilt = stated
                rebuilt.anomalies = rescored
                if rebuilt.json["anomalies"] != stated.json["anomalies"] {
                    outcome.problems.append("report.json: its anomalies are not what scoring the store's calls of its period again finds (\(stated.anomalies.count) stated, \(rescored.count) found): the report was edited")
                }
            } else if key == nil {
                unscored = "its anomalies were scored under policy \(stated.policyDigest ?? "none"), and the folder's policy is \(policy.map(\.digest) ?? "not there"): give --dir with the policy the report was made under to score them again (or verify with the chain key, which signed them)"
            }
        }
        if !outcome.problems.isEmpty { return .failed(outcome.problems) }
        if let unscored { return .notVerified(unscored) }
        guard store != nil else {
            // Its files agree with each other, which anyone who rewrites them all can make so: unverified.
            return .notVerified("the files agree with each other (digest \(outcome.digest)), but no store was found to check its calls, chain head and verdict against; give --store (or set ROLLOUT_STORE)")
        }
        return .verified(digest: outcome.digest)
    }

    /// Where the report's files say other than the store's calls do: its tables and lists (days, decisions,
    /// refusals, approvals, rollbacks, stage changes), writes.csv, and report.html rendered again from what
    /// report.json states. Without the key a report's digests can all be made again: a refusal taken out of
    /// the CSV, the tables and the page verified as long as writes.jsonl was left whole (helper-77).
    static func recounted(_ stated: ComplianceReport?, _ recount: ComplianceCollector.Recount?, digest: String, path: (String) -> String) -> [String] {
        guard let stated else {
            return ["report.json: does not state every member of a report (period, chain, tables, lists, rows), so what it says cannot be recounted from the store"]
        }
        // The rows were not listed again (the report states no period or head): ComplianceVerifier said why.
        guard let recount else { return [] }
        var problems: [String] = []
        var rebuilt = stated
        rebuilt.days = recount.days
        rebuilt.byDecision = recount.byDecision
        rebuilt.refusals = recount.refusals
        rebuilt.approvals = recount.approvals
        rebuilt.rollbacks = recount.rollbacks
        rebuilt.stageChanges = recount.stageChanges
        let said = stated.json, counted = rebuilt.json
        for member in ["days", "by_decision", "refusals", "approvals", "rollbacks", "stage_changes"] where said[member] != counted[member] {
            problems.append("report.json: its \(member) are not what the store's calls of its period and scope count: the report was edited")
        }
        if let csv = try? FileDigest.sha256(path: path("writes.csv")), csv != recount.csvDigest {
            problems.append("writes.csv: is not the store's calls of the period and scope (it hashes to sha256:\(csv), those calls as CSV to sha256:\(recount.csvDigest)): rows were taken out, added or changed")
        }
        if let html = FileManager.default.contents(atPath: path("report.html")) {
            if stated.htmlRows == nil {
                problems.append("report.html: report.json states no count of the calls it shows (rows.html: written by a rollout before 2026-12-05), so the page cannot be rendered again to check it; make the report again")
            } else if Array(ComplianceHTML.render(rebuilt, digest: digest, rows: recount.first).utf8) != Array(html) {
                problems.append("report.html: is not the page its report.json and the store's calls make: it was edited")
            }
        } else if stated.htmlRows != nil {
            problems.append("report.html: missing, and report.json says a page was written (rows.html): the page people read was taken away")
        }
        return problems
    }
}
