import ArgumentParser
import Foundation
import RolloutCore

extension OutputFormat: ExpressibleByArgument {}

/// The options every command shares: where the rollout folder, the policy and the store are.
struct FolderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The rollout folder.", valueName: "dir"))
    var dir: String = "rollout"

    @Option(name: .long, help: ArgumentHelp("The policy file (default: DIR/policy.yaml).", valueName: "path"))
    var policy: String?

    var folder: RolloutFolder { RolloutFolder(directory: dir, policyPath: policy) }
}

/// `--format text|json` for commands that print data.
struct FormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: text for people, json for machines.")
    var format: OutputFormat = .text
}

enum RolloutVersion {
    static let current = "0.1.0"
}
