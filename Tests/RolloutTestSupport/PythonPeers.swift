import Foundation
import Testing

/// The Python peers for the flagd test: openfeature-sdk and openfeature-provider-flagd in a venv that
/// `.ci/run` makes (`ROLLOUT_FLAGD_PYTHON` names another interpreter that has them).
public enum FlagdPeer {
    public static var python: String {
        let env = ProcessInfo.processInfo.environment
        if let given = env["ROLLOUT_FLAGD_PYTHON"] { return given }
        let base = env["XDG_CACHE_HOME"].map(URL.init(fileURLWithPath:)) ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("rollout-targets/flagd/venv/bin/python").path
    }

    public static var script: String { TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/flagd/evaluate.py").path }

    public static let skipMessage: Comment = "openfeature-sdk and openfeature-provider-flagd are missing: .ci/run installs them into ~/.cache/rollout-targets/flagd/venv"

    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python)
            && (try? Subprocess.run([python, "-c", "import openfeature.contrib.provider.flagd, jsonschema"]).status) == 0
    }
}

/// The official Python MCP client (`mcp` below 2) in a venv that `.ci/run` makes
/// (`ROLLOUT_MCP_CLIENT_PYTHON` names another interpreter that has it).
public enum MCPClientPeer {
    public static var python: String {
        let env = ProcessInfo.processInfo.environment
        if let given = env["ROLLOUT_MCP_CLIENT_PYTHON"] { return given }
        let base = env["XDG_CACHE_HOME"].map(URL.init(fileURLWithPath:)) ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("rollout-targets/mcp-client/venv/bin/python").path
    }

    public static var script: String { TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/mcp/guard_client.py").path }

    public static let skipMessage: Comment = "the Python MCP client (mcp<2) is missing: .ci/run installs it into ~/.cache/rollout-targets/mcp-client/venv"

    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python) && (try? Subprocess.run([python, "-c", "import mcp.client.stdio"]).status) == 0
    }
}
