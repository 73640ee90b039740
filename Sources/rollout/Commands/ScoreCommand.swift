import ArgumentParser
import Foundation
import RolloutAnomaly
import RolloutCore
import RolloutGate
import RolloutReports
import RolloutStore

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a window of the audit log for anomalies, each with its explanation.",
        discussion: """
            Signals: write rates per tenant, tool and actor (5-minute buckets against the same time of day over the past \
            week, several time scales, CUSUM, extreme-value tail probability from the signal's own past, a minimum effect); \
            rules (writes without a real reason, an idempotency key reused for another write, the same write under other \
            keys, deny bursts, a write around a pending or refused approval, bulk row counts far above normal, an actor's \
            first delete); rare (actor, tool) and (tool, field) pairs; numeric values far outside their past. \
            Causal: appending later events never changes an earlier score. \
            Exit status: 0 no anomaly; 1 anomalies found; 2 bad input.

            Examples:
              rollout score --tenant acme
              rollout score --until 2026-11-20T00:00:00Z --window 7d --format json
              rollout score --until last --window 60d --intervals reports/intervals
            """
    )

    @Option(name: .customLong("tenant"), help: "Only this tenant (repeatable; default: every tenant with events in the window).", completion: .rolloutTenants)
    var tenants: [String] = []

    @Option(help: ArgumentHelp("How long a window to score.", valueName: "duration"))
    var window = TimeSpan.days(7)

    @Option(help: ArgumentHelp("End of the window: a time (RFC 3339), now, or last (the latest event).", valueName: "time"))
    var until = "now"

    @Option(help: ArgumentHelp("History before the window that the baselines learn from.", valueName: "duration"))
    var history: TimeSpan = .days(35)

    @Option(help: ArgumentHelp("Buckets start at this time plus multiples of 5 minutes (default: the epoch).", valueName: "time"))
    var origin: String?

    @Option(help: "Where the JUnit report goes.")
    var junit = "reports/score.xml"

    @OptionGroup var junitProfileOption: JUnitProfileOption

    @Option(help: ArgumentHelp("Also write <tenant>.csv with interval_start,score per 5-minute interval into this folder.", valueName: "dir"))
    var intervals: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func validate() throws {
        if !["now", "last"].contains(until), Timestamp.parse(until) == nil { throw ValidationError("--until must be RFC 3339, now or last") }
        if let origin, Timestamp.parse(origin) == nil { throw ValidationError("--origin must be an RFC 3339 time") }
    }

    func run() throws {
        let store = try storeOption.open(create: false)
        let policy = try? folderOptions.folder.loadPolicy()
        let end: Date
        let now = Date()
        // The latest event by its time, not by its place in the log: one line imported late (dated years ago)
        // moved a window of `last` to its day, which held nothing to flag.
        let latest = tenants.isEmpty ? try store.latestEventTime() : try tenants.compactMap { try store.lastEventTime(tenant: $0) }.max()
        if until == "now" || until == "last", let latest, latest > now.addingTimeInterval(GateEvaluator.clockTolerance) {
            // Traffic dated after now would not be scored (`now`), or would move the window past every real event (`last`).
            Output.error("the audit log holds events dated up to \(Timestamp.formatSeconds(latest)), after this host's time (\(Timestamp.formatSeconds(now))): a clock is wrong here or on a guard's host, or a line was imported with a wrong date; events dated in the future would not be judged, so nothing was scored. Score a window that ends at a given time with --until")
            throw FailureExit(status: ExitStatus.problemFound)
        }
        switch until {
        case "now": end = now
        case "last": end = (latest ?? now).addingTimeInterval(300)
        default: end = Timestamp.parse(until)!
        }
        var options = ScoreOptions(tenants: tenants, until: end, window: window, history: history,
                                   keepIntervals: intervals != nil)
        if let origin { options.origin = Timestamp.parse(origin)! }
        options.reasonRules(from: policy)
        let started = Date()
        let scores = try AnomalyScorer.score(store, options: options) { tenant in Output.error("score: \(tenant)…") }
        let seconds = Date().timeIntervalSince(started)
        // The verdicts `rollout status` shows (only for windows that end now: a look at the past is not the state).
        if until == "now" { try AnomalyScorer.recordRuns(scores, until: end, in: store) }

        try JUnitWriter.write(ScoreReport.junit(scores, toolVersion: RolloutVersion.current, policyDigest: policy?.digest), to: junit, profile: junitProfileOption.junitProfile)
        if let intervals { try ScoreReport.writeIntervals(scores, to: intervals) }
        let anomalies = scores.flatMap(\.anomalies)
        switch formatOption.format {
        case .json:
            Output.json(.object([
                "from": .string(Timestamp.formatSeconds(options.from)), "until": .string(Timestamp.formatSeconds(end)),
                "seconds": .number((seconds * 1000).rounded() / 1000), "report": .string(junit),
                "tenants": .array(scores.map { s in
                    ["tenant": .string(s.tenant), "events": .number(Double(s.events)), "active_days": .number(Double(s.activeDays)),
                     "anomalies": .array(s.anomalies.map(\.json))]
                }),
            ]))
        case .text:
            for score in scores {
                Output.line("\(score.tenant): \(score.events) events on \(score.activeDays) days from \(Timestamp.formatSeconds(score.from)) to \(Timestamp.formatSeconds(score.until)): \(score.anomalies.count) anomal\(score.anomalies.count == 1 ? "y" : "ies")")
                for a in score.anomalies.prefix(50) {
                    Output.line("  \(Timestamp.formatSeconds(a.start))  \(a.family.rawValue)/\(a.signal)  \(a.message)")
                }
                if score.anomalies.count > 50 { Output.line("  … \(score.anomalies.count - 50) more in \(junit)") }
            }
            Output.line("report: \(junit) (\(String(format: "%.2f", seconds))s)")
        }
        if !anomalies.isEmpty { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
