import ArgumentParser
import Foundation

/// Benchmarks for DESIGN.md's budgets. Run them on a release build:
/// `swift run -c release rollout-bench policy`.
@main
struct RolloutBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout-bench",
        abstract: "Measure rollout against its budgets (release build, see DESIGN.md).",
        discussion: "Example: swift run -c release rollout-bench policy --dir rollout",
        subcommands: [PolicyBench.self, GuardBench.self, ImportBench.self, FuzzBench.self, MCPBench.self, ScoreBench.self, StatusBench.self, ReportBench.self, GuardProxyBench.self, PostgresBench.self, PostgresWriter.self, ServeBench.self]
    )
}
