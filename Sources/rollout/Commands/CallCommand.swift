import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one tool call through the built-in guard and its demo domain, as an agent of TENANT would.",
        discussion: """
            The call meets the whole decision pipeline (stage, arguments, reason, idempotency, tenant, fields, values, \
            rules, caps, dry run, approval) and is written to the demo domain with its audit event. The demo's tables \
            live only in a store made for it: --demo says so, and the store defaults to .rollout/demo.sqlite, never \
            your audit store. Approvals and rollbacks of these writes run on the demo too. \
            Exit status: 0 executed, answered or queued; 1 refused; 2 bad input.

            Examples (--args takes the JSON inline; rollout/examples/call.json is one):
              rollout call orders.update --demo --tenant acme --actor agent-1 \\
                --args-file rollout/examples/call.json
            """
    )

    @Argument(help: "The tool name, as the agent calls it.")
    var tool: String

    @Flag(help: "Run against the built-in demo domain (required: it creates demo tables in the store).")
    var demo = false

    @Option(help: "The tenant the host vouches for.", completion: .rolloutTenants)
    var tenant: String

    @Option(help: "The agent or user making the call.")
    var actor: String

    @Option(help: "The end user the agent acts for (for tools with a principal_field).")
    var subject: String?

    @Option(help: "A session id to group events.")
    var session: String?

    @Option(help: ArgumentHelp("The call's arguments as a JSON object.", valueName: "json"))
    var args: String?

    @Option(help: ArgumentHelp("Read the arguments from a JSON file.", valueName: "path"))
    var argsFile: String?

    @Option(name: .long, help: ArgumentHelp("The demo store (default: .rollout/demo.sqlite).", valueName: "path"))
    var store: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var formatOption: FormatOption

    static let defaultStore = ".rollout/demo.sqlite"

    func validate() throws {
        if !demo {
            throw ValidationError("rollout call runs the built-in demo domain, whose tables live in a store made for it: add --demo (store: \(Self.defaultStore) unless --store). To send calls to a real server, run `rollout guard` in front of it")
        }
        if args != nil && argsFile != nil { throw ValidationError("give --args or --args-file, not both") }
        if tenant.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--tenant is empty: say which tenant the host vouches for") }
        if actor.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--actor is empty: say which agent or user makes the call") }
    }

    func run() async throws {
        let text: String
        if let argsFile {
            guard let data = FileManager.default.contents(atPath: argsFile) else { throw ValidationError("cannot read \(argsFile)") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = args ?? "{}"
        }
        let arguments: JSONValue
        do {
            arguments = try JSONValue.parse(text)
        } catch {
            throw ValidationError("--args is not JSON: \(error)")
        }
        let path = store ?? Self.defaultStore
        let opened = try StoreOption.open(path: path, create: true)
        if try opened.count() > 0, try !DemoEnvironment.isDemoStore(opened) {
            throw ValidationError("\(StoreEngines.redacted(path)) is an audit store of real writes, not a demo store; give the demo its own --store")
        }
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        let tenants = try folder.loadTenants(policy: policy)
        let guard_ = try DemoEnvironment.demoGuard(store: opened, policy: policy, tenants: tenants)
        try TenantSpelling.check(tenant, in: tenants)
        let principal = Principal(tenant: tenant, actor: actor, session: session, subject: subject)
        let decision = try await guard_.decide(ToolCall(tool: tool, arguments: arguments), principal: principal)
        switch formatOption.format {
        case .json: Output.json(decision.json)
        case .text:
            Output.line("\(decision.code.rawValue) (audit event \(decision.auditSeq)): \(VisibleText.oneLine(decision.message))")
            if decision.code == .dryRun || decision.code == .executed {
                Output.line(decision.result.prettyText())
            }
        }
        if decision.isRefusal { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
