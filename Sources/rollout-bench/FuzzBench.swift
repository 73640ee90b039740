import ArgumentParser
import Foundation
import RolloutCore
import RolloutFuzz

/// Adversarial calls per second against the built-in guard.
struct FuzzBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Adversarial calls per second against the built-in guard (budget 20k/s)."
    )

    @Option(help: "The rollout folder whose policy is fuzzed.")
    var dir = "rollout"

    @Option(help: "Calls per run.")
    var calls = 20_000

    @Option(help: "Runs; the median is reported.")
    var repeats = 3

    func run() async throws {
        let policy = try RolloutFolder(directory: dir).loadPolicy()
        var rates: [Double] = []
        var last: FuzzResult?
        for _ in 0..<repeats {
            let target = try BuiltinTarget(policy: policy)
            var result: FuzzResult?
            let seconds = try await BenchClock.time {
                result = try await Adversary(policy: policy, target: target, options: FuzzOptions(seed: 1, calls: calls)).run()
            }
            rates.append(Double(result!.calls) / seconds)
            last = result
        }
        rates.sort()
        let result = last!
        print("fuzz against the built-in guard: \(String(format: "%.1fk", rates[rates.count / 2] / 1000)) calls/s median of \(repeats) (min \(String(format: "%.1fk", rates[0] / 1000)), max \(String(format: "%.1fk", rates[rates.count - 1] / 1000))); budget 20k/s")
        print("  \(result.calls) calls per run: \(result.results.count) tool x class cases, \(result.results.reduce(0) { $0 + $1.attacks }) catalogue attacks, the rest random variants; \(result.findings.count) findings")
    }
}
