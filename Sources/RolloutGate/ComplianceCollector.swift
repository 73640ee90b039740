import Crypto
import Foundation
import RolloutAnomaly
import RolloutCore
import RolloutReports
import RolloutStore

/// What a compliance report covers and how much it lists.
public struct ComplianceOptions: Sendable {
    public var from: Date
    public var to: Date
    /// Empty: every tenant.
    public var tenants: [String]
    public var scoreAnomalies: Bool
    /// At most this many approvals, rollbacks, stage changes and anomalies are listed (counts are exact).
    public var listLimit: Int
    /// Calls shown in the HTML table (the rows files have every call).
    public var htmlRows: Int
    /// History before the period that the anomaly baselines learn from.
    public var history: TimeSpan

    public init(from: Date, to: Date, tenants: [String] = [], scoreAnomalies: Bool = true, listLimit: Int = 1000, htmlRows: Int = 2000,
                history: TimeSpan = .days(35)) {
        self.from = from
        self.to = to
        self.tenants = tenants
        self.scoreAnomalies = scoreAnomalies
        self.listLimit = listLimit
        self.htmlRows = htmlRows
        self.history = history
    }
}

/// Gathers a compliance report from the audit store: verifies the whole hash chain (on a SQLite store,
/// on its own connection while the rest runs), reads everything else only up to the head read at the
/// start, which verification covers, aggregates in SQL, and streams the rows of every call to `onRows`
/// (which writes the CSV and JSON Lines files) while hashing them, so a period of any size takes flat
/// memory.
public enum ComplianceCollector {
    public struct Output: Sendable {
        public var report: ComplianceReport
        /// The first `htmlRows` calls, for the HTML table.
        public var firstRows: [ComplianceRow]
        public var digest: String { report.digest }
    }

    /// `onRows` gets the calls in order, a few hundred at a time, with their JSON Lines (each call's
    /// canonical JSON and a newline, one after another, as bytes). The rows' digest is the SHA-256 of
    /// those lines; a caller that writes them to a file, and hashes that file anyway, gives its digest
    /// as `linesDigest` (asked once every row was handed over) instead of having them hashed twice.
    public static func collect(store: AuditStore, tenants: TenantsFile?, policy: Policy?, options: ComplianceOptions, now: Date, rolloutVersion: String,
                               progress: ((String) -> Void)? = nil, linesDigest: (() throws -> String)? = nil,
                               onRows: (_ rows: [ComplianceRow], _ lines: [UInt8]) throws -> Void) throws -> Output {
        // Verification and scoring read on their own connections while the calls are listed here (on
        // two cores the report takes the time of its longest part, not their sum). Everything but the
        // scoring reads up to the head read now; verification checks at least that far.
        let head = try store.head()
        let scope = ComplianceScope(from: options.from, to: options.to, tenants: options.tenants, maxSeq: head.seq)
        let verifier = try store.readOnlyTwin()
        // Held to the store's anchor when given (`--anchor`, $ROLLOUT_ANCHOR): with the key alone, a tail cut off with
        // the head moved back verifies.
        let anchor = store.anchor
        let verifying = verifier.map { twin in Concurrently { try twin.verify(key: ChainKey.fromEnvironment, anchor: anchor) } }
        var scoring: Concurrently<[TenantScore]>?
        let score = Self.scoreOptions(from: options.from, to: options.to, tenants: options.tenants, history: options.history, policy: policy)
        if options.scoreAnomalies, options.to > options.from, let scorer = try store.readOnlyTwin() {
            scoring = Concurrently { [score] in try AnomalyScorer.score(scorer, options: score) }
        }
        progress?(verifier == nil ? "verifying the hash chain…" : "verifying the hash chain, scoring anomalies and listing every call at once…")
        // Another engine is read through the one store, one part after the other.
        let sequentialVerification = verifier == nil ? try store.verify(key: ChainKey.fromEnvironment, anchor: anchor) : nil

        // One pass over the calls lists them, counts them by day and decision, keeps each decision's
        // first message (the refusals' examples), the first approvals and rollbacks and the stage changes,
        // whole (a pass of their own read the period's rows once more before the listing could start:
        // 0.3-0.8 s of a million calls' report). It runs on
        // two threads: one reads the rows and counts them; this one writes each JSON line, hashes the lines
        // and hands them to `onRows` (which writes the files), in order. Alone, the listing was the report's
        // longest part: once verification and scoring had ended, one core sat idle.
        progress?("listing every call…")
        let details = ComplianceDetails(decisions: Self.approvalDecisions.union(Self.rollbackDecisions), withApprover: true)
        let listing = Listing()
        var hasher = SHA256()
        var handed = 0
        try Handoff<[ComplianceRow]>.pipe(capacity: 8, produce: { [options] put in
            var chunk: [ComplianceRow] = []
            chunk.reserveCapacity(Self.chunkRows)
            try store.scanCompliance(scope, details: details, control: { event in
                // An imported line changed no stage here (the gates do not count one either): listed as one, a JSONL
                // file could put a promotion nobody made into the report.
                if !event.isImported { listing.stages.append(event) }
            }) { row, event in
                try listing.count(row, event: event, options: options)
                chunk.append(row)
                if chunk.count == Self.chunkRows {
                    guard put(chunk) else { throw ListingStopped() }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { _ = put(chunk) }
        }, consume: { chunk in
            var lines: [UInt8] = []
            lines.reserveCapacity(chunk.count * 384)
            for row in chunk { ComplianceRowFormat.appendJSON(row, to: &lines) }
            if linesDigest == nil { hasher.update(data: lines) }
            try onRows(chunk, lines)
            let before = handed
            handed += chunk.count
            if handed / 200_000 > before / 200_000 { progress?("listing every call… \(handed / 200_000 * 200_000)") }
        })
        let rows = listing.rows, first = listing.first, byDecision = listing.byDecision
        let approvals = listing.approvals, rollbacks = listing.rollbacks, stages = listing.stages
        let (days, refusals) = Self.summary(listing)

        let verification = try sequentialVerification ?? verifying!.value()
        let chain = ComplianceReport.Chain(ok: verification.ok, checked: verification.checked, headSeq: verification.head.seq,
                                           headHash: verification.head.hash, breakSeq: verification.firstBreak?.seq,
                                           problem: verification.firstBreak?.problem.rawValue, detail: verification.firstBreak?.detail)
        var anomalies: [ComplianceReport.Anomaly] = []
        if options.scoreAnomalies, options.to > options.from {
            progress?("scoring anomalies…")
            anomalies = Self.anomalies(try scoring?.value() ?? AnomalyScorer.score(store, options: score))
        }

        let tenantLines = (try tenants?.withSharedPauses(from: store).tenants ?? []).filter { options.tenants.isEmpty || options.tenants.contains($0.id) }.map { t in
            ComplianceReport.Tenant(id: t.id, name: t.displayName, stage: t.stage.rawValue, paused: t.paused, tools: t.tools.mapValues(\.rawValue))
        }
        var report = ComplianceReport(
            from: options.from, to: options.to, scope: options.tenants, generatedAt: now, rolloutVersion: rolloutVersion,
            policyDigest: policy?.digest, chain: chain, tenants: tenantLines,
            days: days,
            byDecision: byDecision, refusals: refusals, approvals: approvals.map(ComplianceReport.Entry.init),
            rollbacks: rollbacks.map(ComplianceReport.Entry.init), stageChanges: stages.prefix(options.listLimit).map(ComplianceReport.Entry.init),
            anomalies: Array(anomalies.prefix(options.listLimit)), anomaliesScored: options.scoreAnomalies,
            rows: rows, rowsDigest: "sha256:" + (try linesDigest?() ?? hasher.finalize().hexString), listLimit: options.listLimit)
        report.gates = tenants.map { .object(($0.gates.json.objectValue ?? [:]).merging(["digest": .string($0.gates.digest)]) { a, _ in a }) }
        report.rowsThrough = head.seq
        return Output(report: report, firstRows: first)
    }

    /// What a report states of its calls, listed again from the store (`report --verify`): the rows' count
    /// and digests (JSON Lines and CSV), and what the report counts and lists from them, as `collect` makes
    /// them. A report rewritten without the key (a refusal taken out of its tables and its CSV, every
    /// digest made again) differs from this.
    public struct Recount: Sendable {
        public var rows: Int
        public var digest: String
        public var csvDigest: String
        public var days: [ComplianceReport.Day]
        public var byDecision: [String: Int]
        public var refusals: [ComplianceReport.Refusal]
        public var approvals: [ComplianceReport.Entry]
        public var rollbacks: [ComplianceReport.Entry]
        public var stageChanges: [ComplianceReport.Entry]
        /// The first `htmlRows` rows, as report.html shows them.
        public var first: [ComplianceRow]
    }

    /// The calls of `scope` listed again from the store, as `collect` lists them.
    public static func recount(store: AuditStore, scope: ComplianceScope, listLimit: Int, htmlRows: Int) throws -> Recount {
        let options = ComplianceOptions(from: scope.from, to: scope.to, tenants: scope.tenants, listLimit: listLimit, htmlRows: htmlRows)
        let details = ComplianceDetails(decisions: Self.approvalDecisions.union(Self.rollbackDecisions), withApprover: true)
        let listing = Listing()
        var hasher = SHA256(), csv = SHA256()
        csv.update(data: Array(ComplianceRowFormat.csvHeader.utf8))
        var lines: [UInt8] = [], records: [UInt8] = []
        try store.scanCompliance(scope, details: details, control: { event in
            if !event.isImported { listing.stages.append(event) }
        }) { row, event in
            try listing.count(row, event: event, options: options)
            ComplianceRowFormat.appendJSON(row, to: &lines)
            ComplianceRowFormat.appendCSV(row, to: &records)
            if lines.count >= 1 << 16 {
                hasher.update(data: lines)
                csv.update(data: records)
                lines.removeAll(keepingCapacity: true)
                records.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(data: lines)
        csv.update(data: records)
        let (days, refusals) = Self.summary(listing)
        return Recount(rows: listing.rows, digest: "sha256:" + hasher.finalize().hexString, csvDigest: csv.finalize().hexString, days: days,
                       byDecision: listing.byDecision, refusals: refusals, approvals: listing.approvals.map(ComplianceReport.Entry.init),
                       rollbacks: listing.rollbacks.map(ComplianceReport.Entry.init),
                       stageChanges: listing.stages.prefix(listLimit).map(ComplianceReport.Entry.init), first: listing.first)
    }

    /// How a report scores its period: the whole period as one window, over `history` before it, with the
    /// policy's reason rules. `report --verify` scores again with the same.
    static func scoreOptions(from: Date, to: Date, tenants: [String], history: TimeSpan, policy: Policy?) -> ScoreOptions {
        var score = ScoreOptions(tenants: tenants, until: to, window: TimeSpan(seconds: max(1, Int(to.timeIntervalSince(from)))), history: history)
        score.reasonRules(from: policy)
        return score
    }

    /// The anomalies of `scores`, in the order a report lists them.
    static func anomalies(_ scores: [TenantScore]) -> [ComplianceReport.Anomaly] {
        scores.flatMap { tenant in
            tenant.anomalies.map {
                ComplianceReport.Anomaly(tenant: $0.tenant, start: $0.start, end: $0.end, family: $0.family.rawValue, signal: $0.signal,
                                         message: $0.message, events: $0.events)
            }
        }.sorted { ($0.start, $0.tenant) < ($1.start, $1.tenant) }
    }

    /// The anomalies a report of this period and scope lists, scored again from `store` under `policy`.
    public static func rescore(store: AuditStore, policy: Policy?, from: Date, to: Date, tenants: [String], listLimit: Int,
                               history: TimeSpan = ComplianceOptions(from: Date(), to: Date()).history) throws -> [ComplianceReport.Anomaly] {
        guard to > from else { return [] }
        let options = scoreOptions(from: from, to: to, tenants: tenants, history: history, policy: policy)
        return Array(anomalies(try AnomalyScorer.score(store, options: options)).prefix(listLimit))
    }

    /// The listing's counts per day and category, and its refusals by code (most first), as the report states them.
    private static func summary(_ listing: Listing) -> ([ComplianceReport.Day], [ComplianceReport.Refusal]) {
        var days: [String: [DecisionCategory: Int]] = [:]
        for (day, decisions) in listing.daily {
            for (decision, count) in decisions { days[day, default: [:]][DecisionCategory(decision: decision), default: 0] += count }
        }
        let refusals = listing.byDecision.filter { DecisionCategory(decision: $0.key) == .refused }
            .sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { code, count in ComplianceReport.Refusal(code: code, count: count, example: listing.examples[code] ?? nil) }
        return (days.keys.sorted().map { ComplianceReport.Day(day: $0, counts: days[$0]!) }, refusals)
    }

    static let approvalDecisions: Set<String> = ["pending_approval", "approval_denied", "approval_expired", "approval_refused"]
    static let rollbackDecisions: Set<String> = ["rolled_back", "rollback_refused"]
    /// Rows handed from the reading thread at a time.
    static let chunkRows = 512

    /// What the listing counts and keeps besides the rows: filled on the reading thread, read here once
    /// that thread has ended (`Handoff.pipe` waits for it).
    private final class Listing: @unchecked Sendable {
        var rows = 0
        var first: [ComplianceRow] = []
        var daily: [String: [String: Int]] = [:]
        var byDecision: [String: Int] = [:]
        var examples: [String: String?] = [:]
        var approvals: [AuditEvent] = [], rollbacks: [AuditEvent] = []
        /// The scope's stage changes, oldest first.
        var stages: [AuditEvent] = []

        func count(_ row: ComplianceRow, event: () throws -> AuditEvent?, options: ComplianceOptions) throws {
            rows += 1
            if first.count < options.htmlRows { first.append(row) }
            // SQL's substr(ts, 1, 10): ten characters, as SQLite counts them (code points).
            daily[String(row.ts.unicodeScalars.prefix(10)), default: [:]][row.decision, default: 0] += 1
            byDecision[row.decision, default: 0] += 1
            if examples[row.decision] == nil { examples[row.decision] = .some(row.message) }
            let approval = approvals.count < options.listLimit && (approvalDecisions.contains(row.decision) || row.approver != nil)
            let rollback = rollbacks.count < options.listLimit && rollbackDecisions.contains(row.decision)
            if approval || rollback, let event = try event() {
                if approval { approvals.append(event) }
                if rollback { rollbacks.append(event) }
            }
        }
    }

    /// Ends the reading thread's scan once this thread has stopped taking rows (its error is the one thrown).
    private struct ListingStopped: Error {}
}
