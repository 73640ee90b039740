import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a queued write: it runs now, once, exactly as asked.",
        discussion: """
            The approver must not be the actor who asked; an expired approval does not run.
            Exit status: 0 the write executed; 1 it was refused (expired, own request, state changed).

            Example:
              rollout approvals                      # what is waiting
              rollout approve 3 --by maria.lopez --reason "refund checked against the ticket"
            """
    )

    @Argument(help: "The approval id (see `rollout approvals`).")
    var id: Int64

    @Option(help: "Who approves (default: $ROLLOUT_ACTOR or $USER).")
    var by: String?

    @Option(help: "Why.")
    var reason: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let guard_ = try GuardFactory.make(folder: folderOptions.folder, store: store)
        let decision = try guard_.approve(id, by: try Person.resolve(by), reason: reason)
        DecisionPrinter.print(decision, format: formatOption.format)
        if decision.code != .executed { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a queued write; it will never run.",
        discussion: "Example:\n  rollout deny 3 --by maria.lopez --reason \"amount does not match the ticket\""
    )

    @Argument(help: "The approval id.")
    var id: Int64

    @Option(help: "Who denies (default: $ROLLOUT_ACTOR or $USER).")
    var by: String?

    @Option(help: "Why; recorded in the audit log.")
    var reason: String

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let guard_ = try GuardFactory.make(folder: folderOptions.folder, store: store)
        let decision = try guard_.deny(id, by: try Person.resolve(by), reason: reason)
        DecisionPrinter.print(decision, format: formatOption.format)
        if decision.code != .approvalDenied { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

struct ApprovalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List writes waiting for a person (or every approval with --all).",
        discussion: "Example:\n  rollout approvals --tenant acme"
    )

    @Option(help: "Only this tenant.")
    var tenant: String?

    @Flag(help: "Every approval, decided ones included.")
    var all = false

    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let approvals = try store.approvals(status: all ? nil : .pending, tenant: tenant)
        switch formatOption.format {
        case .json:
            Output.json(.array(approvals.map { a in
                [
                    "id": .number(Double(a.id)), "tenant": .string(a.tenant), "actor": .string(a.actor), "tool": .string(a.tool),
                    "status": .string(a.status.rawValue), "created": .string(Timestamp.formatSeconds(a.createdAt)),
                    "expires": .string(Timestamp.formatSeconds(a.expiresAt)), "arguments": Redactor().redact(a.call.arguments),
                    "pending_event": .number(Double(a.pendingSeq)),
                ]
            }))
        case .text:
            if approvals.isEmpty { Output.line(all ? "no approvals" : "no writes are waiting for approval") }
            for a in approvals {
                Output.line("\(a.id)  \(a.status.rawValue)  \(a.tenant)  \(a.actor)  \(a.tool)  expires \(Timestamp.formatSeconds(a.expiresAt))  \(Redactor().redact(a.call.arguments).canonicalText)")
            }
        }
    }
}

enum DecisionPrinter {
    static func print(_ decision: Decision, format: OutputFormat) {
        switch format {
        case .json: Output.json(decision.json)
        case .text: Output.line("\(decision.code.rawValue) (audit event \(decision.auditSeq)): \(decision.message)")
        }
    }
}
