/// The baseline of one time scale of the rate detector, kept sorted as the stream moves: from one
/// bucket to the next, seven reference buckets leave and seven enter (one per past day), so the
/// detector updates the window instead of selecting the median of twenty-one values twice per scale
/// and bucket. Its median and median absolute deviation are the values a sort of the same numbers
/// gives, bit for bit.
struct SortedWindow {
    /// The values, ascending; a value may be in it more than once.
    private(set) var values: [Double] = []

    var count: Int { values.count }

    init() {
        values.reserveCapacity(40)
    }

    /// Adds `value`.
    mutating func insert(_ value: Double) {
        values.insert(value, at: lowerBound(value))
    }

    /// Takes one copy of `value` out; it must be in the window.
    mutating func remove(_ value: Double) {
        let at = lowerBound(value)
        precondition(at < values.count && values[at] == value, "a value left the detector's window that never entered it")
        values.remove(at: at)
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
