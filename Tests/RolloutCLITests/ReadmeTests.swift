import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// The README's commands, run as written against the built binary in a scratch copy of the example
/// folder: every fenced `sh` block but the set-up (`apt-get`, `swift build`, `swift test`, `swift
/// package`, `install`). `swift run rollout` is the built binary; `../shared/` is the shared folder.
/// A command succeeds unless its comment says `# exit N`.
@Suite("README commands, as written", .serialized)
struct ReadmeTests {
    /// One command of a block, with the exit status its comment documents.
    struct Command: CustomStringConvertible {
        var line: String
        var exit: Int32
        var description: String { line }
    }

    static let setUpPrefixes = ["apt-get", "swift build", "swift test", "swift package", "install ", "#"]

    /// The `sh` blocks of a Markdown text, as commands (continuation lines joined).
    static func blocks(_ markdown: String) -> [[Command]] {
        var blocks: [[Command]] = []
        var current: [Command]?
        var pending = ""
        for raw in markdown.components(separatedBy: "\n") {
            if raw.hasPrefix("```") {
                if current == nil, raw == "```sh" { current = [] } else if let block = current {
                    blocks.append(block)
                    current = nil
                }
                continue
            }
            guard current != nil else { continue }
            if raw.hasSuffix("\\") {
                pending += raw.dropLast() + " "
                continue
            }
            let line = (pending + raw).trimmingCharacters(in: .whitespaces)
            pending = ""
            guard !line.isEmpty, !setUpPrefixes.contains(where: line.hasPrefix), !line.contains("/etc/") else { continue }
            var exit: Int32 = 0
            if let range = line.range(of: #"# exit (\d+)"#, options: .regularExpression) {
                exit = Int32(line[range].dropFirst("# exit ".count)) ?? 0
            }
            current!.append(Command(line: line, exit: exit))
        }
        return blocks.filter { !$0.isEmpty }
    }

    /// A bash script that runs the commands in order and stops at the first unexpected exit status.
    static func script(_ commands: [Command]) -> String {
        var lines = ["set -u", "export ROLLOUT_STORE=$PWD/.rollout/audit.sqlite"]
        for (i, command) in commands.enumerated() {
            let line = command.line
                .replacingOccurrences(of: "swift run rollout", with: RolloutBinary.path)
                .replacingOccurrences(of: "../shared/", with: TestPaths.shared.path + "/")
            lines.append("\(line)")
            lines.append("rc=$?; if [ $rc -ne \(command.exit) ]; then echo \"README command \(i + 1) exited $rc, expected \(command.exit): \(command.line.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "$", with: "\\$"))\" >&2; exit 1; fi")
        }
        return lines.joined(separator: "\n")
    }

    @Test("the README has the blocks this test expects: the main job, the rollout sequence, the guard")
    func found() throws {
        let readme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = Self.blocks(readme)
        #expect(blocks.contains { $0.contains { $0.line == "swift run rollout fuzz" } })
        #expect(blocks.contains { $0.contains { $0.line.contains("rollout promote --tenant acme") } })
        #expect(blocks.contains { $0.contains { $0.line.contains("rollout guard --dir rollout/examples/ormai") } })
    }

    @Test("every README command runs as written and exits as it says",
          .enabled(if: TestPaths.sharedAvailable, "needs ../shared"), .timeLimit(.minutes(10)))
    func runs() throws {
        let readme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let scratch = TestPaths.temporaryDirectory("readme").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: scratch + "/rollout")
        var ran = 0
        for block in Self.blocks(readme) {
            // The guard's block needs OrmAI set up; everything else needs only the binary.
            if block.contains(where: { $0.line.contains("targets/ormai") }) && !OrmAITarget.available { continue }
            let result = try Subprocess.run(["bash", "-c", Self.script(block)], cwd: scratch)
            #expect(result.status == 0, "\(result.stderr.suffix(3000))")
            ran += block.count
        }
        #expect(ran >= 10)
        // The sequence did what it says: acme is at broad, and the flags say so.
        let tenants = try String(contentsOfFile: scratch + "/rollout/tenants.yaml", encoding: .utf8)
        #expect(tenants.contains("action: promote") && tenants.contains("to: broad"))
        let flags = try JSONValue.parse(String(contentsOfFile: scratch + "/rollout/flags.flagd.json", encoding: .utf8))
        #expect(flags.canonicalText.contains("broad"))
    }
}
