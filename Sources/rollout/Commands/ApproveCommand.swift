import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutGuard
import RolloutMCP
import RolloutStore

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a queued write (by id), or a tenant's promotion to a stage (--tenant --stage).",
        discussion: """
            A queued write runs now, once, exactly as asked, on the backend it was queued for and nowhere else: the \
            built-in demo, or the upstream of rollout/upstreams.yaml it names (started for the approval; one started \
            from a bare command is started again from the command its write recorded), writing where it was asked to: the values of the \
            entry's env: variables (for a bare command, the whole environment but ROLLOUT_*, PGPASSWORD, the \
            shell's _, PWD, OLDPWD and SHLVL and the terminal session's TERM, SSH_* and the like), and the \
            database the queuing guard observed (give the same --observe), must be the same, else it stays pending. The approver must not be the actor \
            who asked (names compared case- and width-blind), an expired approval does not run, and the stored request \
            must still match its chained pending event. Whether it was already decided is read from the audit log \
            after that event, which must verify to its head (as `rollout audit verify` checks it; a long log is read \
            before the write lock is taken): an edited or missing event there refuses it, and with --anchor so does \
            an end cut off with the head moved back. A stage approval is recorded in tenants.yaml and the audit \
            log; the approval gate for broad needs one, by a person other than the promoter (and one of \
            gates.approvers, when the list is set). When the folder has approvers.yaml (serve's approvers), a queued \
            write is approved or denied by one of them only. \
            Exit status: 0 done; 1 refused (expired, own request, state changed, not the next stage); 2 bad input.

            Examples:
              rollout approvals                      # what is waiting
              rollout approve 3 --by maria.lopez \\
                --reason "refund checked against the ticket"
              rollout approve --tenant acme --stage broad --by dev.patel \\
                --reason "two clean weeks, refunds reconciled"
            """
    )

    @Argument(help: "The approval id of a queued write (see `rollout approvals`).")
    var id: Int64?

    @Option(help: "Approve this tenant's promotion (with --stage).", completion: .rolloutTenants)
    var tenant: String?

    @Option(help: "Only this tool's promotion (with --tenant).", completion: .rolloutTools)
    var tool: String?

    @Option(help: "The stage the promotion goes to (the tenant's next stage).")
    var stage: Stage?

    @Option(help: "Who approves (default for writes: $ROLLOUT_ACTOR or $USER; required for stages).")
    var by: String?

    @Option(help: "Why.")
    var reason: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("For a write queued by `rollout guard -- CMD` without an upstreams.yaml entry: its command, after -- (by default the one its pending event recorded; another is refused).", valueName: "command"))
    var upstreamCommand: [String] = []

    @Option(help: ArgumentHelp("Read the upstream's rows here for before/after values (default: the database its write recorded, else its entry's observe).", valueName: "sqlite:PATH"))
    var observe: String?

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the log must still hold that head, so a tail deleted with the head moved back is refused.", valueName: "file"))
    var anchor: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func validate() throws {
        if !upstreamCommand.isEmpty || observe != nil, id == nil { throw ValidationError("an upstream command and --observe go with an approval id") }
        if id != nil, tenant != nil || stage != nil { throw ValidationError("give either an approval id or --tenant with --stage, not both") }
        if id == nil, tenant == nil || stage == nil { throw ValidationError("give an approval id (see `rollout approvals`) or --tenant T --stage S") }
        if tenant != nil, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("a stage approval needs --reason") }
        if tool != nil, tenant == nil { throw ValidationError("--tool goes with --tenant") }
    }

    func run() async throws {
        if let tenant, let stage {
            let person = try Person.explicit(by)
            let controller = try StageSupport.controller(folder: folderOptions.folder, store: storeOption, anchor: anchor)
            let (change, seq) = try StageSupport.refusing {
                try controller.approve(tenant: tenant, tool: tool, stage: stage, by: person, reason: reason ?? "")
            }
            StageChangePrinter.print(change, seq: seq, file: controller.folder.tenantsPath, format: formatOption.format)
            return
        }
        let store = try storeOption.open(create: false)
        store.anchor = try AnchorOption.read(anchor)
        let approver = try Person.approver(by, folder: folderOptions.folder)
        let decision = try await BackendRun.approve(id!, by: approver, reason: reason, folder: folderOptions.folder, store: store,
                                                    command: upstreamCommand.isEmpty ? nil : upstreamCommand, observe: observe,
                                                    log: { Output.error($0) })
        DecisionPrinter.print(decision, format: formatOption.format)
        if decision.code != .executed { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

struct DenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a queued write; it will never run.",
        discussion: "Example:\n  rollout deny 4 --by maria.lopez --reason \"amount does not match the ticket\""
    )

    @Argument(help: "The approval id.")
    var id: Int64

    @Option(help: "Who denies (default: $ROLLOUT_ACTOR or $USER; one of approvers.yaml when the folder has one).")
    var by: String?

    @Option(help: "Why; recorded in the audit log.")
    var reason: String

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var anchorOption: ChainAnchorOption
    @OptionGroup var formatOption: FormatOption

    func run() async throws {
        let store = try storeOption.open(create: false)
        store.anchor = try anchorOption.read()
        let decision = try await BackendRun.deny(id, by: try Person.approver(by, folder: folderOptions.folder), reason: reason, folder: folderOptions.folder, store: store)
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

    @Option(help: "Only this tenant.", completion: .rolloutTenants)
    var tenant: String?

    @Flag(help: "Every approval, decided ones included.")
    var all = false

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let approvals = try store.approvals(status: all ? nil : .pending, tenant: tenant)
        // Without a policy, credential-named keys are still hidden.
        let key = try store.redactionKey()
        let redactor = (try? folderOptions.folder.loadPolicy()).map { Redactor(policy: $0, key: key) } ?? Redactor(key: key)
        switch formatOption.format {
        case .json:
            Output.json(.array(approvals.map { a in
                [
                    "id": .number(Double(a.id)), "tenant": .string(a.tenant), "actor": .string(a.actor), "tool": .string(a.tool),
                    "status": .string(a.status.rawValue), "created": .string(Timestamp.formatSeconds(a.createdAt)),
                    "expires": .string(Timestamp.formatSeconds(a.expiresAt)), "arguments": redactor.redact(a.call.arguments), "backend": .string(a.backend),
                    "pending_event": .number(Double(a.pendingSeq)), "decided_by": a.decidedBy.map(JSONValue.string) ?? .null,
                ]
            }))
        case .text:
            if approvals.isEmpty { Output.line(all ? "no approvals" : "no writes are waiting for approval") }
            for a in approvals {
                Output.line("\(a.id)  \(a.status.rawValue)  \(a.tenant)  \(a.actor)  \(a.tool)  expires \(Timestamp.formatSeconds(a.expiresAt))  \(a.backend)  \(redactor.redact(a.call.arguments).canonicalText)")
            }
        }
    }
}

enum DecisionPrinter {
    static func print(_ decision: Decision, format: OutputFormat) {
        switch format {
        case .json: Output.json(decision.json)
        case .text: Output.line("\(decision.code.rawValue) (audit event \(decision.auditSeq)): \(VisibleText.oneLine(decision.message))")
        }
    }
}
