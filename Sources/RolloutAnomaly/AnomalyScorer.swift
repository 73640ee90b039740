import Foundation
import RolloutCore
import RolloutStore

/// What to score and how.
public struct ScoreOptions: Sendable {
    /// Only these tenants (every tenant with events in the window when empty).
    public var tenants: [String]
    /// The end of the window scored.
    public var until: Date
    /// How long a window ends at `until`.
    public var window: TimeSpan
    /// History before the window that the baselines learn from.
    public var history: TimeSpan
    public var bucket: TimeSpan
    /// Buckets start at this time plus multiples of `bucket` (default: the epoch).
    public var origin: Date
    /// The reason rule of events whose tool the policy does not name.
    public var reasonRule: ReasonRule
    /// Each policy tool's own reason rule, by tool name: a tool that asks for 20 characters is judged by
    /// 20, one that makes reasons optional is not flagged.
    public var reasonRules: [String: ReasonRule]
    public var detector: RateDetector.Configuration
    /// A tool or actor series needs this tail probability: stricter than the tenant's, because there are many.
    public var entityTailProbability: Double
    /// Tools and actors with fewer events in the history are not scored on their own.
    public var minimumEntityEvents: Int
    /// Keep the per-interval combined score (for `--intervals`).
    public var keepIntervals: Bool
    /// Score only the events guards recorded: imported lines neither count nor teach the baselines. The
    /// anomaly gate's view unless `gates.imported_evidence` says otherwise: imported lines that repeated a
    /// burst every day before it made a guard-recorded burst look usual, and the gate passed.
    public var guardedOnly = false

    public init(
        tenants: [String] = [], until: Date, window: TimeSpan = .days(7), history: TimeSpan = .days(35), bucket: TimeSpan = .minutes(5),
        origin: Date = Date(timeIntervalSince1970: 0), reasonRule: ReasonRule = ReasonRule(), detector: RateDetector.Configuration = .init(),
        entityTailProbability: Double = 1e-5, minimumEntityEvents: Int = 200, keepIntervals: Bool = false
    ) {
        self.tenants = tenants
        self.until = until
        self.window = window
        self.history = history
        self.bucket = bucket
        self.origin = origin
        self.reasonRule = reasonRule
        self.reasonRules = [:]
        self.detector = detector
        self.entityTailProbability = entityTailProbability
        self.minimumEntityEvents = minimumEntityEvents
        self.keepIntervals = keepIntervals
    }

    public var from: Date { until.addingTimeInterval(-window.timeInterval) }

    /// Reason rules from the policy: each tool's own, and the defaults' for other tools.
    public mutating func reasonRules(from policy: Policy?) {
        guard let policy else { return }
        reasonRules = Dictionary(policy.tools.map { ($0.name, $0.reason) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One tenant's verdict for the window.
public struct TenantScore: Sendable {
    public var tenant: String
    public var from: Date
    public var until: Date
    public var anomalies: [Anomaly]
    /// Events in the window, and the days of it that had any.
    public var events: Int
    public var activeDays: Int
    /// Per bucket of the window, the combined score in [0, 1] (when asked for).
    public var intervals: [(start: Date, score: Double)]
}

/// Anomaly scoring over the audit log (DESIGN.md, "Anomaly scoring"): one streamed pass over each
/// tenant's events (`ScoringPass`) counts the rates per tenant, tool and actor, which `RateDetector`
/// judges, and runs the rules and per-event signals. On SQLite, the tenants of one run share one read
/// of the log in time order. Causal throughout: nothing after a bucket changes its score.
public enum AnomalyScorer {
    public static func score(_ store: AuditStore, options: ScoreOptions, progress: ((String) -> Void)? = nil) throws -> [TenantScore] {
        let tenants = options.tenants.isEmpty ? try store.tenants(from: options.from, to: options.until) : options.tenants
        // On SQLite the events are read on a second connection, on another thread, while this one judges them.
        let reader = try store.readOnlyTwin()
        // Every tenant of the window: they interleave in the log, and one pass for them all reads each
        // page once. (A few tenants named among many are read each on its own, through the tenant index.)
        if let reader, options.tenants.isEmpty, tenants.count > 1 {
            return try score(store, tenants: tenants, options: options, reader: reader, progress: progress)
        }
        return try tenants.map { tenant in
            progress?(tenant)
            return try score(store, tenant: tenant, options: options, reader: reader)
        }
    }

    /// One tenant's verdict. With `streaming` (the default) the rates are judged while the pass reads;
    /// without it, after the pass, from the counts (the tests compare the two).
    static func score(_ store: AuditStore, tenant: String, options: ScoreOptions, reader: AuditStore? = nil, chunkSize: Int = 4_096,
                      streaming: Bool = true) throws -> TenantScore {
        var run = try TenantRun(store, tenant: tenant, options: options, streaming: streaming)
        try run.pass.run(store, reader: reader, tenant: tenant, from: run.historyStart, to: options.until, chunkSize: chunkSize,
                         guardedOnly: options.guardedOnly)
        return try run.verdict(store)
    }

    /// The verdicts of several tenants whose events one pass reads, in time order, on `reader` (each page
    /// of an interleaved store read once), `batch` tenants at a time (their judging state lives together).
    /// The same verdicts as a pass per tenant: the tests compare the two.
    static func score(_ store: AuditStore, tenants: [String], options: ScoreOptions, reader: AuditStore, batch: Int = 16, chunkSize: Int = 4_096,
                      progress: ((String) -> Void)? = nil) throws -> [TenantScore] {
        // A tenant named twice (in bytes: names that differ only in bytes the store could not decode read
        // as one) is scored once, and each naming gets that verdict, as a pass each gives it.
        var unique: [String] = []
        var place: [[UInt8]: Int] = [:]
        for tenant in tenants where place[Array(tenant.utf8)] == nil {
            place[Array(tenant.utf8)] = unique.count
            unique.append(tenant)
        }
        guard unique.count == tenants.count else {
            let scores = try score(store, tenants: unique, options: options, reader: reader, batch: batch, chunkSize: chunkSize, progress: progress)
            return tenants.map { scores[place[Array($0.utf8)]!] }
        }
        var scores: [TenantScore] = []
        for first in stride(from: 0, to: tenants.count, by: max(batch, 1)) {
            let names = Array(tenants[first..<min(first + max(batch, 1), tenants.count)])
            var runs = try names.map { try TenantRun(store, tenant: $0, options: options, streaming: true) }
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
            progress?(names.count == 1 ? shown : "\(shown), read together")
            let historyStart = runs[0].historyStart
            var events = [[Int]](repeating: [], count: runs.count)
            try Handoff<ScoringChunk>.pipe(produce: { put in
                try reader.scanScoring(tenants: names, from: historyStart, to: options.until, valueFields: FieldRule.moneyWords,
                                       chunkSize: chunkSize, guardedOnly: options.guardedOnly) { put($0) }
            }, consume: { chunk in
                for i in events.indices { events[i].removeAll(keepingCapacity: true) }
                for (index, tenant) in chunk.tenants.enumerated() { events[Int(tenant)].append(index) }
                // Every bucket before the chunk's last time is complete for every tenant: time order.
                let last = chunk.times.last ?? 0
                for i in runs.indices where !events[i].isEmpty {
                    runs[i].pass.observe(chunk, events: events[i])
                    runs[i].pass.advance(before: last)
                }
            })
            for i in runs.indices {
                runs[i].pass.finish()
                scores.append(try runs[i].verdict(store))
            }
        }
        return scores
    }

    static func format(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f", value) : String(Int(value.rounded()))
    }
}


extension AnomalyScorer {
    /// Records each tenant's verdict of a window that ends now, for `rollout status` and the gates: its
    /// events, active days and last anomaly. (A look at the past is not the state, and is not recorded.)
    public static func recordRuns(_ scores: [TenantScore], until end: Date, in store: AuditStore) throws {
        for score in scores {
            let last = score.anomalies.max { $0.end < $1.end }
            try store.recordScoreRun(ScoreRun(tenant: score.tenant, at: end, from: score.from, until: end, events: score.events,
                                              activeDays: score.activeDays, anomalies: score.anomalies.count,
                                              lastAnomalyAt: last?.end, lastAnomaly: last?.message))
        }
    }
}
