import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutStore

struct DemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demote",
        abstract: "Move a tenant (or one tool) back a stage at once: no gate, recorded; needs the audit store.",
        discussion: """
            Writes tenants.yaml (and the flags file, when there is one) and an audit event. The guard reads the \
            new stage on its next call. A tenant's demotion is a ceiling: a tool promoted on its own above the new \
            stage comes down to it (`--to off` leaves no tool live). A person's demotion also stops automated promotion until a person promotes. \
            A tenant already at the stage asked for (or off) is still demoted when a tool of its stands above it. \
            The audit store must be there (--store, ROLLOUT_STORE): one made here would hold no other host's pause. \
            Exit status: 0 demoted; 1 refused (already there with no tool above, or a race lost: run it again); 2 bad input or no store.

            Examples:
              rollout demote --tenant acme --by maria.lopez \\
                --reason "refund spike under investigation"
              rollout demote --tenant acme --tool refunds.issue --to off --by ci-bot \\
                --automated --reason "anomaly alert"
            """
    )

    @OptionGroup var target: StageTarget

    @Option(help: "The stage to go back to (default: the previous one).")
    var to: Stage?

    @Option(help: "Who demotes (required, or $ROLLOUT_ACTOR).")
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
        let person = try Person.explicit(by)
        let controller = try StageSupport.controller(folder: folderOptions.folder, store: storeOption, anchor: anchorOption.anchor)
        let (change, seq) = try StageSupport.refusing {
            try controller.demote(tenant: target.tenant, tool: target.tool, to: to, by: person, automated: automated, reason: reason)
        }
        StageChangePrinter.print(change, seq: seq, file: controller.folder.tenantsPath, format: formatOption.format)
    }
}

/// How a recorded stage change prints.
enum StageChangePrinter {
    static func print(_ change: StageChange, seq: Int64, file: String, format: OutputFormat) {
        let subject = change.tool.map { "\(change.tenant)/\($0)" } ?? change.tenant
        switch format {
        case .json:
            var out: [String: JSONValue] = [
                "tenant": .string(change.tenant), "action": .string(change.action.rawValue), "by": .string(change.by),
                "automated": .bool(change.automated), "at": .string(Timestamp.formatSeconds(change.at)), "audit_event": .number(Double(seq)),
                "file": .string(file),
            ]
            out["tool"] = change.tool.map(JSONValue.string) ?? .null
            out["from"] = change.from.map { .string($0.rawValue) } ?? .null
            out["to"] = change.to.map { .string($0.rawValue) } ?? .null
            out["reason"] = change.reason.map(JSONValue.string) ?? .null
            if let lowered = change.evidence[StageMachine.loweredTools] { out["tools_lowered"] = .string(lowered) }
            Output.json(.object(out))
        case .text:
            let what: String
            switch change.action {
            case .promote, .demote: what = "\(change.action.rawValue)d \(subject) from \(change.from?.rawValue ?? "?") to \(change.to?.rawValue ?? "?")"
            case .pause: what = "paused \(subject): every write tool is off until `rollout resume`"
            case .resume: what = "resumed \(subject) at \(change.to?.rawValue ?? "?")"
            case .approve: what = "approved \(subject) for \(change.to?.rawValue ?? "?")"
            }
            let lowered = change.evidence[StageMachine.loweredTools].map { "; its tools' own stages lowered with it: \($0)" } ?? ""
            Output.line("\(what) by \(change.by) (audit event \(seq))\(lowered); \(file) updated")
        }
    }
}
