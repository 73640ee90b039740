import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// Every example in every `--help`, run as written against the built binary, in an order that gives
/// each the state it assumes (a demo write to roll back, approvals to decide, a week of traffic to
/// judge). An example succeeds unless its comment says `# exit N`. The help text itself must not
/// wrap an example: a command split mid-argument cannot be copied.
@Suite("--help examples, as written", .serialized)
struct HelpExamplesTests {
    struct Example: CustomStringConvertible {
        var command: String
        var text: String
        var exit: Int32
        var description: String { "rollout \(command): \(text)" }
    }

    /// The subcommands, as paths ("audit import").
    static func commands() throws -> [String] {
        func subcommands(_ path: [String]) throws -> [String] {
            let help = try RolloutBinary.run(path + ["--help"]).stdout
            guard let start = help.range(of: "\nSUBCOMMANDS:\n") else { return [] }
            return help[start.upperBound...].split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
                let name = line.split(separator: " ").first.map(String.init)
                return name == "help" ? nil : name
            }
        }
        var out: [String] = []
        for top in try subcommands([]) {
            out.append(top)
            out += try subcommands([top]).map { "\(top) \($0)" }
        }
        return out
    }

    /// The examples of one help text, and the lines that look like a wrapped example.
    static func examples(_ help: String, command: String) -> (examples: [Example], wrapped: [String]) {
        var examples: [Example] = []
        var wrapped: [String] = []
        var inExamples = false
        var continuing = false
        for line in help.components(separatedBy: "\n") {
            if line.range(of: #"^Examples?\b.*:$"#, options: .regularExpression) != nil {
                inExamples = true
                continue
            }
            if line.hasPrefix("USAGE:") || line.isEmpty { inExamples = false; continuing = false }
            guard inExamples else { continue }
            if continuing, line.hasPrefix("    ") {
                examples[examples.count - 1].text += " " + line.trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("  "), !line.hasPrefix("   ") {
                examples.append(Example(command: command, text: line.trimmingCharacters(in: .whitespaces), exit: 0))
            } else {
                wrapped.append(line)
            }
            continuing = line.hasSuffix("\\")
            if continuing { examples[examples.count - 1].text.removeLast() }
        }
        for i in examples.indices {
            examples[i].text = examples[i].text.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
            if let range = examples[i].text.range(of: #"# exit (\d+)"#, options: .regularExpression) {
                examples[i].exit = Int32(examples[i].text[range].dropFirst("# exit ".count)) ?? 0
            }
        }
        return (examples, wrapped)
    }

    @Test("no help text wraps an example; every command with options shows one")
    func layout() throws {
        for command in try Self.commands() {
            let help = try RolloutBinary.run(command.split(separator: " ").map(String.init) + ["--help"]).stdout
            let (examples, wrapped) = Self.examples(help, command: command)
            #expect(wrapped.isEmpty, "rollout \(command) --help wraps an example: \(wrapped)")
            if !help.contains("\nSUBCOMMANDS:\n") { #expect(!examples.isEmpty, "rollout \(command) --help has no example") }
        }
    }

    @Test("every --help example runs and exits as documented",
          .enabled(if: TestPaths.sharedAvailable, "needs ../shared"), .timeLimit(.minutes(10)))
    func run() throws {
        var all: [Example] = []
        for command in try Self.commands() {
            let help = try RolloutBinary.run(command.split(separator: " ").map(String.init) + ["--help"]).stdout
            all += Self.examples(help, command: command).examples
        }
        let parent = TestPaths.temporaryDirectory("help-examples")
        // `../shared/...` in an example resolves from the working folder, as it does from the repository.
        try FileManager.default.createSymbolicLink(atPath: parent.appendingPathComponent("shared").path, withDestinationPath: TestPaths.shared.path)
        let initDir = parent.appendingPathComponent("init").path
        let work = parent.appendingPathComponent("work").path
        try FileManager.default.createDirectory(atPath: initDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: work + "/rollout")
        let binDir = (RolloutBinary.path as NSString).deletingLastPathComponent
        let environment = ["PATH": binDir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                           "ROLLOUT_STORE": ".rollout/demo.sqlite", "ROLLOUT_ACTOR": ""]
        var ran: Set<String> = []
        var skipped: [String: String] = [:]

        func shell(_ script: String, in dir: String) throws -> ProcessResult {
            try Subprocess.run(["bash", "-c", script], cwd: dir, environment: environment)
        }
        func run(_ command: String, in dir: String = work, where filter: (Example) -> Bool = { _ in true }) throws {
            for example in all where example.command == command && filter(example) && !ran.contains(example.description) {
                ran.insert(example.description)
                if example.text.hasPrefix("swift package") {
                    skipped[example.description] = "runs the package plugin, which cannot run inside `swift test` (.ci/plugin-check runs it)"
                    continue
                }
                if example.text.contains("targets/tau2-retail") && !Tau2RetailTarget.available || example.text.contains("ormai") && example.command == "guard" && !OrmAITarget.available {
                    skipped[example.description] = "its target server is not set up here"
                    continue
                }
                // A following command, and serve serving, run until interrupted: give them three seconds (serve on a
                // port of the system's choosing, as the example's may be taken here).
                let serving = example.command == "serve" && !example.text.contains("--check") && !example.text.contains("--new-token")
                let untilInterrupted = example.text.contains("--follow") || serving
                var text = serving ? example.text.replacingOccurrences(of: #"(--listen \S+):\d+"#, with: "$1:0", options: .regularExpression) : example.text
                if untilInterrupted { text = "timeout 3 \(text)" }
                let stdin = example.command == "guard" ? " < /dev/null" : ""
                let result = try shell(text + stdin, in: dir)
                let status = untilInterrupted && result.status == 124 ? 0 : result.status
                #expect(status == example.exit, "\(example): exit \(result.status)\n\(result.stderr.suffix(1500))")
            }
        }
        func setUp(_ script: String) throws {
            let result = try shell(script, in: work)
            #expect(result.status == 0, "set-up `\(script)`: \(result.stderr.suffix(1000))")
        }

        // A fresh folder for init; the example folder, with a week of traffic, for the rest.
        try run("init", in: initDir)
        try setUp("python3 rollout/examples/traffic.py > agent-audit.jsonl && rollout init agents/shop > /dev/null")
        try run("call")   // audit event #1: the write `audit rollback 1` undoes at the end
        // Four refunds above 500.00 wait for a person: approvals 1 to 4.
        for i in 1...4 {
            try setUp(#"rollout call refunds.issue --demo --tenant acme --actor agent-1 --args '{"order_id": \#(i), "amount_cents": 60000, "reason_code": "damaged", "reason": "parcel lost by the carrier, ticket \#(i)", "request_id": "big-\#(i)"}' > /dev/null"#)
        }
        try run("audit import")
        try run("fuzz", where: { !$0.text.contains("--replay") })
        // The replay example needs a finding's file: a run of a weaker policy leaves one.
        let weak = try PlantedWeaknesses.folder()
        try setUp("rollout fuzz --dir \(weak) > /dev/null; test -f reports/fuzz/repro/orders.update--reason--1.json")
        try run("fuzz")
        try setUp("rollout fuzz > /dev/null")   // the green report the gates read
        for command in ["lint", "score", "report", "audit anchor", "audit verify", "audit tail", "audit export", "approvals", "gate"] {
            try run(command)
        }
        // The approval of broad, then the promotions; the refund approvals after them (an approved refund of
        // 600.00 is, rightly, an anomaly in acme's soak).
        try run("approve", where: { $0.text.contains("--stage broad") })
        for command in ["promote", "approve", "deny", "status", "flags export", "demote", "pause", "resume", "audit rollback", "guard", "serve"] {
            try run(command)
        }
        let missed = all.filter { !ran.contains($0.description) }
        #expect(missed.isEmpty, "examples no step ran: \(missed)")
        #expect(ran.count - skipped.count >= 40, "ran \(ran.count - skipped.count); skipped \(skipped)")
        if !skipped.isEmpty { print("help examples skipped: \(skipped)") }
    }
}
