import Foundation
import RolloutCore
import RolloutReports

/// A gate evaluation as the JUnit report CI reads (`reports/gate-<tenant>.xml`): one test case per gate.
/// Only `successful` passes; `failed` and `inconclusive` are failures (CI must not read "not enough
/// data" as green), `error` is an error.
public enum GateReport {
    public static func junit(_ evaluation: GateEvaluation, policy: Policy, toolVersion: String) -> JUnitReport {
        let subject = evaluation.tool.map { "\(evaluation.tenant)/\($0)" } ?? evaluation.tenant
        let cases = evaluation.results.map { r -> JUnitCase in
            var c = JUnitCase(classname: "gate.\(subject)", name: r.gate)
            switch r.status {
            case .successful: c.systemOut = r.reason
            case .failed: c.result = .failure(message: r.reason, type: "failed", body: r.reason)
            case .inconclusive: c.result = .failure(message: "inconclusive: \(r.reason)", type: "inconclusive", body: r.reason)
            case .error: c.result = .error(message: r.reason, type: "error", body: r.reason)
            }
            return c
        }
        var properties = [
            JUnitProperty("rollout.version", toolVersion), JUnitProperty("tenant", evaluation.tenant),
            JUnitProperty("stage.current", evaluation.current.rawValue), JUnitProperty("stage.next", evaluation.next?.rawValue ?? ""),
            JUnitProperty("policy.digest", policy.digest), JUnitProperty("policy.version", String(policy.version)),
            JUnitProperty("gate.passed", evaluation.passed ? "true" : "false"),
        ]
        if let tool = evaluation.tool { properties.insert(JUnitProperty("tool", tool), at: 2) }
        for (key, value) in evaluation.evidence.sorted(by: { $0.key < $1.key }) { properties.append(JUnitProperty("evidence.\(key)", value)) }
        return JUnitReport(name: "rollout gate", suites: [JUnitSuite(name: "gate \(subject)", timestamp: evaluation.at, properties: properties, cases: cases)])
    }

    /// `reports/gate-<tenant>.xml`, or `gate-<tenant>-<tool>.xml` for one tool.
    public static func defaultPath(tenant: String, tool: String?) -> String {
        let safe = { (s: String) in String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }) }
        return "reports/gate-\(safe(tenant))\(tool.map { "-" + safe($0) } ?? "").xml"
    }
}
