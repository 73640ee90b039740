import RolloutStore

/// The rate signal judged while the scoring pass still reads. Events come in time order, so once the
/// pass has read past a bucket every series' count for it is final, and the series'
/// `RateDetector.Stream` scores it then. Judging the rates fills the time the judging thread spent
/// waiting for the reader, instead of following the pass. The points are those `RateDetector.run` gives
/// over each whole series: the tenant's series starts with its first bucket; a tool's or actor's once
/// it has `minimumEvents` events, catching up from its first bucket. A series never started here (too
/// few events, or ids the scorer merges into one name) is judged after the pass, as before.
struct RateStreams {
    /// One series' detector, how far it has been fed, and what it said.
    struct Judged {
        /// The series' first bucket: `points[0]` is its point.
        let first: Int64
        /// The next bucket to push, and where in the sparse series the first count at or after it is.
        private(set) var next: Int64
        private var cursor = 0
        private var stream: RateDetector.Stream
        private(set) var points: [RateDetector.Point] = []

        init(first: Int64, configuration: RateDetector.Configuration, capacity: Int) {
            self.first = first
            next = first
            stream = RateDetector.Stream(configuration: configuration, capacity: capacity)
            points.reserveCapacity(capacity)
        }

        /// Scores the buckets of `series` from `next` up to `limit` (exclusive); a bucket without a count is 0.
        mutating func push(_ series: RateCounter.Series, until limit: Int64) {
            while next < limit {
                var count = 0
                if cursor < series.count, series[cursor].bucket == next {
                    count = series[cursor].count
                    cursor += 1
                }
                points.append(stream.push(Double(count)))
                next += 1
            }
        }
    }

    private(set) var tenant: Judged?
    private(set) var tools: [Judged?] = []
    private(set) var actors: [Judged?] = []
    let tenantConfiguration: RateDetector.Configuration
    let entityConfiguration: RateDetector.Configuration
    let minimumEvents: Int
    /// The last bucket scored: nothing after it is pushed.
    let lastBucket: Int64

    init(tenant: RateDetector.Configuration, entity: RateDetector.Configuration, minimumEvents: Int, lastBucket: Int64) {
        tenantConfiguration = tenant
        entityConfiguration = entity
        self.minimumEvents = max(1, minimumEvents)
        self.lastBucket = lastBucket
    }

    /// Scores every started series' buckets before `bucket` (the bucket of the last event read: later
    /// events can still add to it), and starts the tools and actors that now have enough events.
    mutating func advance(_ rates: RateCounter, before bucket: Int64) {
        let limit = min(bucket, lastBucket + 1)
        if tenant == nil, let first = rates.tenant.first?.bucket { tenant = start(first, tenantConfiguration) }
        tenant?.push(rates.tenant, until: limit)
        let (minimum, entity, last) = (minimumEvents, entityConfiguration, lastBucket)
        let start = { (first: Int64, events: Int) -> Judged? in
            events >= minimum ? Judged(first: first, configuration: entity, capacity: Int(max(0, last - first + 1))) : nil
        }
        Self.advance(&tools, rates.tools, totals: rates.toolEvents, until: limit, start: start)
        Self.advance(&actors, rates.actors, totals: rates.actorEvents, until: limit, start: start)
    }

    /// Scores the rest of every started series, to the last bucket.
    mutating func finish(_ rates: RateCounter) {
        advance(rates, before: lastBucket + 1)
    }

    /// The points of the series of `ids` (the ids whose texts read as one name), when exactly one id
    /// names it and its series was started here; nil when it must be judged from its counts.
    func points(_ dimension: RateDimension, ids: [Int]) -> [RateDetector.Point]? {
        switch dimension {
        case .tenant: return tenant?.points
        case .tool, .actor:
            let all = dimension == .tool ? tools : actors
            guard ids.count == 1, ids[0] < all.count else { return nil }
            return all[ids[0]]?.points
        }
    }

    private func start(_ first: Int64, _ configuration: RateDetector.Configuration) -> Judged {
        Judged(first: first, configuration: configuration, capacity: Int(max(0, lastBucket - first + 1)))
    }

    /// A tool's or actor's series started once it has enough events. (Static, so that `judged` is
    /// changed in place: a method reading `self` while changing one of its arrays worked on a copy, and
    /// every push then copied the points.)
    private static func advance(_ judged: inout [Judged?], _ series: [RateCounter.Series], totals: [Int], until limit: Int64,
                                start: (Int64, Int) -> Judged?) {
        if judged.count < series.count { judged.append(contentsOf: repeatElement(nil, count: series.count - judged.count)) }
        for id in series.indices {
            if judged[id] == nil {
                guard let first = series[id].first?.bucket, let started = start(first, totals[id]) else { continue }
                judged[id] = started
            }
            judged[id]?.push(series[id], until: limit)
        }
    }
}
