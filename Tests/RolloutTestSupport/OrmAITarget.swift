import Foundation
import Testing

/// shared/targets/ormai: OrmAI 0.2.1 as an MCP server. Tests that need it are skipped with a message
/// when its venv (made by its setup.sh, which .ci/run runs) is not there.
public enum OrmAITarget {
    static var cache: URL { TargetCache.directory("ormai") }

    public static var serveScript: String { TestPaths.shared.appendingPathComponent("targets/ormai/serve.sh").path }

    /// Whether the server can start here.
    public static var available: Bool {
        let venv = ProcessInfo.processInfo.environment["ORMAI_VENV"].map(URL.init(fileURLWithPath:)) ?? cache.appendingPathComponent("venv")
        return FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("bin/python").path)
            && FileManager.default.fileExists(atPath: serveScript)
    }

    public static let skipMessage: Comment = "OrmAI's venv is missing: run ../shared/targets/ormai/setup.sh (.ci/run does)"

    public static var policyFolder: String { TestPaths.exampleFolder + "/examples/ormai" }
}

/// tests/Fixtures/mcp/tiny_server.py, a dependency-free MCP server that can misbehave on demand.
public enum TinyServer {
    public static var script: String { TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/mcp/tiny_server.py").path }
    public static var policyFolder: String { TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/mcp/policy").path }
    public static var available: Bool { Subprocess.available("python3") }
}
