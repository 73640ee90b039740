import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutMCP

struct GuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Enforce the policy in front of any MCP tool server: an MCP proxy over stdio.",
        discussion: """
            The agent's host starts `rollout guard ... -- CMD ARGS` instead of the tool server. Reads are forwarded;
            every write meets the decision pipeline (stage, reason, idempotency, tenant, fields, values, caps, dry run,
            approval) for the principal given here, never one taken from the arguments, and only an allowed write is
            forwarded. tools/list shows what the tenant's stages allow (tenants.yaml is re-read when it changes);
            refusals come back as tool errors naming the decision code; idempotent retries are answered from the
            ledger; every decision is one audit event, with before/after values read through --observe (or
            "before unknown" without it). Standard output is the MCP channel; messages go to standard error.
            Queued approvals run with `rollout approve ID --upstream "CMD ARGS" [--observe ...]`.

            Example (an MCP client configuration's command line):
              rollout guard --dir rollout/examples/ormai --tenant acme --actor agent-1 \\
                --observe sqlite:/tmp/ormai/demo.db -- bash ../shared/targets/ormai/serve.sh
            """
    )

    @Option(help: "The tenant the host vouches for (or $ROLLOUT_TENANT).")
    var tenant: String?

    @Option(help: "The agent or user on whose behalf calls are made (or $ROLLOUT_ACTOR).")
    var actor: String?

    @Option(help: "A session id recorded with every event (or $ROLLOUT_SESSION).")
    var session: String?

    @Option(help: ArgumentHelp("Read the upstream's rows from its database, for before/after values and tenant checks.", valueName: "sqlite:PATH"))
    var observe: String?

    @Option(help: ArgumentHelp("Seconds an upstream call may take.", valueName: "seconds"))
    var callTimeout: Double = 30

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The upstream MCP server's command, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the upstream server's command after --, e.g. rollout guard --tenant acme --actor a -- python3 server.py") }
        if let observe, !observe.hasPrefix("sqlite:") { throw ValidationError("--observe takes sqlite:PATH") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let tenant = tenant ?? env["ROLLOUT_TENANT"], !tenant.isEmpty else {
            throw ValidationError("say which tenant the agent acts for with --tenant (or ROLLOUT_TENANT); it never comes from tool arguments")
        }
        guard let actor = actor ?? env["ROLLOUT_ACTOR"], !actor.isEmpty else {
            throw ValidationError("say which agent acts with --actor (or ROLLOUT_ACTOR)")
        }
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        let log: @Sendable (String) -> Void = { Output.error($0) }
        let stages = try LiveTenants(folder: folder, policy: policy, log: log)
        let store = try storeOption.open(create: true)
        let principal = Principal(tenant: tenant, actor: actor, session: session ?? env["ROLLOUT_SESSION"])
        let proxy = try GuardProxy(policy: policy, stages: stages, store: store, command: command,
                                   options: .init(principal: principal, observe: observe, callTimeout: callTimeout), log: log)
        log("guard: \(tenant)/\(actor) in front of \(command.joined(separator: " ")); audit store \(storeOption.path)")
        try await proxy.run()
    }
}
