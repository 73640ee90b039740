import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// Shell completion offers what the rollout folder holds: tenants for `--tenant`, write tools for
/// `--tool`, from `--dir` when the command line names one.
@Suite("shell completion from the rollout folder")
struct ShellCompletionTests {
    /// What the completion script asks the binary for the word after `option` in `words`.
    static func complete(_ subcommand: String, _ option: String, _ words: [String], cwd: String) throws -> [String] {
        let all = ["rollout", subcommand] + words + [option, ""]
        let result = try RolloutBinary.run(["---completion", subcommand, "--", option, String(all.count - 1), "0"] + all, cwd: cwd)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test("the scripts for bash, zsh and fish ask rollout for tenants and tools", arguments: ["bash", "zsh", "fish"])
    func scripts(shell: String) throws {
        let script = try RolloutBinary.run(["--generate-completion-script", shell])
        #expect(script.status == 0)
        #expect(script.stdout.contains("---completion promote -- --tenant") && script.stdout.contains("---completion fuzz -- --tool"), "\(shell)")
    }

    @Test("--tenant offers the folder's tenants, --tool its write tools; --dir picks the folder")
    func values() throws {
        let root = TestPaths.packageRoot.path
        #expect(try Self.complete("promote", "--tenant", [], cwd: root) == ["acme", "globex", "initech"])
        let tools = try Self.complete("fuzz", "--tool", [], cwd: root)
        #expect(tools.contains("orders.update") && tools.contains("refunds.issue"))
        let tau2 = try Self.complete("gate", "--tenant", ["--dir", "rollout/examples/tau2-retail"], cwd: root)
        #expect(tau2 == ["retail"])
        // A folder that does not read offers nothing, and says nothing.
        #expect(try Self.complete("promote", "--tenant", ["--dir", "/nonexistent"], cwd: root).isEmpty)
    }
}
