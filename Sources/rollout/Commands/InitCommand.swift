import ArgumentParser
import RolloutCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter rollout/ folder (policy and tenants) that passes lint.",
        discussion: """
            Example:
              rollout init              # writes rollout/policy.yaml and rollout/tenants.yaml
              rollout init agents/shop  # somewhere else
            """
    )

    @Argument(help: ArgumentHelp("Where to write the folder.", valueName: "dir"))
    var directory: String = "rollout"

    @Flag(help: "Replace files that already exist.")
    var force = false

    func run() throws {
        let written = try StarterFolder.write(to: directory, force: force)
        for path in written { Output.line("wrote \(path)") }
        Output.line("next: edit \(written[0]), then run `rollout lint --dir \(directory)`")
    }
}
