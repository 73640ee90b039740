import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard

struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one tool call through the built-in guard, as an agent of TENANT would.",
        discussion: """
            The call meets the whole decision pipeline (stage, reason, idempotency, tenant, fields, values, caps,
            dry run, approval) and is written to the demo domain in the store, with its audit event.
            Exit status: 0 executed, answered or queued; 1 refused.

            Example:
              rollout call orders.update --tenant acme --actor agent-1 \\
                --args '{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-1"}'
            """
    )

    @Argument(help: "The tool name, as the agent calls it.")
    var tool: String

    @Option(help: "The tenant the host vouches for.")
    var tenant: String

    @Option(help: "The agent or user making the call.")
    var actor: String

    @Option(help: "A session id to group events.")
    var session: String?

    @Option(help: ArgumentHelp("The call's arguments as a JSON object.", valueName: "json"))
    var args: String?

    @Option(help: ArgumentHelp("Read the arguments from a JSON file.", valueName: "path"))
    var argsFile: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func validate() throws {
        if args != nil && argsFile != nil { throw ValidationError("give --args or --args-file, not both") }
    }

    func run() throws {
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
        let store = try storeOption.open(create: true)
        let guard_ = try GuardFactory.make(folder: folderOptions.folder, store: store)
        let decision = try guard_.decide(ToolCall(tool: tool, arguments: arguments), principal: Principal(tenant: tenant, actor: actor, session: session))
        switch formatOption.format {
        case .json: Output.json(decision.json)
        case .text:
            Output.line("\(decision.code.rawValue) (audit event \(decision.auditSeq)): \(decision.message)")
            if decision.code == .dryRun || decision.code == .executed {
                Output.line(decision.result.prettyText())
            }
        }
        if decision.isRefusal { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
