import Foundation
import RolloutCore

/// `rollout lint --format sarif`: every problem of a lint report as a SARIF result at its file, line and
/// column. Invalid configuration is an error; each safety-baseline area a policy leaves open
/// (`policy gap (caps): ...`) is its own warning rule, so a viewer can group and dismiss them by kind.
public enum LintSARIF {
    static let rules: [SARIFLog.Rule] = [
        SARIFLog.Rule(id: "lint.invalid", name: "InvalidConfiguration",
                      description: "The policy, tenants or flags file breaks the format: rollout refuses to run with it.", level: .error),
        SARIFLog.Rule(id: "lint.warning", name: "ConfigurationWarning",
                      description: "Allowed, but weaker or stranger than intended (a short soak, an anomaly gate turned off, an out-of-date export).",
                      level: .warning),
    ] + SafetyBaseline.Area.allCases.map { area in
        SARIFLog.Rule(id: "policy-gap.\(area.rawValue)", name: "PolicyGap" + area.rawValue.prefix(1).uppercased() + area.rawValue.dropFirst(),
                      description: "The policy allows what rollout's safety baseline forbids (\(area.rawValue)): the guard will let such writes through.",
                      level: .warning)
    }

    public static func log(_ report: LintReport, version: String, root: String = FileManager.default.currentDirectoryPath) -> SARIFLog {
        let results = report.diagnostics.map { d -> SARIFLog.Result in
            var rule = d.severity == .error ? "lint.invalid" : "lint.warning"
            if d.severity == .warning, d.message.hasPrefix("policy gap ("), let close = d.message.firstIndex(of: ")") {
                let area = d.message[d.message.index(d.message.startIndex, offsetBy: "policy gap (".count)..<close]
                if SafetyBaseline.Area(rawValue: String(area)) != nil { rule = "policy-gap.\(area)" }
            }
            let text = (d.path.isEmpty ? "" : "\(d.path): ") + d.message + (d.expected.map { " (expected \($0))" } ?? "")
            return SARIFLog.Result(ruleID: rule, level: d.severity == .error ? .error : .warning, message: text,
                                   uri: SARIFLog.uri(d.file, root: root), line: d.line, column: d.column,
                                   fingerprint: JSONValue.string("\(d.file)\u{0}\(d.path)\u{0}\(d.message)").canonicalDigest.prefix(32).description)
        }
        return SARIFLog(toolName: "rollout lint", toolVersion: version, rules: rules, results: results)
    }
}
