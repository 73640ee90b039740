import RolloutStore

/// The rate signal judged while the scoring pass still reads. Events come in time order, so once the
/// pass has read past a bucket every series' count for it is final, and the series'
/// `RateDetector.Stream` scores it then. Judging the rates fills the time the judging thread spent
/// waiting for the reader, instead of following the pass. The points are those `RateDetector.run` gives
/// over each whole series: the tenant's series starts with its first bucket; a tool's or actor's once
/// it has `minimumEvents` events, catching up from its first bucket. A series never started here (too
/// few events, or ids the scorer merges into one name) is judged after the pass, as before. Only the
/// points of the scored window are kept: the history's buckets teach the detector and are let go (with
/// the default five weeks of history, five sixths of them).
struct RateStreams {
    /// One series' detector, how far it has been fed, and what it said of the window.
    struct Judged {
        /// The first bucket with a point kept: `points[0]` is its point.
        let start: Int64
        /// The next bucket to push, and where in the sparse series the first count at or after it is.
        private(set) var next: Int64
        private var cursor = 0
        private var stream: RateDetector.Stream
        private(set) var points: [RateDetector.Point] = []

        init(first: Int64, keptFrom: Int64, last: Int64, configuration: RateDetector.Configuration) {
            start = max(first, keptFrom)
            next = first
            stream = RateDetector.Stream(configuration: configuration, capacity: Int(max(0, last - first + 1)))
            points.reserveCapacity(Int(max(0, last - start + 1)))
        }

        /// Scores the buckets of `series` from `next` up to `limit` (exclusive); a bucket without a count is 0.
        mutating func push(_ series: RateCounter.Series, until limit: Int64) {
            while next < limit {
                var count = 0
                if cursor < series.count, series[cursor].bucket == next {
                    count = series[cursor].count
                    cursor += 1
                }
                let point = stream.push(Double(count))
                if next >= start { points.append(point) }
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
    /// The window's first and last buckets: points are kept from the first; nothing after the last is pushed.
    let firstBucket: Int64
    let lastBucket: Int64

    init(tenant: RateDetector.Configuration, entity: RateDetector.Configuration, minimumEvents: Int, firstBucket: Int64, lastBucket: Int64) {
        tenantConfiguration = tenant
        entityConfiguration = entity
        self.minimumEvents = max(1, minimumEvents)
        self.firstBucket = firstBucket
        self.lastBucket = lastBucket
    }

    /// Scores every started series' buckets before `bucket` (the bucket of the last event read: later
    /// events can still add to it), and starts the tools and actors that now have enough events.
    mutating func advance(_ rates: RateCounter, before bucket: Int64) {
        let limit = min(bucket, lastBucket + 1)
        if tenant == nil, let first = rates.tenant.first?.bucket { tenant = start(first, tenantConfiguration) }
        tenant?.push(rates.tenant, until: limit)
        let (minimum, entity, kept, last) = (minimumEvents, entityConfiguration, firstBucket, lastBucket)
        let start = { (first: Int64, events: Int) -> Judged? in
            events >= minimum ? Judged(first: first, keptFrom: kept, last: last, configuration: entity) : nil
        }
        Self.advance(&tools, rates.tools, totals: rates.toolEvents, until: limit, start: start)
        Self.advance(&actors, rates.actors, totals: rates.actorEvents, until: limit, start: start)
    }

    /// Scores the rest of every started series, to the last bucket.
    mutating func finish(_ rates: RateCounter) {
        advance(rates, before: lastBucket + 1)
    }

    /// The window's points of the series of `ids` (the ids whose texts read as one name) and the bucket
    /// of the first, when exactly one id names it and its series was started here; nil when it must be
    /// judged from its counts.
    func points(_ dimension: RateDimension, ids: [Int]) -> (start: Int64, points: [RateDetector.Point])? {
        let judged: Judged?
        switch dimension {
        case .tenant: judged = tenant
        case .tool, .actor:
            let all = dimension == .tool ? tools : actors
            guard ids.count == 1, ids[0] < all.count else { return nil }
            judged = all[ids[0]]
        }
        return judged.map { ($0.start, $0.points) }
    }

    private func start(_ first: Int64, _ configuration: RateDetector.Configuration) -> Judged {
        Judged(first: first, keptFrom: firstBucket, last: lastBucket, configuration: configuration)
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
