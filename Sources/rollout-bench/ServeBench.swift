import ArgumentParser
import Foundation
import RolloutCore
import RolloutStore

/// The dashboard of `rollout serve` on a large audit log: the time to the first byte and the whole
/// page of each view a person opens, measured by curl against the running server (signed in).
struct ServeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Response times of the `rollout serve` dashboard on a week of a million calls (budget: first page < 200 ms).",
        discussion: """
            Example:
              swift build -c release --product rollout && swift run -c release rollout-bench serve --events 1000000
            """
    )

    @Option(help: "Calls in the last week (seven tenants).")
    var events = 1_000_000

    @Option(help: "Requests per view; the median is reported.")
    var repeats = 7

    func run() throws {
        guard BenchProcess.which("curl") != nil else { throw BenchFailure("the serve benchmark measures with curl: apt-get install curl") }
        let directory = try BenchProcess.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try BenchProcess.rolloutBinary()

        // A week of calls ending a minute ago, imported as a user would.
        let file = directory.appendingPathComponent("events.jsonl").path
        let now = Date().timeIntervalSince1970
        try ImportBench.generate(events, to: file, spacing: 7 * 86_400 / Double(events), start: now - 7 * 86_400 - 60)
        let storePath = directory.appendingPathComponent("audit.sqlite").path
        let store = try AuditStore(path: storePath)
        let imported = try store.importFile(file).imported
        try store.checkpoint()
        print("store: \(imported) calls over the last 7 days")

        let folder = directory.appendingPathComponent("rollout").path
        _ = try StarterFolder.write(to: folder, force: true)
        let token = "bench-token-\(UUID().uuidString)"
        try "version: 1\napprovers:\n  maria.lopez:\n    token_sha256: \(ApproversFile.sha256(token))\n"
            .write(toFile: folder + "/approvers.yaml", atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("serve.log").path
        let started = BenchClock.now()
        let pid = try BenchProcess.start(binary, ["serve", "--dir", folder, "--store", storePath, "--listen", "127.0.0.1:0"],
                                         stdout: "/dev/null", stderr: log)
        defer { kill(pid, SIGTERM) }
        var base: String?
        for _ in 0..<200 where base == nil {
            usleep(50_000)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            base = text.split(separator: "\n").first { $0.contains("listening on http://") }.flatMap { $0.split(separator: " ").last }.map(String.init)
        }
        guard let base else { throw BenchFailure("rollout serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        print("serve started (the chart's counts of every event taken once) in \(BenchClock.format(Double(BenchClock.now() - started) / 1e9)) (polled every 50 ms)")
        let jar = directory.appendingPathComponent("cookies").path
        _ = try curl(["-c", jar, "--data-urlencode", "token=\(token)", base + "/login"])

        // The page a person opens first, then the others, then the next page through the "older" link.
        let first = try curl(["-b", jar, base + "/?range=week"])
        print("first request after start, last week: " + String(format: "%.1f ms", first.total * 1000))
        let older = first.body.range(of: #"href="/\?[^"]*before=[0-9.]+[^"]*""#, options: .regularExpression)
            .map { String(first.body[$0].dropFirst(6).dropLast()).replacingOccurrences(of: "&amp;", with: "&") }
        let today = Timestamp.day(Date())
        let views: [(String, String)] = [
            ("last day (the default)", "/"),
            ("last hour", "/?range=hour"),
            ("last week", "/?range=week"),
            ("last week, refused only", "/?range=week&decision=refused"),
            ("last week, search: a common word (\"carrier\")", "/?range=week&q=carrier"),
            ("last week, search: one call (\"parcel \(events - 10)\")", "/?range=week&q=parcel+\(events - 10)"),
            ("chosen range: today", "/?from=\(today)&to=\(today)"),
            ("second page of the week", older ?? "/?range=week"),
            ("approvals page", "/approvals"),
        ]
        print("rollout serve on \(base), \(repeats) requests per view, median (first byte / whole page):")
        for (label, path) in views {
            var firstByte: [Double] = []
            var total: [Double] = []
            var rows = 0
            var status = 0
            for _ in 0..<repeats {
                let answer = try curl(["-b", jar, base + path])
                firstByte.append(answer.firstByte)
                total.append(answer.total)
                status = answer.status
                rows = answer.body.components(separatedBy: "<tr class=").count - 1
            }
            firstByte.sort()
            total.sort()
            let ms = BenchClock.median(total) * 1000
            let padded = label.padding(toLength: max(58, label.count), withPad: " ", startingAt: 0)
            print("  \(padded) " + String(format: "%7.1f ms / %7.1f ms", BenchClock.median(firstByte) * 1000, ms)
                  + "  \(ms < 200 ? "within 200 ms" : "OVER 200 ms") (HTTP \(status), \(rows) rows)")
        }
    }

    struct Answer {
        var status: Int
        var firstByte: Double
        var total: Double
        var body: String
    }

    /// One request through curl, timed by curl itself (no process start in the figure).
    func curl(_ arguments: [String]) throws -> Answer {
        let marker = "\n--rollout-bench--"
        let result = try BenchProcess.capture("curl", ["-s", "--max-time", "60", "-w", marker + "%{http_code} %{time_starttransfer} %{time_total}"] + arguments)
        guard let range = result.range(of: marker, options: .backwards) else { throw BenchFailure("curl answered nothing") }
        let figures = result[range.upperBound...].split(separator: " ")
        guard figures.count == 3, let status = Int(figures[0]), let firstByte = Double(figures[1]), let total = Double(figures[2]) else {
            throw BenchFailure("curl: \(result.suffix(200))")
        }
        return Answer(status: status, firstByte: firstByte, total: total, body: String(result[..<range.lowerBound]))
    }
}
