import Foundation
import RolloutCore
import RolloutReports

/// A fuzz run as a JUnit report (one suite per tool, one test case per attack class) and as the summary
/// a person reads at the end of the run.
public enum FuzzReport {
    /// The report; `toolVersion` is rollout's version. Findings carry redacted evidence only.
    public static func junit(_ result: FuzzResult, policy: Policy, toolVersion: String, policyFile: String? = nil) -> JUnitReport {
        let redactor = Redactor(policy: policy)
        var suites: [JUnitSuite] = []
        let tools = policy.tools.map(\.name).filter { name in result.results.contains { $0.tool == name } }
        for tool in tools {
            let classes = result.results.filter { $0.tool == tool }
            let entry = policy.tool(named: tool)
            var cases: [JUnitCase] = []
            for r in classes {
                if r.attackClass == .rules, !r.outcomes.isEmpty || !r.unreachable.isEmpty {
                    cases += ruleCases(r, tool: tool, entry: entry, policyFile: policyFile, redactor: redactor)
                    continue
                }
                var testCase = JUnitCase(classname: tool, name: r.attackClass.rawValue, time: r.seconds, file: policyFile, line: entry?.sourceLine)
                switch r.status {
                case .passed:
                    testCase.systemOut = "\(r.attacks) attacks, \(r.calls) calls, no gap"
                case .skipped(let why):
                    testCase.result = .skipped(message: why)
                case .error(let message):
                    testCase.result = .error(message: "the target failed during the \(r.attackClass.rawValue) attacks: \(message)", type: "target_error", body: message)
                case .inconclusive(let message):
                    testCase.result = .error(message: "inconclusive: \(message)", type: "inconclusive", body: message)
                case .failed:
                    let enforcement = r.findings.filter { $0.kind == .enforcementGap }
                    let kind: GapKind = enforcement.isEmpty ? .policyGap : .enforcementGap
                    let first = r.findings[0]
                    let count = r.findings.count
                    let message = "\(count) \(count == 1 ? "gap" : "gaps") (\(kindSummary(r.findings))): \(first.variant): \(first.observed)"
                    testCase.result = .failure(message: message, type: kind.rawValue, body: body(r.findings, redactor: redactor))
                }
                cases.append(testCase)
            }
            let properties = [
                JUnitProperty("rollout.version", toolVersion), JUnitProperty("fuzz.seed", String(result.seed)),
                JUnitProperty("policy.digest", result.policyDigest), JUnitProperty("policy.version", String(result.policyVersion)),
                JUnitProperty("fuzz.target", result.target), JUnitProperty("tool.operation", entry?.operation.rawValue ?? ""),
                JUnitProperty("tool.model", entry?.model ?? ""),
            ]
            suites.append(JUnitSuite(name: tool, timestamp: result.startedAt, properties: properties, cases: cases))
        }
        // The target's tool list: every tool the policy does not describe must be refused (default deny).
        var listCases: [JUnitCase] = []
        for r in result.results where r.tool == UndescribedAttacks.suite {
            var testCase = JUnitCase(classname: UndescribedAttacks.suite, name: r.attackClass.rawValue, time: r.seconds)
            if case .failed = r.status {
                let count = r.findings.count
                testCase.result = .failure(message: "\(count) undescribed tool\(count == 1 ? "" : "s") answered: \(r.findings[0].variant): \(r.findings[0].observed)",
                                           type: GapKind.enforcementGap.rawValue, body: body(r.findings, redactor: redactor))
            } else {
                testCase.systemOut = "\(r.attacks) undescribed tools called, every one refused"
            }
            listCases.append(testCase)
        }
        if !result.coverage.isEmpty {
            // What the policy and the server disagree on, for a person to read; the verdict is the case above.
            var coverage = JUnitCase(classname: UndescribedAttacks.suite, name: "coverage")
            coverage.systemOut = result.coverage.joined(separator: "\n")
            listCases.append(coverage)
        }
        let targetProperties = [JUnitProperty("rollout.version", toolVersion), JUnitProperty("fuzz.target", result.target),
                                JUnitProperty("policy.digest", result.policyDigest), JUnitProperty("policy.version", String(result.policyVersion))]
        if !listCases.isEmpty {
            suites.append(JUnitSuite(name: UndescribedAttacks.suite, timestamp: result.startedAt, properties: targetProperties, cases: listCases))
        }
        // Reads: one case for the scope checks, every finding in it.
        for r in result.results where r.tool == ReadAttacks.suite {
            var testCase = JUnitCase(classname: ReadAttacks.suite, name: r.attackClass.rawValue, time: r.seconds)
            switch r.status {
            case .failed:
                testCase.result = .failure(message: "\(r.findings.count) read\(r.findings.count == 1 ? "" : "s") showed what they must not: \(r.findings[0].variant): \(r.findings[0].observed)",
                                           type: GapKind.enforcementGap.rawValue, body: body(r.findings, redactor: redactor))
            case .skipped(let why): testCase.result = .skipped(message: why)
            default: testCase.systemOut = "\(r.attacks) reads tried, none showed another user's or tenant's data or a deleted row"
            }
            suites.append(JUnitSuite(name: ReadAttacks.suite, timestamp: result.startedAt, properties: targetProperties, cases: [testCase]))
        }
        return JUnitReport(name: "rollout fuzz", suites: suites)
    }

    /// The rules class as one case per rule (`rules/own_order`): passed with the target's refusal, failed
    /// with the call it took, skipped when no call breaks it alone. What a reader needs to see, per rule,
    /// whether the target enforces it.
    static func ruleCases(_ r: ClassResult, tool: String, entry: ToolPolicy?, policyFile: String?, redactor: Redactor) -> [JUnitCase] {
        var cases: [JUnitCase] = []
        for rule in entry?.rules ?? [] {
            var c = JUnitCase(classname: tool, name: "rules/\(rule.name)", time: 0, file: policyFile, line: rule.sourceLine ?? entry?.sourceLine)
            let prefix = "breaks rule \(rule.name) "
            func partner(_ variant: String) -> String? {
                guard let (a, b) = RuleAttacks.pairNames(variant), a == rule.name || b == rule.name else { return nil }
                return a == rule.name ? b : a
            }
            if let finding = r.findings.first(where: { $0.variant.hasPrefix(prefix) }) {
                c.result = .failure(message: "not enforced: \(finding.observed)", type: finding.kind.rawValue, body: body([finding], redactor: redactor))
            } else if let finding = r.findings.first(where: { partner($0.variant) != nil }), let other = partner(finding.variant) {
                let alone = r.outcomes.contains { $0.variant.hasPrefix(prefix) } ? "alone it is refused, but " : ""
                c.result = .failure(message: "not enforced: \(alone)broken together with rule \(other) the call is taken: \(finding.observed)",
                                    type: finding.kind.rawValue, body: body([finding], redactor: redactor))
            } else if let outcome = r.outcomes.first(where: { $0.variant.hasPrefix(prefix) }) {
                c.systemOut = "enforced: the call that breaks only this rule, \(redactor.redact(outcome.call).canonicalText), got \(outcome.answer)"
            } else if let outcome = r.outcomes.first(where: { partner($0.variant) != nil }), let other = partner(outcome.variant) {
                c.systemOut = "enforced: no call breaks this rule alone; the call that breaks it with rule \(other), \(redactor.redact(outcome.call).canonicalText), got \(outcome.answer)"
            } else {
                c.result = .skipped(message: r.unreachable.first { $0.hasPrefix("rule \(rule.name):") } ?? "not tried")
            }
            cases.append(c)
        }
        return cases
    }

    static func kindSummary(_ findings: [Finding]) -> String {
        let e = findings.filter { $0.kind == .enforcementGap }.count, p = findings.count - e
        return [e > 0 ? "\(e) enforcement" : nil, p > 0 ? "\(p) policy" : nil].compactMap { $0 }.joined(separator: ", ")
    }

    /// What a person needs to act: per finding, the rule, what a safe system does, what happened, the
    /// minimal call and how to replay it.
    static func body(_ findings: [Finding], redactor: Redactor) -> String {
        findings.enumerated().map { i, f in
            var lines = [
                "\(i + 1). [\(f.kind.rawValue)] \(f.variant)",
                "   rule: \(f.rule)",
                "   a safe system would: \(f.expectation.description)",
                "   observed: \(f.observed)",
            ]
            if !f.setup.isEmpty { lines.append("   after \(f.setup.count) setup call\(f.setup.count == 1 ? "" : "s")") }
            lines.append("   call (\(f.step.tenant.rawValue) tenant): \(f.step.call.tool.debugDescription) \(redactor.redact(f.step.call.arguments).canonicalText.prefix(600))")
            if let file = f.replayFile { lines.append("   replay: rollout fuzz --replay \(file)") }
            if f.kind == .policyGap { lines.append("   fix: tighten the policy (rollout lint shows the same gap)") }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// A table of tools by attack class: ok, FAIL (gaps), -- (skipped), ERR.
    public static func summary(_ result: FuzzResult) -> String {
        let classes = AttackClass.allCases
        let tools = result.results.map(\.tool).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let toolWidth = max(4, tools.map(\.count).max() ?? 4)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines: [String] = []
        lines.append(pad("tool", toolWidth) + "  " + classes.map { pad($0.rawValue, max(5, $0.rawValue.count)) }.joined(separator: " "))
        for tool in tools {
            var row = pad(tool, toolWidth) + " "
            for c in classes {
                let width = max(5, c.rawValue.count)
                let cell: String
                switch result.results.first(where: { $0.tool == tool && $0.attackClass == c })?.status {
                case .passed?: cell = "ok"
                case .failed?: cell = "FAIL"
                case .skipped?: cell = "--"
                case .error?: cell = "ERR"
                case .inconclusive?: cell = "??"
                case nil: cell = ""
                }
                row += " " + pad(cell, width)
            }
            lines.append(row)
        }
        let gaps = result.findings
        lines.append("")
        let starts = result.serverStarts.map { "; \($0) server start\($0 == 1 ? "" : "s")" } ?? ""
        lines.append("\(result.calls) calls in \(String(format: "%.2f", result.seconds))s against the \(result.target)\(starts); seed \(result.seed); policy \(result.policyDigest.prefix(19))")
        lines.append("\(result.enforcementGaps) enforcement gap\(result.enforcementGaps == 1 ? "" : "s"), \(result.policyGaps) policy gap\(result.policyGaps == 1 ? "" : "s")" + (result.errors > 0 ? ", \(result.errors) errors" : "")
                     + (result.inconclusive > 0 ? ", \(result.inconclusive / AttackClass.perTool.count) tool(s) inconclusive (??)" : ""))
        for f in gaps {
            lines.append("  \(f.kind == .enforcementGap ? "ENFORCEMENT" : "POLICY     ")  \(f.tool)  \(f.attackClass.rawValue)  \(f.variant)")
        }
        for note in result.coverage { lines.append("  COVERAGE     \(note)") }
        for r in result.results where r.attackClass == .reason {
            if case .inconclusive(let message) = r.status { lines.append("  INCONCLUSIVE \(r.tool): \(message)") }
        }
        for r in result.results {
            if case .error(let message) = r.status { lines.append("  ERROR        \(r.tool)  \(r.attackClass.rawValue)  \(message.components(separatedBy: "\n").first ?? message)") }
        }
        return lines.joined(separator: "\n")
    }
}
