import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutStore

struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Advance a tenant (or one tool) one stage, only when every gate passes.",
        discussion: """
            Evaluates the gates (see `rollout gate --help`); when all are successful, writes the change to \
            tenants.yaml (and the flags file, when there is one) and an event to the audit log, with the digests \
            of the policy, the fuzz report, the anomaly report and the audit chain head. Of two promotions at \
            once, one wins and the other is refused. An --automated promoter cannot overrule a person's demote \
            or pause; broad needs an approval by someone other than the promoter. \
            Exit status: 0 promoted (or, with --dry-run, would be); 1 refused; 2 bad input.

            Examples:
              rollout promote --tenant acme --to broad --dry-run   # the gates, no change
              rollout promote --tenant acme --by maria.lopez \\
                --reason "clean week in soft launch"
              rollout promote --tenant globex --tool orders.update --by ci-bot \\
                --automated --reason "nightly gate"
            """
    )

    @OptionGroup var target: StageTarget

    @Option(help: "The stage to promote to (must be the next one; a check against surprises).")
    var to: Stage?

    @Option(help: "Who promotes (required unless --dry-run, or $ROLLOUT_ACTOR is set).")
    var by: String?

    @Option(help: "Why; recorded with the change.")
    var reason: String?

    @Flag(help: "The promoter is a program (CI, a bot), not a person.")
    var automated = false

    @Flag(help: "Evaluate and print what would happen; change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Where the gate's JUnit report goes (default: reports/gate-<tenant>.xml).", valueName: "path"))
    var junit: String?

    @Option(name: .customLong("fuzz-report"), help: ArgumentHelp("The fuzz report to judge (default: gates.fuzz_report).", valueName: "path"))
    var fuzzReport: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var anchorOption: ChainAnchorOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let person = dryRun ? (try? Person.resolve(by)) ?? "dry-run" : try Person.explicit(by)
        let controller = try StageSupport.controller(folder: folderOptions.folder, store: storeOption, anchor: anchorOption.anchor, fuzzReport: fuzzReport)
        StageSupport.warnWeakGates(controller.folder, policy: controller.policy)
        let promotion = try StageSupport.refusing {
            try controller.promote(tenant: target.tenant, tool: target.tool, to: to, by: person, automated: automated, reason: reason, dryRun: dryRun)
        }
        let evaluation = promotion.evaluation
        let report = try StageSupport.writeReport(evaluation, policy: controller.policy, path: junit)
        switch formatOption.format {
        case .json:
            var out = StageSupport.json(evaluation, report: report).objectValue ?? [:]
            out["dry_run"] = .bool(dryRun)
            out["promoted"] = .bool(promotion.change != nil)
            out["audit_event"] = promotion.auditSeq.map { .number(Double($0)) } ?? .null
            Output.json(.object(out))
        case .text:
            StageSupport.printGates(evaluation)
            if let change = promotion.change, let seq = promotion.auditSeq {
                Output.line("promoted \(target.tenant)\(target.tool.map { "/\($0)" } ?? "") from \(change.from?.rawValue ?? "?") to \(change.to?.rawValue ?? "?") by \(person) (audit event \(seq)); \(controller.folder.tenantsPath) updated")
            } else if dryRun, evaluation.passed {
                Output.line("dry run: every gate passes; nothing changed")
            } else {
                Output.line("refused: \(evaluation.results.filter { $0.status != .successful }.map(\.gate).joined(separator: ", ")) blocked; report: \(report)")
            }
        }
        if !evaluation.passed { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
