import ArgumentParser
import Foundation
import RolloutCore
import RolloutMCP

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter rollout/ folder (policy and tenants) that passes lint.",
        discussion: """
            Without --from-mcp the policy is a small commented example. With --from-mcp, rollout starts the \
            server, reads its tools/list and describes every tool it lists: as a write tool (with a model, \
            fields, bindings, a reason and an idempotency key the guard takes) or as a read, as its MCP \
            annotations, name and schema suggest. Every guess is marked REVIEW; the policy passes lint, so \
            `rollout fuzz --mcp` can run against it at once.

            Examples:
              rollout init              # rollout/policy.yaml and rollout/tenants.yaml
              rollout init agents/shop  # somewhere else
              rollout init --from-mcp "bash ../shared/targets/tau2-retail/serve.sh" \\
                rollout/tau2
            """
    )

    @Argument(help: ArgumentHelp("Where to write the folder.", valueName: "dir"))
    var directory: String = "rollout"

    @Option(name: .customLong("from-mcp"), help: ArgumentHelp("Describe the tools of the MCP server this command starts (over stdio).", valueName: "command"))
    var fromMCP: String?

    @Option(help: "How long the server may take to start and list its tools, e.g. 30s.")
    var startTimeout = TimeSpan(seconds: 30)

    @Flag(help: "Replace files that already exist.")
    var force = false

    func run() async throws {
        var policyText = StarterFolder.policy
        if let fromMCP {
            let client = MCPClient(command: ["sh", "-c", "exec " + fromMCP],
                                   options: MCPClient.Options(startTimeout: Double(startTimeout.seconds)))
            Output.error("init: starting \(fromMCP)")
            let tools: [MCPTool]
            do {
                try await client.start()
                tools = try await client.listTools()
            } catch {
                await client.stop()
                throw error
            }
            await client.stop()
            policyText = StarterPolicy.yaml(tools: tools, command: fromMCP)
            let writes = tools.filter { ToolClassifier.suggest($0).kind == .write }.count
            Output.error("init: \(tools.count) tools: \(writes) suggested writes, \(tools.count - writes) reads; "
                + "\(policyText.components(separatedBy: "REVIEW").count - 1) lines marked REVIEW")
        }
        let written = try StarterFolder.write(to: directory, force: force, policy: policyText)
        for path in written { Output.line("wrote \(path)") }
        Output.line("next: edit \(written[0]), then run `rollout lint --dir \(directory)`")
    }
}
