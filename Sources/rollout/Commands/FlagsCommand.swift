import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutReports
import RolloutStore

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
            existing file up to date; `rollout lint` reports one that is out of date. A tenant paused from another \
            host is paused in the audit store only: without a store (`--store`, `ROLLOUT_STORE`) the export is refused, \
            unless `--without-store` says to export tenants.yaml alone. The store's hash chain is verified first (held to \
            `--anchor` or ROLLOUT_ANCHOR when given): a pause whose event and row were deleted would turn its tenant back \
            on, so a broken chain exports nothing (exit 1).

            Examples:
              rollout flags export                      # writes rollout/flags.flagd.json
              rollout flags export --out -              # to standard output
            """
    )

    @Option(help: ArgumentHelp("Where to write (default: DIR/flags.flagd.json; - for standard output).", valueName: "path"))
    var out: String?

    @Flag(help: "Export tenants.yaml alone, with no audit store: a pause made from another host (held in the store) is not applied.")
    var withoutStore = false

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the store's chain must still hold that head, so a pause cut off the log's tail with the head moved back is a broken chain.", valueName: "file"))
    var anchor: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if withoutStore, let store = storeOption.store {
            throw ValidationError("--without-store exports tenants.yaml alone, and --store names a store (\(StoreEngines.redacted(store))) whose pauses would then be left out: give one of them")
        }
    }

    func run() throws {
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        // A tenant the audit store holds paused (paused on any host) is off in the flags too: a store that is not
        // there could be one looked for in the wrong place, and the flags would turn such a tenant back on.
        let store = withoutStore ? nil : try storeOption.openReadOnlyIfPresent()
        if store == nil, !withoutStore {
            throw ValidationError("no audit store at \(storeOption.path): tenants paused from any host are paused there, and flags exported without it could turn one back on. Give --store (or ROLLOUT_STORE), or --without-store to export \(folder.tenantsPath) alone")
        }
        // The pauses are read from a log shown intact: one whose pause event and row were deleted reads as never paused.
        if let store {
            let verification = try store.verify(key: ChainKey.fromEnvironment, anchor: try AnchorOption.read(anchor))
            if let broken = verification.firstBreak {
                Output.error("the audit log's hash chain breaks at event #\(broken.seq) (\(broken.problem.rawValue): \(broken.detail)): a pause may have been taken out of it, and the flags would turn that tenant back on; nothing was written. Run rollout audit verify")
                throw FailureExit(status: ExitStatus.problemFound)
            }
        }
        let tenants = try folder.loadTenants(policy: policy).withSharedPauses(from: store)
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
