import Foundation
import RolloutCore
import Testing

/// Quiet, steady audit traffic for scoring and gate tests: one executed write every five minutes, by two
/// actors, each with its own key, target and a real reason.
public enum AuditTraffic {
    public static func background(days: Int = 10, start: Date = Timestamp.parse("2026-11-01T00:00:00Z")!, tenant: String = "acme",
                                  tool: String = "orders.update") -> [AuditEvent] {
        (0..<(days * 288)).map { (i: Int) -> AuditEvent in
            let key: JSONValue = .number(Double(i % 500))
            let change = RowChange(key: key, fields: ["status": FieldChange(before: "pending", after: .string("s\(i)"))])
            let actor = i % 2 == 0 ? "agent-1" : "agent-2"
            let rows = i % 3 == 0 ? 2 : 1
            return AuditEvent(
                ts: start.addingTimeInterval(Double(i) * 300 + 17), tenant: tenant, actor: actor, tool: tool,
                model: "Order", operation: "update", targets: [key], rowCount: rows, changes: [change],
                reason: "carrier update from the tracking feed", idempotencyKey: "bg-\(i)", decision: "executed")
        }
    }
}

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
