import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutReports
import RolloutStore

/// What the stage commands share: the controller for the folder and store, and how a gate evaluation prints.
enum StageSupport {
    /// `judgingOnly` for `gate`, which changes no stage and may make the store where there is none yet (CI runs
    /// it on a fresh machine): a judgement on no traffic is no pass.
    /// `anchor`: the `--anchor` file given (nil: $ROLLOUT_ANCHOR, or none).
    static func controller(folder: RolloutFolder, store: StoreOption, anchor: String? = nil, fuzzReport: String? = nil, judgingOnly: Bool = false) throws -> StageController {
        let policy = try folder.loadPolicy()
        guard FileManager.default.fileExists(atPath: folder.tenantsPath) else {
            throw ValidationError("no \(folder.tenantsPath): stages live there (`rollout init` writes an example)")
        }
        // A stage change needs the store there already: one made here, at a path that is not the guards' store, would hold
        // none of the pauses made from other hosts, and the flags file rewritten from it would turn such a tenant back on.
        let audit = try store.open(create: judgingOnly)
        audit.anchor = try AnchorOption.read(anchor)
        var controller = StageController(folder: folder, policy: policy, store: audit, fuzzReportPath: fuzzReport)
        controller.notice = { Output.error($0) }
        return controller
    }

    /// Prints, on standard error, what in tenants.yaml's gates weakens them (a soak under a day, no minimum of
    /// traffic): lint reports it, and a promotion judged under it says so too.
    static func warnWeakGates(_ folder: RolloutFolder, policy: Policy) {
        guard let text = try? folder.readTenantsText(), let root = try? SourceDocument.parse(text, file: folder.tenantsPath) else { return }
        for warning in TenantsDecoder.decode(root, file: folder.tenantsPath, policy: policy).1
        where warning.severity == .warning && warning.path.hasPrefix("gates.") {
            Output.error("\(warning)")
        }
    }

    /// Writes the JUnit report of an evaluation.
    static func writeReport(_ evaluation: GateEvaluation, policy: Policy, path: String?) throws -> String {
        let path = path ?? GateReport.defaultPath(tenant: evaluation.tenant, tool: evaluation.tool)
        try JUnitWriter.write(GateReport.junit(evaluation, policy: policy, toolVersion: RolloutVersion.current), to: path)
        return path
    }

    static func json(_ evaluation: GateEvaluation, report: String) -> JSONValue {
        var out: [String: JSONValue] = [
            "tenant": .string(evaluation.tenant), "current": .string(evaluation.current.rawValue),
            "next": evaluation.next.map { .string($0.rawValue) } ?? .null, "passed": .bool(evaluation.passed),
            "at": .string(Timestamp.formatSeconds(evaluation.at)), "report": .string(report),
            "gates": .array(evaluation.results.map { r in
                ["gate": .string(r.gate), "status": .string(r.status.rawValue), "reason": .string(r.reason),
                 "evidence": .object(r.evidence.mapValues(JSONValue.string))]
            }),
        ]
        out["tool"] = evaluation.tool.map(JSONValue.string) ?? .null
        return .object(out)
    }

    static func printGates(_ evaluation: GateEvaluation) {
        let subject = evaluation.tool.map { "\(evaluation.tenant)/\($0)" } ?? evaluation.tenant
        let target = evaluation.next.map { "\(evaluation.current.rawValue) -> \($0.rawValue)" } ?? evaluation.current.rawValue
        Output.line("\(subject): \(target)")
        for r in evaluation.results {
            let mark = r.status == .successful ? "ok  " : r.status == .failed ? "FAIL" : r.status == .inconclusive ? "INCO" : "ERR "
            Output.line("  \(mark) \(r.gate.padding(toLength: 10, withPad: " ", startingAt: 0)) \(r.status.rawValue): \(r.reason)")
        }
    }

    /// Runs a stage change; a refusal by the rules or a lost race becomes `refuse`'s exit.
    static func refusing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StageMachine.Refusal {
            throw refuse(error)
        } catch let error as StageConflict {
            throw refuse(error)
        }
    }

    /// A refused change: printed, exit 1 (or 2 when the request itself was wrong).
    static func refuse(_ error: Error) -> FailureExit {
        if let refusal = error as? StageMachine.Refusal {
            Output.error("refused: \(refusal.description)")
            return FailureExit(status: refusal.badInput ? ExitStatus.badInput : ExitStatus.problemFound)
        }
        Output.error("refused: \(error)")
        return FailureExit(status: ExitStatus.problemFound)
    }
}

/// `--tenant`, `--tool`, `--by`, `--reason` as the stage commands take them.
struct StageTarget: ParsableArguments {
    @Option(help: "The tenant (as in tenants.yaml).", completion: .rolloutTenants)
    var tenant: String

    @Option(help: "Only this write tool (default: the tenant's stage, which every tool without its own follows).", completion: .rolloutTools)
    var tool: String?
}

extension Stage: ExpressibleByArgument {}
