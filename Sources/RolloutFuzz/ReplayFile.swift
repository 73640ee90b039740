import Foundation
import RolloutCore

/// A finding saved so anyone can re-run it: `rollout fuzz --replay FILE` starts a fresh target, makes
/// the setup calls and the attacking call, and says whether the gap is still there. Deterministic:
/// the same run writes the same files byte for byte.
public struct ReplayFile: Sendable {
    public var tool: String
    public var attackClass: AttackClass
    public var kind: GapKind
    public var variant: String
    public var setup: [AttackStep]
    public var step: AttackStep
    public var expectation: SafeBehaviour
    public var rule: String
    public var observed: String
    public var seed: UInt64
    public var policyDigest: String
    public var target: String

    public init(finding: Finding, seed: UInt64, policyDigest: String, target: String) {
        tool = finding.tool
        attackClass = finding.attackClass
        kind = finding.kind
        variant = finding.variant
        setup = finding.setup
        step = finding.step
        expectation = finding.expectation
        rule = finding.rule
        observed = finding.observed
        self.seed = seed
        self.policyDigest = policyDigest
        self.target = target
    }

    static func stepJSON(_ step: AttackStep) -> JSONValue {
        ["tool": .string(step.call.tool), "arguments": step.call.arguments, "tenant": .string(step.tenant.rawValue)]
    }

    static func behaviourJSON(_ expectation: SafeBehaviour) -> JSONValue {
        switch expectation {
        case .refused: "refused"
        case .notExecuted: "not_executed"
        case .noReexecution: "no_reexecution"
        case .untouched(let role): .string("untouched:" + role.rawValue)
        case .restored: "restored"
        case .hides(let keys, let values): ["hides": ["keys": .array(keys.map(JSONValue.string)), "values": .array(values)]]
        }
    }

    public var json: JSONValue {
        [
            "rollout_replay": 1, "tool": .string(tool), "class": .string(attackClass.rawValue), "kind": .string(kind.rawValue),
            "variant": .string(variant), "setup": .array(setup.map(Self.stepJSON)), "call": Self.stepJSON(step),
            "expect": Self.behaviourJSON(expectation), "expect_text": .string(expectation.description), "rule": .string(rule),
            "observed": .string(observed), "seed": .string(String(seed)), "policy_digest": .string(policyDigest), "target": .string(target),
            "replay": "rollout fuzz --replay THIS_FILE",
        ]
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    public static func read(path: String) throws -> ReplayFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(path: path, message: "cannot read the file") }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch { throw ReadError(path: path, message: "not JSON: \(error)") }
        guard json["rollout_replay"] == 1 else { throw ReadError(path: path, message: "not a rollout replay file (rollout_replay: 1 is missing)") }
        func step(_ value: JSONValue?, _ field: String) throws -> AttackStep {
            guard let value, let tool = value["tool"]?.stringValue, let arguments = value["arguments"] else {
                throw ReadError(path: path, message: "\(field) needs tool and arguments")
            }
            let role = value["tenant"]?.stringValue.flatMap(TenantRole.init(rawValue:)) ?? .own
            return AttackStep(ToolCall(tool: tool, arguments: arguments), as: role)
        }
        let expectation: SafeBehaviour
        if let hides = json["expect"]?["hides"] {
            expectation = .hides(keys: (hides["keys"]?.arrayValue ?? []).compactMap(\.stringValue), values: hides["values"]?.arrayValue ?? [])
        } else {
        switch json["expect"]?.stringValue ?? "" {
        case "refused": expectation = .refused
        case "not_executed": expectation = .notExecuted
        case "no_reexecution": expectation = .noReexecution
        case "restored": expectation = .restored
        case let other where other.hasPrefix("untouched:"):
            guard let role = TenantRole(rawValue: String(other.dropFirst(10))) else { throw ReadError(path: path, message: "unknown tenant role in expect") }
            expectation = .untouched(role)
        case let other: throw ReadError(path: path, message: "unknown expect '\(other)'")
        }
        }
        guard let tool = json["tool"]?.stringValue, let cls = json["class"]?.stringValue.flatMap(AttackClass.init(rawValue:)),
            let kind = json["kind"]?.stringValue.flatMap(GapKind.init(rawValue:))
        else { throw ReadError(path: path, message: "tool, class and kind are required") }
        var setup: [AttackStep] = []
        for (i, item) in (json["setup"]?.arrayValue ?? []).enumerated() { setup.append(try step(item, "setup[\(i)]")) }
        let finding = Finding(tool: tool, attackClass: cls, kind: kind, variant: json["variant"]?.stringValue ?? "", setup: setup,
                              step: try step(json["call"], "call"), expectation: expectation, observed: json["observed"]?.stringValue ?? "",
                              rule: json["rule"]?.stringValue ?? "", replayFile: path)
        return ReplayFile(finding: finding, seed: UInt64(json["seed"]?.stringValue ?? "") ?? 0, policyDigest: json["policy_digest"]?.stringValue ?? "",
                          target: json["target"]?.stringValue ?? "")
    }

    /// Removes the replay files of an earlier run.
    static func clear(_ directory: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasSuffix(".json") {
            try FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    /// Writes one file per finding and records its path in the finding.
    static func save(_ results: [ClassResult], policy: Policy, seed: UInt64, target: String, directory: String) throws -> [ClassResult] {
        var out = results
        var created = false
        for r in out.indices {
            for f in out[r].findings.indices {
                if !created {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    created = true
                }
                let finding = out[r].findings[f]
                let safe = finding.tool.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? $0 : "-" }
                let path = (directory as NSString).appendingPathComponent("\(String(safe))--\(finding.attackClass.rawValue)--\(f + 1).json")
                let file = ReplayFile(finding: finding, seed: seed, policyDigest: policy.digest, target: target)
                try Data(Redactor(policy: policy).redact(file.json).prettyText().utf8 + [0x0A]).write(to: URL(fileURLWithPath: path), options: .atomic)
                out[r].findings[f].replayFile = path
            }
        }
        return out
    }
}

extension Adversary {
    /// Re-runs a replay file on a fresh target. The violation when the gap is still there, nil when it is gone.
    public func replay(_ file: ReplayFile) async throws -> String? {
        // A policy gap is gone once the policy meets the baseline there, whatever a burst of calls shows.
        if file.kind == .policyGap, !gaps.contains(where: { $0.tool == file.tool && $0.area.rawValue == file.attackClass.rawValue }) {
            return nil
        }
        try await target.reset()
        // A leak is judged on what comes back and what is logged, whatever the call's verdict.
        if file.attackClass == .leak { return try await replayLeak(file) }
        let attack = Attack(tool: file.tool, attackClass: file.attackClass, variant: file.variant, setup: file.setup, step: file.step,
                            expectation: file.expectation, baselineGap: file.kind == .policyGap ? file.rule : nil)
        if file.expectation == .restored { return try await executeRollback(attack)?.observed }
        return try await attempt(attack, step: file.step)?.1
    }
}
