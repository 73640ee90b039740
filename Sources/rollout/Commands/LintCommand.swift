import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutReports

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check the rollout folder (policy, tenants, flags) and print every problem.",
        discussion: """
            Each problem is printed as FILE:LINE:COLUMN: SEVERITY: FIELD.PATH: MESSAGE (expected ...). \
            Exit status: 0 clean (warnings allowed), 1 problems found, 2 a file could not be read.

            Example:
              rollout lint
              rollout lint agents/shop --format json
              rollout lint --junit reports/lint.xml
              rollout lint --format sarif > reports/lint.sarif   # for code scanning
            """
    )

    @Argument(help: ArgumentHelp("The rollout folder (same as --dir).", valueName: "dir"))
    var directory: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FindingsFormatOption

    @Option(help: ArgumentHelp("Also write the result as a JUnit XML report.", valueName: "path"))
    var junit: String?

    @OptionGroup var junitProfileOption: JUnitProfileOption

    func run() throws {
        var folder = folderOptions.folder
        if let directory { folder = RolloutFolder(directory: directory, policyPath: folderOptions.policy) }
        // The flags say off for a tenant the audit store holds paused (from any host), when there is a store.
        let store = try? storeOption.openReadOnlyIfPresent()
        let report = Linter.lint(folder) { tenants, policy in
            FlagdExport.document((try? tenants.withSharedPauses(from: store)) ?? tenants, tools: policy.tools.map(\.name))
        }
        if let junit {
            try JUnitWriter.write(LintJUnit.report(report, at: Date()), to: junit, profile: junitProfileOption.junitProfile)
        }

        switch formatOption.format {
        case .json:
            Output.json(.object([
                "files": .array(report.files.map(JSONValue.string)),
                "errors": .number(Double(report.errorCount)),
                "warnings": .number(Double(report.warningCount)),
                "problems": .array(report.diagnostics.map(\.json)),
            ]))
        case .sarif:
            Output.json(LintSARIF.log(report, version: RolloutVersion.current).json)
            for diagnostic in report.diagnostics { Output.error(diagnostic.description) }
        case .text:
            for diagnostic in report.diagnostics { Output.line(diagnostic.description) }
            let summary = "\(report.files.count) file\(report.files.count == 1 ? "" : "s") checked: "
                + "\(report.errorCount) error\(report.errorCount == 1 ? "" : "s"), "
                + "\(report.warningCount) warning\(report.warningCount == 1 ? "" : "s")"
            Output.error(summary)
        }
        if report.unreadable { throw FailureExit(status: ExitStatus.badInput) }
        if report.errorCount > 0 { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
