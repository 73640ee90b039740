import Foundation

/// The rate signal, for one entity's counts per bucket (5 minutes): variance-stabilised counts at
/// several time scales against the same time of day over the past week (robust: median and MAD),
/// a CUSUM for sustained shifts, and an extreme-value tail probability from the signal's own past.
/// Causal: the score of bucket i uses buckets before i and i itself, nothing after.
public struct RateDetector: Sendable {
    public struct Configuration: Sendable {
        /// Window lengths in buckets: 5 minutes, 15 minutes, 1 hour, 3 hours at 5-minute buckets.
        public var scales: [Int] = [1, 3, 12, 36]
        public var bucketsPerDay: Int = 288
        /// Days of history for the same-time-of-day baseline.
        public var referenceDays: Int = 7
        /// Neighbouring buckets on each side that join the baseline (time-of-day jitter).
        public var slotSpread: Int = 1
        /// An anomaly needs a tail probability below this...
        public var tailProbability: Double = 1e-4
        /// ...and an effect of at least this many robust standard deviations on the stabilised scale:
        /// a quiet entity does not alarm on one extra write.
        public var minimumEffect: Double = 5
        public var cusumSlack: Double = 2
        public var cusumLimit: Double = 20
        /// Buckets that only teach the model (no score): a day.
        public var warmup: Int = 288

        public init() {}
    }

    /// What the detector says about one bucket.
    public struct Point: Sendable, Hashable {
        /// Robust z of the most deviant scale (or the CUSUM, scaled the same way).
        public var z: Double
        /// Tail probability of `z` from the past; 1 while the model is still learning.
        public var tailProbability: Double
        /// 1 - tail probability: the score in [0, 1].
        public var score: Double
        /// Events counted at the most deviant scale, and what the baseline expected, with its band.
        public var observed: Double
        public var expected: Double
        public var bandLow: Double
        public var bandHigh: Double
        /// Buckets in the most deviant window.
        public var scale: Int
        public var anomalous: Bool
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Scores every bucket of `counts`.
    public func run(_ counts: [Double]) -> [Point] {
        var stream = Stream(configuration: configuration, capacity: counts.count)
        return counts.map { stream.push($0) }
    }

    /// The detector fed one bucket at a time, oldest first: each `push` scores the bucket it is given
    /// from the buckets before it and itself, so a series can be judged while its events are still being
    /// read. The points are those `run` gives for the whole series.
    public struct Stream: Sendable {
        public let configuration: Configuration
        /// Sums of the counts before each bucket (`prefix[i]` is the sum of buckets 0..<i).
        private var prefix: [Double] = [0]
        /// Anscombe-transformed window sums per scale: Poisson counts become roughly unit variance.
        private var stabilised: [[Double]]
        private var tail = TailModel()
        private var cusum = 0.0
        private var reference: [Double] = []
        /// The reference buckets' indices (ascending, the same for every scale) and each scale's
        /// window of their values, moved bucket by bucket. Once a value is not finite (counts that are no
        /// counts), `moving` is off and the baseline is selected afresh each time, as it always gives.
        private var windows: [SortedWindow]
        private var moving = true
        private var members: [Int] = []
        private var next: [Int] = []
        private var left: [Int] = []
        private var entered: [Int] = []

        /// Buckets pushed so far.
        public var count: Int { prefix.count - 1 }

        public init(configuration: Configuration, capacity: Int = 0) {
            self.configuration = configuration
            stabilised = configuration.scales.map { _ in
                var a: [Double] = []
                a.reserveCapacity(capacity)
                return a
            }
            prefix.reserveCapacity(capacity + 1)
            reference.reserveCapacity(64)
            windows = configuration.scales.map { _ in SortedWindow() }
        }

        /// The same detector without the moving windows (each baseline selected afresh): what the
        /// windows must agree with, for tests.
        init(selectingEachTime configuration: Configuration) {
            self.init(configuration: configuration)
            moving = false
        }

        /// Writes into `next` the indices of bucket `i`'s reference buckets, ascending: the same time
        /// of day (and `slotSpread` around it) on each past day up to `referenceDays`, never past `i`;
        /// before a day has passed, the 36 buckets before `i`.
        private mutating func referenceIndices(_ i: Int) {
            let c = configuration
            next.removeAll(keepingCapacity: true)
            if i >= c.bucketsPerDay {
                let days = min(c.referenceDays, i / c.bucketsPerDay)
                for day in stride(from: days, through: 1, by: -1) {
                    let j = i - day * c.bucketsPerDay
                    for s in max(0, j - c.slotSpread)...min(i, j + c.slotSpread) { next.append(s) }
                }
                // Days closer than the spread overlap: only a tiny day does that.
                if c.bucketsPerDay <= 2 * c.slotSpread { next.sort() }
            } else if i > 0 {
                next.append(contentsOf: max(0, i - 36)..<i)
            }
        }

        /// Moves every scale's window from the previous bucket's reference to `next`'s.
        private mutating func moveWindows() {
            left.removeAll(keepingCapacity: true)
            entered.removeAll(keepingCapacity: true)
            var p = 0, q = 0
            while p < members.count || q < next.count {
                if q == next.count || (p < members.count && members[p] < next[q]) {
                    left.append(members[p])
                    p += 1
                } else if p == members.count || next[q] < members[p] {
                    entered.append(next[q])
                    q += 1
                } else {
                    p += 1
                    q += 1
                }
            }
            for k in stabilised.indices {
                stabilised[k].withUnsafeBufferPointer { a in windows[k].move(leaving: left, entering: entered, of: a) }
            }
            swap(&members, &next)
        }

        /// Scores the next bucket, whose count is `count`.
        public mutating func push(_ count: Double) -> Point {
            let c = configuration
            let i = prefix.count - 1
            prefix.append(prefix[i] + count)
            for (k, w) in c.scales.enumerated() {
                let value = 2 * (prefix[i + 1] - prefix[max(0, i + 1 - w)] + 0.375).squareRoot()
                stabilised[k].append(value)
                // Stabilised counts are positive; anything else (no count) is selected afresh.
                if !(value > 0 && value.isFinite) { moving = false }
            }
            if moving {
                referenceIndices(i)
                moveWindows()
            }
            var best = (z: -Double.infinity, scale: 1, median: 0.0, sigma: 1.0, value: 0.0)
            var zFirst = 0.0
            for (k, w) in c.scales.enumerated() {
                if moving {
                    guard windows[k].count >= 6 else { continue }
                    let value = stabilised[k][i]
                    let (median, deviation) = windows[k].medianAndDeviation()
                    let sigma = max(1.4826 * deviation, 1)
                    let z = (value - median) / sigma
                    if k == 0 { zFirst = z }
                    if z > best.z { best = (z, w, median, sigma, value) }
                    continue
                }
                reference.removeAll(keepingCapacity: true)
                stabilised[k].withUnsafeBufferPointer { a in
                    if i >= c.bucketsPerDay {
                        var day = 1
                        while day <= c.referenceDays, i - day * c.bucketsPerDay >= 0 {
                            let j = i - day * c.bucketsPerDay
                            // Never past bucket i: the baseline is causal whatever the spread.
                            for s in max(0, j - c.slotSpread)...min(i, j + c.slotSpread) { reference.append(a[s]) }
                            day += 1
                        }
                    } else if i > 0 {
                        reference.append(contentsOf: a[max(0, i - 36)..<i])
                    }
                }
                guard reference.count >= 6 else { continue }
                let value = stabilised[k][i]
                let median = RateDetector.median(&reference)
                for r in reference.indices { reference[r] = abs(reference[r] - median) }
                let sigma = max(1.4826 * RateDetector.median(&reference), 1)
                let z = (value - median) / sigma
                if k == 0 { zFirst = z }
                if z > best.z { best = (z, w, median, sigma, value) }
            }
            guard best.z > -Double.infinity else {
                return Point(z: 0, tailProbability: 1, score: 0, observed: count, expected: count, bandLow: 0, bandHigh: 0, scale: 1, anomalous: false)
            }
            // A sustained shift at the finest scale shows in the CUSUM before any one bucket stands out.
            cusum = max(0, cusum + zFirst - c.cusumSlack)
            var raw = max(best.z, 0)
            if 5 * cusum / c.cusumLimit > raw { raw = 5 * cusum / c.cusumLimit }
            if cusum > c.cusumLimit { cusum = 0 }

            var p = 1.0
            if i >= c.warmup, let tp = tail.tailProbability(raw) { p = tp }
            tail.observe(raw)
            let inverse = { (x: Double) in max(0, (x / 2) * (x / 2) - 0.375) }
            let anomalous = p < c.tailProbability && raw >= c.minimumEffect
            return Point(
                z: raw, tailProbability: p, score: RateDetector.score(p: p, z: raw, configuration: c), observed: inverse(best.value),
                expected: inverse(best.median), bandLow: inverse(best.median - 3 * best.sigma), bandHigh: inverse(best.median + 3 * best.sigma),
                scale: best.scale, anomalous: anomalous)
        }
    }

    /// The score in [0, 1], on one scale for every entity: above `alertScore` exactly when the point is
    /// anomalous (tail probability under the entity's threshold and effect large enough); at most 0.99
    /// when the effect is too small to matter.
    static func score(p: Double, z: Double, configuration c: Configuration) -> Double {
        guard z >= c.minimumEffect else { return min(1 - p, 0.99) }
        return max(0, 1 - Self.alertTail * p / c.tailProbability)
    }

    /// Scores above 1 - alertTail are anomalies, whatever the entity's own threshold.
    public static let alertTail = 1e-4
    public static var alertScore: Double { 1 - alertTail }

    /// Median of a small array (reorders it): the middle values found by selection in place, without
    /// sorting the whole array (the detector asks eight times per bucket; a sort was most of its time).
    /// The same value a sort gives: selection finds exactly the elements a sort would put there.
    static func median(_ values: inout [Double]) -> Double {
        let count = values.count
        let m = count / 2
        return values.withUnsafeMutableBufferPointer { v in
            select(v, m)
            guard count % 2 == 0 else { return v[m] }
            // The lower middle is the largest of the values before position m.
            var lower = v[0]
            for i in 1..<m where v[i] > lower { lower = v[i] }
            return (lower + v[m]) / 2
        }
    }

    /// Reorders `v` so that `v[k]` is the value a sort would put there, with nothing larger before it
    /// and nothing smaller after it (Hoare's selection, middle-of-three pivot).
    static func select(_ v: UnsafeMutableBufferPointer<Double>, _ k: Int) {
        var low = 0, high = v.count - 1
        while high > low {
            if high - low < 12 {
                // Insertion sort of a short range.
                for i in (low + 1)...high {
                    let x = v[i]
                    var j = i
                    while j > low, v[j - 1] > x {
                        v[j] = v[j - 1]
                        j -= 1
                    }
                    v[j] = x
                }
                return
            }
            let mid = low + (high - low) / 2
            if v[mid] < v[low] { v.swapAt(mid, low) }
            if v[high] < v[low] { v.swapAt(high, low) }
            if v[high] < v[mid] { v.swapAt(high, mid) }
            let pivot = v[mid]
            var i = low, j = high
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                return
            }
        }
    }
}
