/// The baseline of one time scale of the rate detector, kept sorted as the stream moves: from one
/// bucket to the next, seven reference buckets leave and seven enter (one per past day), so the
/// detector updates the window instead of selecting the median of twenty-one values twice per scale
/// and bucket. Its median and median absolute deviation are the values a sort of the same numbers
/// gives, bit for bit.
struct SortedWindow {
    /// The values, ascending; a value may be in it more than once.
    private(set) var values: [Double] = []

    /// The median and the median absolute deviation from it, kept until the window changes: a
    /// series' quiet stretch asks for them bucket after bucket of a window that did not move.
    private var spread: (median: Double, deviation: Double)?

    var count: Int { values.count }

    init() {
        values.reserveCapacity(40)
    }

    /// Adds `value`.
    mutating func insert(_ value: Double) {
        spread = nil
        values.insert(value, at: lowerBound(value))
    }

    /// Takes one copy of `value` out; it must be in the window.
    mutating func remove(_ value: Double) {
        spread = nil
        let at = lowerBound(value)
        precondition(at < values.count && values[at] == value, "a value left the detector's window that never entered it")
        values.remove(at: at)
    }

    /// Takes one copy of the value of each of `leaving` out and puts the value of each of `entering` in
    /// (indices into `series`): the window the removals and insertions one by one leave. A value that
    /// leaves and enters alike is not moved at all: in a quiet stretch of a series (the same few counts
    /// again and again) most of them do, and the window, with its median, stays as it was.
    mutating func move(leaving: [Int], entering: [Int], of series: UnsafeBufferPointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: leaving.count + entering.count) { scratch in
            var outgoing = 0, incoming = leaving.count
            for index in leaving {
                scratch[outgoing] = series[index]
                outgoing += 1
            }
            // Entering values that cancel a leaving one (values here are positive and finite, so equal
            // values are the same bits); the rest are kept after the leaving ones.
            for index in entering {
                let value = series[index]
                var k = 0
                while k < outgoing, scratch[k] != value { k += 1 }
                if k < outgoing {
                    outgoing -= 1
                    scratch[k] = scratch[outgoing]
                } else {
                    scratch[incoming] = value
                    incoming += 1
                }
            }
            for k in 0..<outgoing { remove(scratch[k]) }
            for k in leaving.count..<incoming { insert(scratch[k]) }
        }
    }

    /// `median()` and `medianAbsoluteDeviation(from: median())`, computed once per state of the window.
    mutating func medianAndDeviation() -> (median: Double, deviation: Double) {
        if let spread { return spread }
        let median = median()
        let computed = (median: median, deviation: medianAbsoluteDeviation(from: median))
        spread = computed
        return computed
    }

    /// The first position whose value is not below `value`: the values below it, counted. A window
    /// holds a few dozen values, and counting them without a branch beats a binary search, whose every
    /// step the processor guesses wrong half the time.
    private func lowerBound(_ value: Double) -> Int {
        values.withUnsafeBufferPointer { all in
            var below = 0
            // (A Bool's byte, added: the compiler made `x < value ? 1 : 0` a branch.)
            for x in all { below &+= Int(unsafeBitCast(x < value, to: UInt8.self)) }
            return below
        }
    }

    /// The median (the mean of the two middle values of an even count), as `RateDetector.median` gives it.
    func median() -> Double {
        let m = values.count / 2
        return values.count % 2 == 1 ? values[m] : (values[m - 1] + values[m]) / 2
    }

    /// The median of the absolute deviations from `center` (the window's median), as `RateDetector.median`
    /// gives it for `abs(value - center)` of every value. The deviations rise on both sides of the
    /// center, so the middle ones are found by merging the two sides outwards, without sorting.
    func medianAbsoluteDeviation(from center: Double) -> Double {
        let n = values.count, m = n / 2
        var left = lowerBound(center) - 1, right = left + 1
        var previous = 0.0, current = 0.0
        // Deviations in ascending order, up to the m-th (from 0).
        for _ in 0...m {
            previous = current
            if right >= n || (left >= 0 && abs(values[left] - center) <= abs(values[right] - center)) {
                current = abs(values[left] - center)
                left -= 1
            } else {
                current = abs(values[right] - center)
                right += 1
            }
        }
        return n % 2 == 1 ? current : (previous + current) / 2
    }
}
