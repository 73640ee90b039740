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
            The agent's host starts `rollout guard ... -- CMD ARGS` (or `--upstream NAME`, an entry of \
            rollout/upstreams.yaml) instead of the tool server. Default deny: the agent sees and may call only the \
            tools the policy describes. A write tool meets the decision pipeline (stage, arguments, reason, \
            idempotency, tenant, fields, values, rules, caps, dry run, approval) for the principal given here, \
            never one taken from the arguments; a read (`reads:` in the policy) is forwarded after its scoping \
            checks; every other tool of the server is hidden and refused as tool_undescribed, audited.

            A write is recorded as an intent, forwarded with no store lock held, and its outcome recorded after. \
            An upstream that does not answer in time leaves the write in_doubt: a retry with its idempotency key is \
            never forwarded again. An upstream that dies is restarted for the next call. If the store cannot record \
            an outcome, the guard takes no more writes. Standard output is the MCP channel; messages go to \
            standard error. Queued approvals run with `rollout approve ID`, on the same upstream, and only where the \
            write was asked for: its entry's env: values and directory bind it. An entry with `inherit: none` (or \
            `inherit: [PATH, HOME]`, names passed unbound) starts its server with nothing else of the environment, \
            so no variable it does not list can move a write; `rollout lint` warns about an entry without it.

            Pipelined calls (up to 64 in flight) are decided at once and answered by id as each is recorded; their \
            audit events share commits, and none is answered before its commit. Writes reach the upstream one at a \
            time, each from its lookups to its recorded outcome, so a second call with the same key replays the \
            first and a cap holds however many calls arrive together. With --observe, calls go one at a time.

            Exit status: 0 the agent closed its side and every answer was written to it; 1 the agent stopped \
            reading (closed its end, or read nothing of a waiting answer for 30 s): the guard takes no more calls, \
            counts on standard error the answers it could not deliver, and what it decided for the calls among them \
            is in the audit log; 2 bad input; 3 the store or the upstream failed.

            Examples (an MCP client configuration's command line):
              ORMAI_DEMO_WORKDIR=$(mktemp -d) rollout guard --dir rollout/examples/ormai \\
                --upstream ormai --tenant acme --actor agent-1
              rollout guard --dir rollout/examples/tau2-retail --tenant retail \\
                --actor agent-1 --subject olivia_ito_3591 \\
                -- bash ../shared/targets/tau2-retail/serve.sh
            """
    )

    @Option(help: "The tenant the host vouches for (or $ROLLOUT_TENANT).", completion: .rolloutTenants)
    var tenant: String?

    @Option(help: "The agent or user on whose behalf calls are made (or $ROLLOUT_ACTOR).")
    var actor: String?

    @Option(help: "The end user the agent acts for, for tools with a principal_field (or $ROLLOUT_SUBJECT).")
    var subject: String?

    @Option(help: "A session id recorded with every event (or $ROLLOUT_SESSION).")
    var session: String?

    @Option(help: ArgumentHelp("The upstream, by its name in rollout/upstreams.yaml (instead of a command after --).", valueName: "name"))
    var upstream: String?

    @Option(help: ArgumentHelp("Read the upstream's rows from its database: before/after values, tenant checks, and writes that changed something else. Without it, an update or delete of a tenant's row (or one a condition judges by its row) is refused unless the tool has a lookup of the row.", valueName: "sqlite:PATH"))
    var observe: String?

    @Option(help: ArgumentHelp("How long an upstream call may take, e.g. 30s (default: the upstream's entry, else 30s).", valueName: "duration"))
    var callTimeout: TimeSpan?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The upstream MCP server's command, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if command.isEmpty && upstream == nil {
            throw ValidationError("give the upstream: --upstream NAME (from upstreams.yaml), or its command after --, e.g. rollout guard --tenant acme --actor a -- python3 server.py")
        }
        if !command.isEmpty && upstream != nil { throw ValidationError("give --upstream NAME or a command after --, not both") }
        if let observe, !observe.hasPrefix("sqlite:") { throw ValidationError("--observe takes sqlite:PATH") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let tenant = tenant ?? env["ROLLOUT_TENANT"], !tenant.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("say which tenant the agent acts for with --tenant (or ROLLOUT_TENANT); it never comes from tool arguments")
        }
        guard let actor = actor ?? env["ROLLOUT_ACTOR"], !actor.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("say which agent acts with --actor (or ROLLOUT_ACTOR)")
        }
        let subject = subject ?? env["ROLLOUT_SUBJECT"].flatMap { $0.isEmpty ? nil : $0 }
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        try TenantSpelling.check(tenant, in: try folder.loadTenants(policy: policy))
        let log: @Sendable (String) -> Void = { Output.error($0) }
        let store = try storeOption.open(create: true)
        // The file's stages, and the pauses of every host that writes this store.
        let stages = SharedPauses(try LiveTenants(folder: folder, policy: policy, log: log), store: store)
        let principal = Principal(tenant: tenant, actor: actor, session: session ?? env["ROLLOUT_SESSION"], subject: subject)
        let choice: UpstreamChoice = upstream.map(UpstreamChoice.named) ?? .command(command)
        let upstream = try GuardAssembly.upstream(choice, folder: folder, policy: policy, observe: observe,
                                                  callTimeout: callTimeout.map { Double($0.seconds) }, log: log)
        let guard_ = Guard(policy: policy, stages: stages, environment: try StoreEnvironment(store: store, policy: policy), upstream: upstream)
        let server = GuardServer(guard: guard_, upstream: upstream, options: .init(principal: principal), log: log)
        log("guard: \(tenant)/\(actor)\(subject.map { " for \($0)" } ?? "") in front of \(upstream.backend); audit store \(storeOption.shownPath)")
        try await server.run()
    }
}
