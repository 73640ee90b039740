import ArgumentParser
import Foundation
import RolloutCore
import RolloutFuzz
import RolloutGate
import RolloutMCP
import RolloutReports
import RolloutStore

struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Try every write tool like an adversary would, and report each policy gap.",
        discussion: """
            Every attack class of the design (reason, idempotency, fields, tenant, values, rows, caps, approval, \
            injection, stage, names, rollback) is tried on every write tool of the policy, against the built-in guard \
            over a seeded demo domain. Each finding is an enforcement gap (the target allowed what the policy forbids) \
            or a policy gap (the policy allows what the safety baseline forbids), shrunk to a minimal call and saved \
            as a replay file. The JUnit report has one suite per tool and one test case per attack class.

            Same seed and --calls, same findings and the same report (but for times and timestamps). With \
            ROLLOUT_CHAIN_KEY set, the report's verdict is signed with it, and the fuzz gate (run with the key) takes \
            no report edited or written without it. \
            Exit status: 0 no gap; 1 gaps found; 2 bad input; 3 the target failed.

            Examples:
              rollout fuzz
              rollout fuzz --seed 7 --calls 5000 --tool refunds.issue
              rollout fuzz --replay reports/fuzz/repro/orders.update--reason--1.json
            """
    )

    @Option(help: "Seed for the random choices.")
    var seed: UInt64 = 1

    // Unconditional: `--calls -5` is a value to refuse with a reason, not a missing value.
    @Option(parsing: .unconditional, help: "Total calls; the whole attack catalogue always runs, random variants use the rest (default 2000).")
    var calls: Int?

    @Option(help: ArgumentHelp("Spend this long on random variants after the catalogue, e.g. 30s (not byte-for-byte reproducible).", valueName: "duration"))
    var time: TimeSpan?

    @Option(name: .customLong("tool"), help: "Only this tool (repeatable).", completion: .rolloutTools)
    var tools: [String] = []

    @Option(help: "Where the JUnit report goes.")
    var junit = "reports/fuzz.xml"

    @OptionGroup var junitProfileOption: JUnitProfileOption

    @Option(help: "Where replay files of findings go.")
    var reproDir = "reports/fuzz/repro"

    @Option(help: ArgumentHelp("Re-run one finding from its replay file instead of fuzzing; exit 1 if it still reproduces.", valueName: "file"))
    var replay: String?

    @Flag(help: "Keep failing calls as found, without shrinking them.")
    var noShrink = false

    @Option(help: ArgumentHelp("Fuzz this MCP server over stdio instead of the built-in guard, e.g. \"bash serve.sh\".", valueName: "command"))
    var mcp: String?

    @Option(help: ArgumentHelp("Read the MCP server's state from its database, so the oracle checks rows: sqlite:PATH.", valueName: "spec"))
    var observe: String?

    @Option(help: "The tenant the MCP server acts for (default: the first tenant of tenants.yaml).", completion: .rolloutTenants)
    var tenant: String?

    @Option(help: "A tenant whose rows the MCP server must never touch (default: the second tenant of tenants.yaml).")
    var otherTenant: String?

    @Option(help: "The user the MCP server acts for, for tools that carry a user id (the guard's --subject).")
    var subject: String?

    @Option(help: "A user whose data the server must never show or act on (ownership attacks).")
    var otherSubject: String?

    @Option(help: ArgumentHelp("Learn ids from a fresh instance of the server started with this command (reads only): what a guard in front of the target would never show.", valueName: "command"))
    var learn: String?

    @Option(help: ArgumentHelp("How long one MCP call may take, e.g. 10s.", valueName: "duration"))
    var callTimeout = TimeSpan(seconds: 10)

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var formatOption: FindingsFormatOption

    func validate() throws {
        if let calls, calls < 1 { throw ValidationError("--calls must be at least 1, not \(calls)") }
        if mcp == nil, observe != nil || tenant != nil || otherTenant != nil || subject != nil || otherSubject != nil || learn != nil {
            throw ValidationError("--observe, --tenant, --other-tenant, --subject, --other-subject and --learn go with --mcp")
        }
    }

    func run() async throws {
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        let unknown = tools.filter { policy.tool(named: $0) == nil }
        if !unknown.isEmpty { throw ValidationError("not a tool of \(folder.policyPath): \(unknown.joined(separator: ", "))") }
        let target: FuzzTarget
        if let mcp {
            let tenants = try folder.loadTenants(policy: policy).tenants.map(\.id)
            guard let own = tenant ?? tenants.first else { throw ValidationError("say which tenant the server acts for with --tenant") }
            guard let other = otherTenant ?? tenants.first(where: { $0 != own }) else { throw ValidationError("name another tenant with --other-tenant") }
            let options = MCPClient.Options(callTimeout: Double(callTimeout.seconds))
            let server = MCPTarget(command: mcp, policy: policy, tenant: own, otherTenant: other, observer: try observe.map(StateObserver.init(spec:)),
                                   options: options, subject: subject, otherSubject: otherSubject, learnFrom: learn)
            Output.error("fuzz: starting \(mcp)")
            try await server.start()
            let writes = server.tools.map(\.name).filter { !policy.entries(forWireName: $0).isEmpty }
            Output.error("fuzz: the server lists \(server.tools.count) tools; the policy's writes among them: \(writes.joined(separator: ", "))")
            target = server
        } else {
            target = try BuiltinTarget(policy: policy)
        }
        let outcome: Result<Void, Error>
        do {
            try await fuzz(target, policy: policy, folder: folder)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        if let server = target as? MCPTarget { await server.stop() }
        try outcome.get()
    }

    private func fuzz(_ target: FuzzTarget, policy: Policy, folder: RolloutFolder) async throws {

        if let replay {
            let file = try ReplayFile.read(path: replay)
            let adversary = Adversary(policy: policy, target: target, options: FuzzOptions(seed: file.seed))
            if let still = try await adversary.replay(file) {
                Output.line("reproduced: \(file.kind.rawValue) in \(file.tool) (\(file.attackClass.rawValue): \(file.variant)): \(still)")
                throw FailureExit(status: ExitStatus.problemFound)
            }
            Output.line("fixed: \(file.tool) (\(file.attackClass.rawValue): \(file.variant)) no longer reproduces")
            return
        }

        let seconds = time.map { Double($0.seconds) }
        let options = FuzzOptions(seed: seed, calls: calls, seconds: seconds, tools: tools, replayDirectory: reproDir, shrink: !noShrink)
        let bar = ProgressBar()
        nonisolated(unsafe) var lastLine = Date.distantPast
        let adversary = Adversary(policy: policy, target: target, options: options) { p in
            if let left = p.secondsLeft ?? p.callsLeft.map(Double.init) {
                // The random phase: what is left of the time box, or of the calls.
                let rest = p.secondsLeft != nil ? "\(TimeSpan.describe(seconds: left)) left" : "\(Int(left)) calls left"
                let label = "random variants  \(rest)  \(p.calls) calls  \(p.findings) gaps"
                if bar.interactive {
                    bar.update(fraction: p.fraction, label: label)
                } else if Date().timeIntervalSince(lastLine) >= 5 {
                    lastLine = Date()
                    bar.line("fuzz: \(label)")
                }
                return
            }
            bar.update(fraction: p.fraction, label: "catalogue: \(p.tool) / \(p.attackClass?.rawValue ?? "")  \(p.calls) calls  \(p.findings) gaps")
            if p.toolDone, !bar.interactive {
                bar.line("fuzz: \(p.tool): done, \(p.calls) calls so far, \(p.findings) gaps so far")
            }
        }
        let result = try await adversary.run()
        bar.finish()

        var report = FuzzReport.junit(result, policy: policy, toolVersion: RolloutVersion.current, policyFile: folder.policyPath)
        // With the chain key, the verdict is signed: the fuzz gate then takes no report edited or written without it.
        if let key = ChainKey.fromEnvironment { report = FuzzReportSignature.signed(report, key: key) }
        try JUnitWriter.write(report, to: junit, profile: junitProfileOption.junitProfile)

        switch formatOption.format {
        case .json:
            Output.json(.object([
                "calls": .number(Double(result.calls)), "seconds": .number((result.seconds * 1000).rounded() / 1000),
                "server_starts": result.serverStarts.map { .number(Double($0)) } ?? .null,
                "seed": .string(String(result.seed)), "policy_digest": .string(result.policyDigest), "report": .string(junit),
                "enforcement_gaps": .number(Double(result.enforcementGaps)), "policy_gaps": .number(Double(result.policyGaps)),
                "findings": .array(result.findings.map { f in
                    [
                        "tool": .string(f.tool), "class": .string(f.attackClass.rawValue), "kind": .string(f.kind.rawValue),
                        "variant": .string(f.variant), "observed": .string(f.observed), "rule": .string(f.rule),
                        "replay": f.replayFile.map(JSONValue.string) ?? .null,
                    ]
                }),
            ]))
        case .sarif:
            Output.json(FuzzSARIF.log(result, policy: policy, policyFile: folder.policyPath, toolVersion: RolloutVersion.current).json)
            Output.error(FuzzReport.summary(result))
            Output.error("report: \(junit)" + (result.findings.isEmpty ? "" : "; replay files: \(reproDir)/"))
        case .text:
            Output.line(FuzzReport.summary(result))
            Output.line("report: \(junit)" + (result.findings.isEmpty ? "" : "; replay files: \(reproDir)/"))
        }
        if result.errors > 0 { throw FailureExit(status: ExitStatus.internalError) }
        if !result.findings.isEmpty || result.inconclusive > 0 { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
