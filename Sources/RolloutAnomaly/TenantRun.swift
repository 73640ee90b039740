import Foundation
import RolloutCore
import RolloutStore

/// One tenant's scoring, from its settings to its verdict: the pass that reads its events (alone, or
/// with other tenants' in one scan) sits between `init` and `verdict`.
struct TenantRun {
    let tenant: String
    let options: ScoreOptions
    /// Where the pass starts reading: the window's start less the history.
    let historyStart: Date
    var pass: ScoringPass
    private let bucketSeconds: Int
    private let bucketMillis: Int64
    private let originMillis: Int64
    private let firstScored: Int64
    private let lastScored: Int64
    private let configuration: RateDetector.Configuration
    private let entityConfiguration: RateDetector.Configuration

    /// The pass, ready to read. The rules need the tenant's first event (rarity learns for a week after
    /// it): without one they judge nothing, but the rates are still counted. With `streaming` the rates
    /// are judged while the pass reads; without it, after the pass, from the counts.
    init(_ store: AuditStore, tenant: String, options: ScoreOptions, streaming: Bool) throws {
        self.tenant = tenant
        self.options = options
        bucketSeconds = options.bucket.seconds
        bucketMillis = Int64(bucketSeconds) * 1000
        historyStart = options.from.addingTimeInterval(-options.history.timeInterval)
        originMillis = Int64(options.origin.timeIntervalSince1970 * 1000)
        var configuration = options.detector
        configuration.bucketsPerDay = max(1, 86_400 / bucketSeconds)
        var entityConfiguration = configuration
        entityConfiguration.tailProbability = options.entityTailProbability
        self.configuration = configuration
        self.entityConfiguration = entityConfiguration
        firstScored = Self.bucketIndex(options.from, origin: originMillis, bucket: bucketMillis)
        lastScored = Self.bucketIndex(options.until.addingTimeInterval(-0.001), origin: originMillis, bucket: bucketMillis)
        let first = try store.firstEventTime(tenant: tenant, guardedOnly: options.guardedOnly)
        var engine = RuleEngine(tenant: tenant, reportFrom: first == nil ? .distantFuture : options.from, firstEvent: first ?? options.from)
        engine.bucketMillis = bucketMillis
        let rates = RateCounter(originMillis: originMillis, bucketMillis: bucketMillis,
                                fromMillis: max(Int64((historyStart.timeIntervalSince1970 * 1000).rounded(.down)), originMillis))
        let streams = streaming ? RateStreams(tenant: configuration, entity: entityConfiguration, minimumEvents: options.minimumEntityEvents,
                                              firstBucket: firstScored, lastBucket: lastScored) : nil
        pass = ScoringPass(engine: engine, rates: rates, streams: streams,
                           reasons: ReasonVerdicts(defaultRule: options.reasonRule, rules: options.reasonRules))
    }

    /// The bucket a time falls in (floored, also before the origin).
    private static func bucketIndex(_ date: Date, origin originMillis: Int64, bucket bucketMillis: Int64) -> Int64 {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) - originMillis
        return ms >= 0 ? ms / bucketMillis : (ms - bucketMillis + 1) / bucketMillis
    }

    private func bucketIndex(_ date: Date) -> Int64 { Self.bucketIndex(date, origin: originMillis, bucket: bucketMillis) }

    private func bucketStart(_ index: Int64) -> Date { Date(timeIntervalSince1970: Double(originMillis + index * bucketMillis) / 1000) }

    /// The verdict, once the pass has read and finished: the rate series judged into anomalies (the
    /// events behind each looked up in `store`), with the rules' anomalies.
    func verdict(_ store: AuditStore) throws -> TenantScore {
        var anomalies: [Anomaly] = []
        var combined: [Int64: Double] = [:]
        var windowEvents = 0
        var activeDays = Set<Int64>()
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
                let events = try store.eventIds(tenant: tenant, from: start, to: end, dimension: dimension, entity: entity, limit: 50,
                                                guardedOnly: options.guardedOnly)
                anomalies.append(Anomaly(
                    tenant: tenant, family: .rate, signal: "rate", entity: label, start: start, end: end,
                    observed: peak.point.observed, expected: peak.point.expected, bandLow: peak.point.bandLow, bandHigh: peak.point.bandHigh,
                    score: peak.point.score, events: events,
                    message: "\(label): \(Int(peak.point.observed)) events in \(minutes) min, expected \(AnomalyScorer.format(peak.point.expected)) "
                        + "(band \(AnomalyScorer.format(peak.point.bandLow))–\(AnomalyScorer.format(peak.point.bandHigh))) for this time of day; "
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
}
