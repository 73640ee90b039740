import Foundation

/// Extreme-value calibration of a signal from its own past (peaks over threshold): values above the
/// running 99th percentile are fitted with a generalised Pareto distribution, which gives the tail
/// probability of a new value, even one larger than anything seen. Exceedances stay in the model, so a
/// tenant whose traffic has always been spiky is judged against its own spikes.
struct TailModel {
    var upperQuantile = 0.99
    var minExceedances = 10
    var refitEvery = 12
    /// The past values above 1, sorted, as of the last refit; those observed since wait in `pending`
    /// (inserting each into the sorted array moved half of it every bucket: quadratic in a long window).
    /// A value of at most 1 is only counted: the threshold is never below 1, so such a value is never
    /// an excess, and only its count moves the quantile (most of a quiet signal's values are 0).
    private(set) var sorted: [Double] = []
    private var pending: [Double] = []
    /// Past values of at most 1, counted.
    private(set) var atMostOne = 0
    /// Values observed so far.
    var count: Int { atMostOne + sorted.count + pending.count }
    private var threshold = 0.0
    private var shape = 0.0
    private var scale = 1.0
    private var exceedances = 0
    private var fitted = false
    private var sinceFit = Int.max

    /// Tail probability of `value` given the past, or nil while there is too little past to say.
    mutating func tailProbability(_ value: Double) -> Double? {
        if sinceFit >= refitEvery { refit() }
        sinceFit += 1
        guard fitted else { return nil }
        let y = value - threshold
        if y <= 0 { return Double(exceedances) / Double(count) }
        let rate = Double(exceedances) / Double(count)
        if abs(shape) < 1e-6 { return rate * exp(-y / scale) }
        let base = 1 + shape * y / scale
        if base <= 0 { return 0 }
        return rate * pow(base, -1 / shape)
    }

    /// Adds a value to the past (after it was scored: causal).
    mutating func observe(_ value: Double) {
        if value <= 1 {
            atMostOne += 1
        } else {
            pending.append(value)
        }
    }

    /// Merges the pending values into the sorted ones, from the back, in place.
    private mutating func settle() {
        guard !pending.isEmpty else { return }
        pending.sort()
        var i = sorted.count - 1, j = pending.count - 1
        sorted.append(contentsOf: repeatElement(0, count: pending.count))
        var k = sorted.count - 1
        while j >= 0 {
            if i >= 0, sorted[i] > pending[j] {
                sorted[k] = sorted[i]
                i -= 1
            } else {
                sorted[k] = pending[j]
                j -= 1
            }
            k -= 1
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Method-of-moments fit of the excesses over the upper quantile.
    private mutating func refit() {
        sinceFit = 0
        settle()
        let all = count
        guard all > 100 else {
            fitted = false
            return
        }
        // The quantile of every value: at most 1 (so the threshold is 1) while it falls among the counted ones.
        let quantile = Int(Double(all - 1) * upperQuantile) - atMostOne
        threshold = quantile < 0 ? 1 : max(sorted[quantile], 1)
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] <= threshold { low = mid + 1 } else { high = mid }
        }
        let excesses = sorted[low...].map { $0 - threshold }
        exceedances = excesses.count
        guard exceedances >= minExceedances else {
            fitted = false
            return
        }
        let mean = excesses.reduce(0, +) / Double(exceedances)
        let variance = excesses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(exceedances)
        if variance <= 0 {
            shape = 0
            scale = max(mean, 1e-9)
        } else {
            shape = 0.5 * (1 - mean * mean / variance)
            scale = max(0.5 * mean * (1 + mean * mean / variance), 1e-9)
        }
        fitted = true
    }
}
