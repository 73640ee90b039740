import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Tenants, their stages, soak progress, last anomaly and gate state.",
        discussion: """
            Answers from tenants.yaml and the verdicts recorded by `score`, `gate` and `promote`: it does not \
            score again, so it is instant on any size of audit log (run `rollout gate` for a fresh verdict).

            Examples:
              rollout status
              rollout status --tenant acme --format json
            """
    )

    @Option(name: .customLong("tenant"), help: "Only these tenants (repeatable).", completion: .rolloutTenants)
    var tenants: [String] = []

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let folder = folderOptions.folder
        let policy = try folder.loadPolicy()
        var file = try folder.loadTenants(policy: policy)
        if !tenants.isEmpty {
            let unknown = tenants.filter { file.tenant($0) == nil }
            if !unknown.isEmpty { throw ValidationError("no tenant \(unknown.joined(separator: ", ")) in \(folder.tenantsPath)") }
            file.tenants = file.tenants.filter { tenants.contains($0.id) }
        }
        let store = try storeOption.openIfPresent()
        let now = Date()
        let rows = try StatusBoard.build(tenants: file, tools: policy.tools.map(\.name), store: store, now: now)
        switch formatOption.format {
        case .json:
            Output.json(.object(["at": .string(Timestamp.formatSeconds(now)), "tenants": .array(rows.map(\.json)),
                                 "soak": .string(file.gates.soak.description), "store": store == nil ? .null : .string(storeOption.path)]))
        case .text:
            if rows.isEmpty { Output.line("no tenants in \(folder.tenantsPath)") ; return }
            if store == nil {
                Output.line("no audit store at \(storeOption.path): pauses made from other hosts, anomalies and gate verdicts are not shown (--store, ROLLOUT_STORE)")
            }
            var table = [["TENANT", "STAGE", "SOAK", "LAST ANOMALY", "GATE", "LAST EVENT"]]
            for r in rows {
                let stage = r.paused ? "\(r.stage.rawValue) (PAUSED)" : r.stage.rawValue
                let soak = r.next == nil || r.stage == .off ? "-" : r.soakDays.map { String(format: "%.1f/%.0fd", min($0, 999), r.soakTotalDays) + ($0 >= r.soakTotalDays ? " done" : "") } ?? "?"
                let anomaly = r.lastAnomalyAt.map { Timestamp.formatSeconds($0) } ?? (r.scoredAt == nil ? "not scored" : "none")
                let gate = r.gate.map { g in "\(g.passed ? "passed" : "blocked") \(Timestamp.day(g.at))" + (g.nextStage.map { " ->\($0)" } ?? "") } ?? "never run"
                table.append([r.tenant, stage, soak, anomaly, gate, r.lastEvent.map { Timestamp.formatSeconds($0) } ?? "-"])
            }
            let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max() ?? 0 }
            for (i, row) in table.enumerated() {
                Output.line(row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
                if i > 0 {
                    let r = rows[i - 1]
                    let own = r.tools.filter { $0.stage != (r.paused ? .off : r.stage) }
                    if !own.isEmpty { Output.line("  tools: " + own.map { "\($0.tool)=\($0.stage.rawValue)" }.joined(separator: ", ")) }
                    if let message = r.lastAnomaly, r.lastAnomalyAt != nil { Output.line("  last anomaly: \(message)") }
                    if let g = r.gate, !g.passed, let first = g.summary.split(separator: "\n").first(where: { !$0.contains(": successful") }) {
                        Output.line("  gate: \(first)")
                    }
                }
            }
        }
    }
}
