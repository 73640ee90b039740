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
/// judges, and runs the rules and per-event signals. Causal throughout: nothing after a bucket changes
/// its score.
public enum AnomalyScorer {
    public static func score(_ store: AuditStore, options: ScoreOptions, progress: ((String) -> Void)? = nil) throws -> [TenantScore] {
        let tenants = options.tenants.isEmpty ? try store.tenants(from: options.from, to: options.until) : options.tenants
        // On SQLite the events are read on a second connection, on another thread, while this one judges them.
        let reader = try store.readOnlyTwin()
        return try tenants.map { tenant in
            progress?(tenant)
            return try score(store, tenant: tenant, options: options, reader: reader)
        }
    }

    /// One tenant's verdict. With `streaming` (the default) the rates are judged while the pass reads;
    /// without it, after the pass, from the counts (the tests compare the two).
    static func score(_ store: AuditStore, tenant: String, options: ScoreOptions, reader: AuditStore? = nil, chunkSize: Int = 4_096,
                      streaming: Bool = true) throws -> TenantScore {
        let bucketSeconds = options.bucket.seconds
        let bucketMillis = Int64(bucketSeconds) * 1000
        let historyStart = options.from.addingTimeInterval(-options.history.timeInterval)
        let originMillis = Int64(options.origin.timeIntervalSince1970 * 1000)
        func bucketIndex(_ date: Date) -> Int64 {
            let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) - originMillis
            return ms >= 0 ? ms / bucketMillis : (ms - bucketMillis + 1) / bucketMillis
        }
        func bucketStart(_ index: Int64) -> Date { Date(timeIntervalSince1970: Double(originMillis + index * bucketMillis) / 1000) }
        let firstScored = bucketIndex(options.from)
        let lastScored = bucketIndex(options.until.addingTimeInterval(-0.001))
        var configuration = options.detector
        configuration.bucketsPerDay = max(1, 86_400 / bucketSeconds)
        var entityConfiguration = configuration
        entityConfiguration.tailProbability = options.entityTailProbability
        var anomalies: [Anomaly] = []
        var combined: [Int64: Double] = [:]
        var windowEvents = 0
        var activeDays = Set<Int64>()

        // One pass over the events counts the rates and judges the rules, rarity and values.
        // The rules need the tenant's first event (rarity learns for a week after it). Without one they
        // judge nothing, but the rates are still counted.
        let first = try store.firstEventTime(tenant: tenant)
        var engine = RuleEngine(tenant: tenant, reportFrom: first == nil ? .distantFuture : options.from, firstEvent: first ?? options.from)
        engine.bucketMillis = bucketMillis
        let rates = RateCounter(originMillis: originMillis, bucketMillis: bucketMillis,
                                fromMillis: max(Int64((historyStart.timeIntervalSince1970 * 1000).rounded(.down)), originMillis))
        let streams = streaming ? RateStreams(tenant: configuration, entity: entityConfiguration, minimumEvents: options.minimumEntityEvents,
                                              firstBucket: firstScored, lastBucket: lastScored) : nil
        var pass = ScoringPass(engine: engine, rates: rates, streams: streams,
                               reasons: ReasonVerdicts(defaultRule: options.reasonRule, rules: options.reasonRules))
        try pass.run(store, reader: reader, tenant: tenant, from: historyStart, to: options.until, chunkSize: chunkSize)
        let ruleFound = pass.engine.anomalies
        var series: [RateDimension: [String: (series: RateCounter.Series, ids: [Int])]] = [:]
        for dimension in RateDimension.allCases {
            series[dimension] = pass.rates.series(dimension, tenantName: tenant, pass.engine.vocabulary)
        }

        // Each series to the end of the window: the window's points when the pass judged it, else its dense
        // counts from its entity's first bucket, in order.
        struct Job: Sendable {
            var dimension: RateDimension
            var entity: String
            /// The bucket of the first count, or of the first point judged.
            var first: Int64
            var counts: [Double]
            var judged: [RateDetector.Point]?
        }
        var jobs: [Job] = []
        for dimension in RateDimension.allCases {
            let series = series[dimension] ?? [:]
            for (entity, (points, ids)) in series.sorted(by: { $0.key < $1.key }) {
                guard let first = points.first?.bucket else { continue }
                let total = points.reduce(0) { $0 + $1.count }
                if dimension == .tenant {
                    for p in points where p.bucket >= firstScored {
                        windowEvents += p.count
                        activeDays.insert(p.bucket * bucketMillis / 86_400_000)
                    }
                } else if total < options.minimumEntityEvents || series.count < 2 {
                    continue  // a lone tool or actor is the tenant series again
                }
                let length = Int(lastScored - first + 1)
                guard length > 0 else { continue }
                if let judged = pass.streams?.points(dimension, ids: ids), judged.points.count == Int(lastScored - judged.start + 1) {
                    jobs.append(Job(dimension: dimension, entity: entity, first: judged.start, counts: [], judged: judged.points))
                    continue
                }
                var counts = [Double](repeating: 0, count: length)
                for p in points where p.bucket <= lastScored { counts[Int(p.bucket - first)] += Double(p.count) }
                jobs.append(Job(dimension: dimension, entity: entity, first: first, counts: counts))
            }
        }
        // The series the pass did not judge are independent: judged on every core.
        let tenantConfiguration = configuration, otherConfiguration = entityConfiguration
        let judged = ParallelMap.map(jobs, workers: ProcessInfo.processInfo.activeProcessorCount, minimumCount: 2) { job in
            job.judged ?? RateDetector(configuration: job.dimension == .tenant ? tenantConfiguration : otherConfiguration).run(job.counts)
        }

        for (job, scored) in zip(jobs, judged) {
            let (dimension, entity, first) = (job.dimension, job.entity, job.first)
            let label = dimension == .tenant ? "tenant \(entity)" : "\(dimension.rawValue) \(entity)"
            var episode: [(index: Int64, point: RateDetector.Point)] = []
            func closeEpisode() throws {
                guard !episode.isEmpty else { return }
                let peak = episode.max { $0.point.z < $1.point.z }!
                let start = bucketStart(episode[0].index - Int64(peak.point.scale) + 1)
                let end = bucketStart(episode[episode.count - 1].index + 1)
                let minutes = peak.point.scale * bucketSeconds / 60
                let events = try store.eventIds(tenant: tenant, from: start, to: end, dimension: dimension, entity: entity, limit: 50)
                anomalies.append(Anomaly(
                    tenant: tenant, family: .rate, signal: "rate", entity: label, start: start, end: end,
                    observed: peak.point.observed, expected: peak.point.expected, bandLow: peak.point.bandLow, bandHigh: peak.point.bandHigh,
                    score: peak.point.score, events: events,
                    message: "\(label): \(Int(peak.point.observed)) events in \(minutes) min, expected \(format(peak.point.expected)) "
                        + "(band \(format(peak.point.bandLow))–\(format(peak.point.bandHigh))) for this time of day; "
                        + "tail probability \(String(format: "%.1e", peak.point.tailProbability)) from its own past"))
                episode.removeAll()
            }
            for (offset, point) in scored.enumerated() {
                let index = first + Int64(offset)
                guard index >= firstScored else { continue }
                if options.keepIntervals { combined[index] = max(combined[index] ?? 0, point.score) }
                if point.anomalous {
                    if let last = episode.last, index - last.index > 2 { try closeEpisode() }
                    episode.append((index, point))
                }
            }
            try closeEpisode()
        }

        anomalies += ruleFound
        if options.keepIntervals {
            for anomaly in ruleFound { combined[bucketIndex(anomaly.start)] = 1 }
        }

        anomalies.sort { ($0.start, $0.family.rawValue, $0.entity) < ($1.start, $1.family.rawValue, $1.entity) }
        var intervals: [(Date, Double)] = []
        if options.keepIntervals {
            intervals.reserveCapacity(Int(lastScored - firstScored + 1))
            for index in firstScored...max(firstScored, lastScored) { intervals.append((bucketStart(index), combined[index] ?? 0)) }
        }
        return TenantScore(tenant: tenant, from: options.from, until: options.until, anomalies: anomalies, events: windowEvents,
                           activeDays: activeDays.count, intervals: intervals.map { (start: $0.0, score: $0.1) })
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
