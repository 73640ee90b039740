import ArgumentParser
import Foundation
import RolloutCore

/// Policy load and validation time, and JsonLogic evaluations per second on an approval rule.
struct PolicyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Policy load + validation time; JsonLogic evaluations per second."
    )

    @Option(help: "The rollout folder whose policy is loaded.")
    var dir = "rollout"

    @Option(help: "Load repetitions.")
    var repeats = 200

    @Option(help: "JsonLogic evaluations.")
    var evaluations = 2_000_000

    func run() throws {
        let folder = RolloutFolder(directory: dir)
        var policy: Policy?
        let loads = try BenchClock.samples(repeats: repeats) { policy = try folder.loadPolicy() }
        guard let policy else { return }
        print("policy load + validation (\(folder.policyPath), \(policy.tools.count) tools, \(policy.models.count) models)")
        print("  median \(BenchClock.format(BenchClock.median(loads))), min \(BenchClock.format(loads[0])), max \(BenchClock.format(loads[loads.count - 1])) over \(repeats) runs")

        let digests = BenchClock.samples(repeats: repeats) { _ = policy.digest }
        print("  digest of the canonical form: median \(BenchClock.format(BenchClock.median(digests)))")

        let rule = try JsonLogicRule([">": [["var": "after.amount_cents"], 50000]])
        let compound = try JsonLogicRule(try JSONValue.parse("""
            {"and": [{">": [{"var": "after.amount_cents"}, 50000]},
                     {"in": [{"var": "tenant"}, ["acme", "globex"]]},
                     {"!=": [{"var": "before.status"}, "refunded"]}]}
            """))
        let data: [JSONValue] = (0..<64).map { i in
            [
                "tool": "refunds.issue", "tenant": i % 2 == 0 ? "acme" : "globex", "actor": "agent-1",
                "args": ["order_id": .number(Double(i))],
                "before": ["status": "paid"], "after": ["amount_cents": .number(Double(i * 1_000))], "rows": 1,
            ]
        }
        for (name, r) in [("approval rule {\">\": [{\"var\": \"after.amount_cents\"}, 50000]}", rule), ("three-clause rule", compound)] {
            var hits = 0
            let seconds = BenchClock.time {
                for i in 0..<evaluations where r.isTruthy(data[i & 63]) { hits += 1 }
            }
            print("JsonLogic \(name): \(BenchClock.rate(evaluations, seconds)) (\(evaluations) evaluations in \(BenchClock.format(seconds)), \(hits) true)")
        }
    }
}
