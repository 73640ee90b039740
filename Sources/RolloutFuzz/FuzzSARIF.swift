import Foundation
import RolloutCore
import RolloutReports

/// `rollout fuzz --format sarif`: every finding as a SARIF result at the policy entry it concerns (the
/// tool, or the rule it broke). Enforcement gaps are errors (the target does not do what the policy
/// says); policy gaps are warnings (the policy allows what the safety baseline forbids). One rule per
/// attack class.
public enum FuzzSARIF {
    static let descriptions: [AttackClass: String] = [
        .reason: "Writes without a real reason: missing, blank, boilerplate or oversized.",
        .idempotency: "Writes without an idempotency key, or a key reused for another call, or a retry that runs twice.",
        .fields: "Writes to fields the tool may not change: read-only, key, tenant or unknown fields.",
        .tenant: "Writes that reach another tenant's or another user's rows.",
        .values: "Values outside their field's or argument's rule: bounds, types, lists, patterns.",
        .rules: "Calls that break one of the tool's named rules (or two together).",
        .rows: "Multi-row writes above the row limit, or without the dry run they need.",
        .caps: "Bursts above the per-window caps.",
        .approval: "Writes that need a person's approval, executed without one.",
        .injection: "Prompt-injection payloads that try to widen tenant, approval or fields.",
        .stage: "Tools used at a stage that forbids them (off, shadow).",
        .names: "Tool names that differ from the policy's only by case, spacing or look-alike letters.",
        .rollback: "Executed writes that cannot be rolled back exactly.",
        .unbound: "Arguments the policy does not describe, acted on.",
        .dryRun: "A call with its dry-run flag that writes.",
        .leak: "Answers that carry internals (SQL, parameters, stack traces, file paths, secrets); audit entries that hold a secret value in the clear.",
        .undescribed: "Tools the server lists that the policy does not describe.",
        .readScope: "Reads that show another user's or tenant's data, or a deleted row.",
    ]

    public static func log(_ result: FuzzResult, policy: Policy, policyFile: String, toolVersion: String,
                           root: String = FileManager.default.currentDirectoryPath) -> SARIFLog {
        let rules = AttackClass.allCases.map { c in
            SARIFLog.Rule(id: "fuzz.\(c.rawValue)", name: c.rawValue.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
                          description: descriptions[c] ?? c.rawValue, level: .error)
        }
        let uri = SARIFLog.uri(policyFile, root: root)
        let results = result.findings.map { f -> SARIFLog.Result in
            let entry = policy.tool(named: f.tool)
            // The broken rule's own line when the finding names one, else the tool's entry.
            let ruleLine = entry?.rules.first { f.variant.hasPrefix("breaks rule \($0.name) ") || f.variant.contains("rules \($0.name) ") }?.sourceLine
            let readLine = policy.reads.first { f.variant.hasPrefix("\($0.pattern):") }?.sourceLine
            let line = ruleLine ?? entry?.sourceLine ?? readLine ?? 1
            var message = "\(f.tool): \(f.variant): \(f.observed). A safe system would \(f.expectation.description)."
            if let replay = f.replayFile { message += " Replay: rollout fuzz --replay \(replay)" }
            return SARIFLog.Result(ruleID: "fuzz.\(f.attackClass.rawValue)", level: f.kind == .enforcementGap ? .error : .warning, message: message,
                                   uri: uri, line: line,
                                   fingerprint: JSONValue.string("\(f.tool)\u{0}\(f.attackClass.rawValue)\u{0}\(f.variant)").canonicalDigest.prefix(32).description)
        }
        return SARIFLog(toolName: "rollout fuzz", toolVersion: toolVersion, rules: rules, results: results)
    }
}
