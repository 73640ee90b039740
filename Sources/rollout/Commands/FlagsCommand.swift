import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutReports

struct FlagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flags",
        abstract: "The per-tenant stages as feature flags that runtimes read.",
        subcommands: [FlagsExportCommand.self]
    )
}

struct FlagsExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write flagd flag definitions: one flag per write tool, variant = the tenant's stage.",
        discussion: """
            The file is flagd's flag-definition JSON (https://flagd.dev/schema/v0/flags.json): flag \
            `write-tool.<tool>`, variants off | shadow | soft | broad, default `off` (an unknown tenant fails closed), \
            targeting on the evaluation context's `tenant` field; a paused tenant is off everywhere. Any OpenFeature \
            SDK with a flagd provider (file or in-process mode) evaluates it. `promote`, `demote` and `pause` keep an \
            existing file up to date; `rollout lint` reports one that is out of date.

            Examples:
              rollout flags export                      # writes rollout/flags.flagd.json
              rollout flags export --out -              # to standard output
            """
    )

    @Option(help: ArgumentHelp("Where to write (default: DIR/flags.flagd.json; - for standard output).", valueName: "path"))
    var out: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        // A tenant the audit store holds paused (paused on any host) is off in the flags too.
        let tenants = try folder.loadTenants(policy: policy).withSharedPauses(from: try storeOption.openReadOnlyIfPresent())
        let text = FlagdExport.text(tenants, tools: policy.tools.map(\.name))
        let path = out ?? folder.flagsPath
        if path == "-" {
            print(text, terminator: "")
            return
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        Output.error("wrote \(path): \(policy.tools.count) flags for \(tenants.tenants.count) tenants")
    }
}
