import Foundation

/// Wall-clock measurement for benchmarks: repeated runs, median and spread.
enum BenchClock {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds taken by `body`.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return Double(now() - start) / 1e9
    }

    /// Seconds taken by `body`, which may suspend.
    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = now()
        try await body()
        return Double(now() - start) / 1e9
    }

    /// Runs `body` `repeats` times and returns the sorted durations in seconds.
    static func samples(repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
        var out: [Double] = []
        for _ in 0..<repeats { out.append(try time(body)) }
        return out.sorted()
    }

    static func median(_ sorted: [Double]) -> Double { sorted[sorted.count / 2] }

    static func format(_ seconds: Double) -> String {
        if seconds < 1e-3 { return String(format: "%.1f µs", seconds * 1e6) }
        if seconds < 1 { return String(format: "%.2f ms", seconds * 1e3) }
        return String(format: "%.2f s", seconds)
    }

    static func rate(_ count: Int, _ seconds: Double) -> String {
        let r = Double(count) / seconds
        if r >= 1e6 { return String(format: "%.2fM/s", r / 1e6) }
        if r >= 1e3 { return String(format: "%.1fk/s", r / 1e3) }
        return String(format: "%.0f/s", r)
    }
}
