import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Evaluate every gate for a tenant's next stage, without promoting: the CI check.",
        discussion: """
            Gates for the next stage (all must be successful; failed, inconclusive and error all block):
              chain      the audit log verifies, whole (with ROLLOUT_CHAIN_KEY, its
                         signatures too): every other gate reads it
              fuzz       the fuzz report (gates.fuzz_report) exists, was made for this
                         policy's digest and version, covers every write tool and the
                         tools/list and reads suites, has a passed attack on each tool
                         and no failure; a missing or stale report is an error
              anomalies  zero anomalies for the tenant over the soak window, with
                         enough traffic to judge (gates.min_events on
                         gates.min_coverage_days days), else inconclusive; the
                         traffic counted is what guards recorded (imported lines
                         do not count), of the --tool alone when one is given
              soak       at least gates.soak in the stage, counted again from the
                         last anomaly
              approval   broad only: a recorded approval (`rollout approve --tenant T
                         --stage broad`) by a person other than the promoter
            Leaving off needs the chain and fuzz gates only. The verdict goes to reports/gate-<tenant>.xml and to the store \
            (`rollout status` shows it). \
            Exit status: 0 every gate successful; 1 a gate blocks; 2 bad input.

            Examples:
              rollout gate --tenant acme    # exit 1 while a gate blocks
              rollout gate --tenant acme --tool refunds.issue --format json  # exit 1 too
              swift package --allow-writing-to-package-directory rollout-gate \\
                --tenant acme    # the same, in CI
            """
    )

    @OptionGroup var target: StageTarget

    @Option(help: "Evaluate for this stage (must be the next one).")
    var to: Stage?

    @Option(help: ArgumentHelp("Where the JUnit report goes (default: reports/gate-<tenant>.xml).", valueName: "path"))
    var junit: String?

    @Option(name: .customLong("fuzz-report"), help: ArgumentHelp("The fuzz report to judge (default: gates.fuzz_report of tenants.yaml).", valueName: "path"))
    var fuzzReport: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var anchorOption: ChainAnchorOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let controller = try StageSupport.controller(folder: folderOptions.folder, store: storeOption, anchor: anchorOption.anchor, fuzzReport: fuzzReport, judgingOnly: true)
        StageSupport.warnWeakGates(controller.folder, policy: controller.policy)
        let evaluation = try StageSupport.refusing { try controller.gate(tenant: target.tenant, tool: target.tool, to: to) }
        let report = try StageSupport.writeReport(evaluation, policy: controller.policy, path: junit)
        switch formatOption.format {
        case .json: Output.json(StageSupport.json(evaluation, report: report))
        case .text:
            StageSupport.printGates(evaluation)
            Output.line(evaluation.passed ? "every gate passes: `rollout promote --tenant \(target.tenant)\(target.tool.map { " --tool \($0)" } ?? "")` may proceed"
                                          : "blocked; report: \(report)")
        }
        if !evaluation.passed { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
