import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutStore

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "The kill switch: every write tool of a tenant is off at once, its stages kept for `resume`.",
        discussion: """
            No gate, recorded in tenants.yaml (paused: true), the flags file and the audit log, which must be there \
            (refused, exit 2, where no store is: one made here would hold no other host's pause). \
            Guards on every host that writes the same audit store obey it within a second, whatever their own \
            tenants.yaml says (many hosts share one PostgreSQL store: --store postgres://...). \
            Exit status: 0 paused; 1 refused (already paused, or a race lost); 2 bad input.

            Example:
              rollout pause --tenant acme --by maria.lopez --reason "agent looping"
            """
    )

    @Option(help: "The tenant.", completion: .rolloutTenants)
    var tenant: String

    @Option(help: "Who pauses (required, or $ROLLOUT_ACTOR).")
    var by: String?

    @Option(help: "Why; recorded with the change.")
    var reason: String

    @Flag(help: "The actor is a program (CI, a bot, an alert), not a person.")
    var automated = false

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var anchorOption: ChainAnchorOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        try PauseCommand.change(tenant: tenant, paused: true, by: by, reason: reason, automated: automated,
                                folder: folderOptions.folder, store: storeOption, anchor: anchorOption.anchor, format: formatOption.format)
    }

    static func change(tenant: String, paused: Bool, by: String?, reason: String, automated: Bool, folder: RolloutFolder, store: StoreOption,
                       anchor: String?, format: OutputFormat) throws {
        let person = try Person.explicit(by)
        let controller = try StageSupport.controller(folder: folder, store: store, anchor: anchor)
        let (change, seq) = try StageSupport.refusing {
            try controller.pause(tenant: tenant, paused: paused, by: person, automated: automated, reason: reason)
        }
        StageChangePrinter.print(change, seq: seq, file: controller.folder.tenantsPath, format: format)
    }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Lift a pause: the tenant's tools return to the stages they had.",
        discussion: """
            An automated actor cannot lift a person's pause. A pause made on another host that writes the same \
            audit store is lifted from here too (this host's tenants.yaml was never paused); a host whose own \
            tenants.yaml says paused stays off until it is resumed there.

            Example:
              rollout resume --tenant acme --by maria.lopez \\
                --reason "fix deployed, refunds back to normal"
            """
    )

    @Option(help: "The tenant.", completion: .rolloutTenants)
    var tenant: String

    @Option(help: "Who resumes (required, or $ROLLOUT_ACTOR).")
    var by: String?

    @Option(help: "Why; recorded with the change.")
    var reason: String

    @Flag(help: "The actor is a program, not a person.")
    var automated = false

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var anchorOption: ChainAnchorOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        try PauseCommand.change(tenant: tenant, paused: false, by: by, reason: reason, automated: automated,
                                folder: folderOptions.folder, store: storeOption, anchor: anchorOption.anchor, format: formatOption.format)
    }
}
