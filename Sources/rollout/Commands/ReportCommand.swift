import ArgumentParser
import Foundation
import RolloutCore
import RolloutGate
import RolloutReports
import RolloutStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The compliance report: every call of a period, why, who approved, what was refused or rolled back, and whether the log can be trusted.",
        discussion: """
            Writes into --out: report.html (self-contained, inline SVG charts, prints on A4; the hash-chain verdict, the \
            period, the tenants and their stages on its first page), report.json (the same statement, machine-readable), \
            writes.csv and writes.jsonl (the same rows: every call of the period in chain order), and SHA256SUMS. \
            Every format states the report's digest (SHA-256 of the canonical JSON of report.json without it, which \
            includes the SHA-256 of writes.jsonl and writes.csv) and the chain head it covers; `rollout report --verify DIR` \
            checks them against each other and against the store: its calls listed again, its chain head and verdict, \
            and no call of its period and scope past the last it listed but in the period's last two minutes (the \
            digests have no key, so a report is verified only against its store; one made before its period ended, or \
            before older calls of its period were imported, fails once they are in the store: make it again). Its \
            anomalies are scored again under the folder's policy (--dir) when that is the policy the report names; \
            without the chain key, a report made under another policy is not verified. \
            With ROLLOUT_CHAIN_KEY, report.json is signed and SHA256SUMS.sig signs the list of files (the HTML's words \
            included), and --verify requires both. A store whose chain breaks within what the report covers fails it. \
            Exit status: 0 written (or verified), chain intact; 1 written, but the audit chain is broken (the report says \
            so in red), or not verified; 2 bad input.

            Examples:
              rollout report --from 2026-11-01 --to 2026-12-01
              rollout report --from 2026-11-01 --to 2026-12-01 --tenant acme \\
                --format html --out reports/acme-november
              rollout report --verify reports/compliance-2026-11-01_2026-12-01
            """
    )

    @Option(help: ArgumentHelp("Start of the period: a date (UTC midnight) or an RFC 3339 time (default: 30 days before --to).", valueName: "date"))
    var from: String?

    @Option(help: ArgumentHelp("End of the period, excluded: a date or an RFC 3339 time (default: now).", valueName: "date"))
    var to: String?

    @Option(name: .customLong("tenant"), help: "Only these tenants (repeatable; default: all).", completion: .rolloutTenants)
    var tenants: [String] = []

    @Option(help: ArgumentHelp("The folder to write (default: reports/compliance-FROM_TO).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Which files: html, csv, json, comma-separated.", valueName: "formats"))
    var format = "html,csv,json"

    @Flag(help: "Do not score anomalies (faster on long periods).")
    var noAnomalies = false

    @Option(help: "Calls shown in the HTML table (every call is in the CSV and JSON Lines).")
    var htmlRows = 2000

    @Option(help: ArgumentHelp("Check a report folder written earlier instead of writing one.", valueName: "dir"))
    var verify: String?

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the chain verdict, written or checked, needs the log to still hold that head, so a tail deleted with the head moved back is a broken chain.", valueName: "file"))
    var anchor: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    var formats: Set<String> { Set(format.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }) }

    func validate() throws {
        if let from, Timestamp.parseDayOrTime(from) == nil { throw ValidationError("--from must be a date (2026-11-01) or an RFC 3339 time") }
        if let to, Timestamp.parseDayOrTime(to) == nil { throw ValidationError("--to must be a date (2026-12-01) or an RFC 3339 time") }
        let unknown = formats.subtracting(["html", "csv", "json"])
        if !unknown.isEmpty || formats.isEmpty { throw ValidationError("--format takes html, csv and json, comma-separated") }
        if htmlRows < 0 { throw ValidationError("--html-rows must be 0 or more") }
    }

    func run() throws {
        let anchor = try AnchorOption.read(anchor)
        if let verify { return try ReportVerification.run(directory: verify, store: storeOption, anchor: anchor, folder: folderOptions.folder) }
        // Whole seconds, as report.json states the period: `report --verify` lists the same calls again.
        func second(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
        let end = second(to.flatMap(Timestamp.parseDayOrTime) ?? Date())
        let start = second(from.flatMap(Timestamp.parseDayOrTime) ?? end.addingTimeInterval(-30 * 86_400))
        guard start < end else { throw ValidationError("--from must be before --to") }
        let store = try storeOption.open(create: false)
        store.anchor = anchor
        let folder = folderOptions.folder
        let policy = try? folder.loadPolicy()
        let tenantsFile = try? folder.loadTenants(policy: policy)
        // A tenant neither tenants.yaml nor the log knows (a typo, a look-alike letter) would make a green report
        // of no calls: refused. A tenant gone from tenants.yaml is still reported on from its events.
        for tenant in tenants where tenantsFile?.tenant(tenant) == nil {
            if try store.lastEventTime(tenant: tenant) == nil {
                let listed = tenantsFile.map { " (tenants.yaml lists \($0.tenants.map(\.id).joined(separator: ", ")))" } ?? ""
                throw ValidationError("--tenant \(tenant.debugDescription) is no tenant of tenants.yaml and has no event in the audit log\(listed); a report of it would say nothing, and nothing was written")
            }
        }
        let directory = out ?? "reports/compliance-\(Timestamp.day(start))_\(Timestamp.day(end))"
        let started = Date()
        let options = ComplianceOptions(from: start, to: end, tenants: tenants, scoreAnomalies: !noAnomalies, htmlRows: htmlRows)
        let result = try ComplianceFolder.write(
            to: directory, formats: Set(formats.compactMap(ComplianceFolder.Format.init(rawValue:))), store: store, tenants: tenantsFile,
            policy: policy, options: options, now: Date(), rolloutVersion: RolloutVersion.current, progress: { Output.error("report: \($0)") })
        let report = result.report
        let seconds = Date().timeIntervalSince(started)
        let c = report.chain
        Output.line(c.ok ? "audit chain verified: \(c.checked) events, head #\(c.headSeq) \(c.headHash.prefix(16))…"
                         : "AUDIT LOG TAMPERED: the chain breaks at event #\(c.breakSeq ?? 0) (\(c.problem ?? "?")): \(c.detail ?? "")")
        Output.line("\(report.rows) calls from \(Timestamp.formatSeconds(start)) to \(Timestamp.formatSeconds(end)); \(report.anomalies.count) anomalies, \(report.stageChanges.count) stage changes, \(report.approvals.count) approvals, \(report.rollbacks.count) rollbacks")
        Output.line("digest \(report.digest)")
        for file in result.files { Output.line("wrote \(file)") }
        Output.error(String(format: "report: done in %.2fs", seconds))
        if !c.ok { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

/// `rollout report --verify DIR`: prints what `ReportCheck` finds.
enum ReportVerification {
    static func run(directory: String, store: StoreOption, anchor: ChainAnchor?, folder: RolloutFolder) throws {
        // A store named (--store, $ROLLOUT_STORE) must be there: without it the chain head goes unchecked.
        let named = store.store != nil || ProcessInfo.processInfo.environment["ROLLOUT_STORE"] != nil
        let audit = named ? try store.open(create: false) : try store.openIfPresent()
        audit?.anchor = anchor
        // The folder's policy scores the report's anomalies again when it is the one the report names; a folder
        // whose policy does not load gives none (verification then says why it could not score).
        switch try ReportCheck.run(directory: directory, store: audit, key: ChainKey.fromEnvironment, policy: try? folder.loadPolicy()) {
        case .verified(let digest):
            Output.line("report \(directory) verified against \(store.path): digest \(digest)")
        case .notVerified(let why):
            Output.line("NOT VERIFIED: report \(directory): \(why)")
            throw FailureExit(status: ExitStatus.problemFound)
        case .failed(let problems):
            for p in problems { Output.line("FAILED: \(p)") }
            throw FailureExit(status: ExitStatus.problemFound)
        }
    }
}
