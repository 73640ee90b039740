import Foundation
import GRDB
import RolloutCore
import RolloutTestSupport
import Testing

/// A store made through the binary with one of each kind of event: executed, refused, pending then
/// approved, rolled back, and a promotion.
struct ReportProject {
    let project: StageProject

    let environment: [String: String]

    init(environment: [String: String] = [:]) throws {
        self.environment = environment
        project = try StageProject()
        let calls: [(String, Int32)] = [
            (#"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-1"}"#, 0),
            (#"{"id": 2, "data": {"status": "shipped"}, "reason": "n/a", "idempotency_key": "k-2"}"#, 1),
            (#"{"id": 3, "data": {"status": "refunded"}, "reason": "customer returned the parcel, ticket 77", "idempotency_key": "k-3"}"#, 0),
            (#"{"id": 4, "data": {"notes": "see ticket"}, "reason": "=HYPERLINK(\"http://x\",\"ticket 42\")", "idempotency_key": "k-4"}"#, 0),
        ]
        for (args, status) in calls {
            let result = try project.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args", args], environment: environment)
            guard result.status == status else { throw ReportProjectError(message: "call \(args): \(result.stdout)\(result.stderr)") }
        }
        for step in [["approve", "1", "--by", "maria.lopez", "--reason", "return checked against the ticket"],
                     ["audit", "rollback", "1", "--by", "maria.lopez", "--reason", "wrong order shipped"],
                     ["fuzz"],
                     ["promote", "--tenant", "initech", "--by", "maria.lopez", "--reason", "fuzz report green"]] {
            let result = try project.run(step, environment: environment)
            guard result.status == 0 else { throw ReportProjectError(message: "\(step): \(result.stdout)\(result.stderr)") }
        }
    }

    func report(_ extra: [String] = []) throws -> ProcessResult {
        let today = Timestamp.day(Date())
        let tomorrow = Timestamp.day(Date().addingTimeInterval(86_400))
        return try project.run(["report", "--from", today, "--to", tomorrow, "--out", project.root + "/out"] + extra, environment: environment)
    }

    func verify(environment: [String: String]? = nil) throws -> ProcessResult {
        try project.run(["report", "--verify", project.root + "/out"], environment: environment ?? self.environment)
    }

    /// Rewrites the report as a forger without the key would: `edit` changes report.json's members, then
    /// its digest, the HTML's and SHA256SUMS are made again (they have no key). `dropLast` takes the last
    /// call out of the rows files first (else the first).
    func forge(dropLast: Bool = false, _ edit: (inout [String: JSONValue]) -> Void = { _ in }) throws {
        let out = project.root + "/out"
        var lines = try file("writes.jsonl").split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        // CSV records end in CRLF (one Character to Swift).
        var csv = try file("writes.csv").split(whereSeparator: \.isNewline).map(String.init)
        if dropLast { lines.removeLast(); csv.removeLast() } else { lines.removeFirst(); csv.remove(at: 1) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: out + "/writes.jsonl", atomically: true, encoding: .utf8)
        try (csv.joined(separator: "\r\n") + "\r\n").write(toFile: out + "/writes.csv", atomically: true, encoding: .utf8)
        var document = try JSONValue.parse(try file("report.json")).objectValue!
        let oldDigest = document["digest"]!.stringValue!
        var rows = document["rows"]!.objectValue!
        rows["count"] = .number(Double(lines.count))
        rows["sha256"] = .string("sha256:" + (try FileDigest.sha256(path: out + "/writes.jsonl")))
        rows["csv_sha256"] = .string("sha256:" + (try FileDigest.sha256(path: out + "/writes.csv")))
        document["rows"] = .object(rows)
        edit(&document)
        let signature = document.removeValue(forKey: "signature")
        document["digest"] = nil
        let newDigest = "sha256:" + JSONValue.object(document).canonicalDigest
        document["digest"] = .string(newDigest)
        if let signature { document["signature"] = signature }
        try (JSONValue.object(document).prettyText() + "\n").write(toFile: out + "/report.json", atomically: true, encoding: .utf8)
        if FileManager.default.fileExists(atPath: out + "/report.html") {
            try (try file("report.html")).replacingOccurrences(of: oldDigest, with: newDigest).write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
        }
        // The list's signature (with the key) cannot be made again without it: it stays as it was.
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0 != "SHA256SUMS" && $0 != "SHA256SUMS.sig" }.sorted()
        try names.map { "\(try FileDigest.sha256(path: out + "/" + $0))  \($0)" }.joined(separator: "\n").appending("\n")
            .write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
    }

    func file(_ name: String) throws -> String { try String(contentsOfFile: project.root + "/out/" + name, encoding: .utf8) }
}

struct ReportProjectError: Error { var message: String }

@Suite("rollout report, end to end")
struct ReportCommandTests {
    @Test("HTML, CSV and JSON agree with the store: counts, rows, approvals, rollbacks, the promotion")
    func formatsAgree() throws {
        let r = try ReportProject()
        let result = try r.report()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")

        // The store's own account of itself.
        let export = try r.project.run(["audit", "export"])
        let events = try export.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        let calls = events.filter { $0["tool"]?.stringValue?.hasPrefix("rollout.") == false }
        #expect(calls.count == 6 && events.count == 7, "\(events.count) events")
        var byDecision: [String: Int] = [:]
        for e in calls { byDecision[e["decision"]!.stringValue!, default: 0] += 1 }
        #expect(byDecision == ["executed": 3, "reason_required": 1, "pending_approval": 1, "rolled_back": 1])

        let json = try JSONValue.parse(try r.file("report.json"))
        #expect(json["chain"]?["ok"] == true && json["chain"]?["head"]?["seq"]?.intValue == events.count)
        #expect(json["rows"]?["count"]?.intValue == calls.count)
        #expect(json["by_decision"]?.objectValue?.mapValues { $0.intValue ?? -1 } == byDecision)
        #expect(json["refusals"]?[0]?["code"] == "reason_required" && json["refusals"]?[0]?["count"] == 1)
        let approvals = json["approvals"]?.arrayValue ?? []
        #expect(approvals.count == 2)
        #expect(approvals.last?["approver"] == "maria.lopez" && approvals.last?["details"]?["approval_reason"] == "return checked against the ticket")
        #expect(json["rollbacks"]?[0]?["details"]?["rollback_of"]?.intValue == 1)
        #expect(json["stage_changes"]?[0]?["details"]?["to"] == "shadow" && json["stage_changes"]?[0]?["actor"] == "maria.lopez")
        // The gate settings every promotion had to clear, with their digest; the promotion's evidence names the same digest.
        let gates = try #require(json["gates"]?.objectValue)
        #expect(gates["soak"]?.stringValue != nil && gates["min_events"]?.intValue != nil)
        #expect(json["stage_changes"]?[0]?["details"]?["evidence"]?["gates"] == gates["digest"])

        // JSON Lines: one row per call, the same fields as the store.
        let rows = try r.file("writes.jsonl").split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(rows.count == calls.count)
        for (row, event) in zip(rows, calls) {
            for key in ["seq", "tenant", "actor", "tool", "decision", "reason", "approver", "idempotency_key"] {
                #expect(row[key] == (event[key] ?? .null), "\(key) of #\(row["seq"] ?? .null)")
            }
        }
        // CSV: the same rows; a formula an agent wrote is neutralised.
        let csv = try r.file("writes.csv").components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.count == calls.count + 1 && csv[0].hasPrefix("seq,ts,tenant"))
        for (line, row) in zip(csv.dropFirst(), rows) {
            #expect(line.hasPrefix("\(row["seq"]!.intValue!),\(row["ts"]!.stringValue!),acme,"))
            #expect(line.contains(",\(row["decision"]!.stringValue!),"))
        }
        #expect(try r.file("writes.jsonl").contains(#""reason":"=HYPERLINK("#))
        #expect(csv.contains { $0.contains(#","'=HYPERLINK(""http://x"",""ticket 42"")""#) } && !csv.contains { $0.contains(",=HYPERLINK") })

        // HTML: the verdict, the digest, every call's row.
        let html = try r.file("report.html")
        #expect(html.contains("Audit chain verified.") && html.contains(json["digest"]!.stringValue!))
        for row in rows { #expect(html.contains("<tr><td>\(row["seq"]!.intValue!)</td>") || html.contains("<tr class=\"refused\"><td>\(row["seq"]!.intValue!)</td>")) }
        #expect(html.contains("return checked against the ticket") && html.contains("promote off→shadow"))
        #expect(html.contains("Gate settings: soak: <b>\(gates["soak"]!.stringValue!)</b>"))
        #expect(!html.contains("<script src") && !html.contains("<link ") && !html.contains("url("), "self-contained")

        // The report checks itself, and notices an edit.
        #expect(try r.project.run(["report", "--verify", r.project.root + "/out"]).status == 0)
        try (try r.file("writes.csv")).replacingOccurrences(of: "carrier confirmed pickup", with: "carrier confirmed pickup!")
            .write(toFile: r.project.root + "/out/writes.csv", atomically: true, encoding: .utf8)
        let verify = try r.project.run(["report", "--verify", r.project.root + "/out"])
        #expect(verify.status == 1 && verify.stdout.contains("writes.csv"), "\(verify.stdout)")
    }

    @Test("--verify checks the report's chain verdict against the store's chain, not only its digests, which have no key (found by an adversarial review)")
    func verifyChecksTheChain() throws {
        let r = try ReportProject()
        #expect(try r.report().status == 0)
        #expect(try r.project.run(["report", "--verify", r.project.root + "/out"]).status == 0)
        // The store is changed after the report said its chain verified: a report turned from broken to
        // verified, its digests made again, would stand the same way.
        let queue = try DatabaseQueue(path: r.project.store)
        try queue.write { db in
            try db.execute(sql: "UPDATE audit_events SET body = replace(body, 'carrier confirmed pickup', 'carrier confirmed nothing') WHERE seq = 1")
        }
        try queue.close()
        let verify = try r.project.run(["report", "--verify", r.project.root + "/out"])
        #expect(verify.status == 1 && verify.stdout.contains("its chain breaks at event #1"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--verify with a store named that is not there is an error, not a report verified without its chain")
    func verifyNeedsTheNamedStore() throws {
        let r = try ReportProject()
        #expect(try r.report().status == 0)
        let missing = r.project.root + "/no-such-store.sqlite"
        let verify = try RolloutBinary.run(["report", "--verify", r.project.root + "/out", "--store", missing], cwd: r.project.root)
        #expect(verify.status == 2 && verify.stderr.contains("no-such-store.sqlite") && !verify.stdout.contains("verified"), "\(verify.stdout)\(verify.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing), "nothing was created")
    }

    @Test("--verify refuses a report whose rows file is gone, or whose chain head was taken out (found by an adversarial review: both checks were skipped)",
          arguments: ["rows removed", "head removed"])
    func verifyNeedsRowsAndHead(_ edit: String) throws {
        let r = try ReportProject()
        #expect(try r.report().status == 0)
        let out = r.project.root + "/out"
        if edit == "rows removed" {
            try FileManager.default.removeItem(atPath: out + "/writes.jsonl")
        } else {
            // report.json without its chain head, its digest made again as a forger would.
            var document = try JSONValue.parse(try r.file("report.json")).objectValue!
            var chain = document["chain"]!.objectValue!
            chain["head"] = nil
            document["chain"] = .object(chain)
            document["digest"] = nil
            document["digest"] = .string("sha256:" + JSONValue.object(document).canonicalDigest)
            try (JSONValue.object(document).prettyText() + "\n").write(toFile: out + "/report.json", atomically: true, encoding: .utf8)
        }
        let verify = try r.project.run(["report", "--verify", out])
        let said = edit == "rows removed" ? "writes.jsonl: missing" : "states no chain head"
        #expect(verify.status == 1 && verify.stdout.contains(said), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--verify lists the period's calls again from the store: a call taken out of the files, every digest made again, is found")
    func verifyRecomputesRows() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        let out = r.project.root + "/out"
        #expect(try r.project.run(["report", "--verify", out]).status == 0, "an untouched report lists the same calls")
        // A forger drops the first call from the rows files and makes every digest again (they have no key).
        try r.forge()
        // The files agree with each other: the one problem is the store's list of the calls.
        let verify = try r.project.run(["report", "--verify", out])
        let problems = verify.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED:") }
        #expect(verify.status == 1 && problems.first?.contains("the store: the calls of the report's period") == true
                    && problems.contains { $0.contains("writes.csv: is not the store's calls") }, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--verify recounts the report's tables, its CSV and its page from the store: a refusal taken out of them all, writes.jsonl left whole and every digest made again, is found (helper-77)")
    func verifyRecountsTables() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        let out = r.project.root + "/out"
        #expect(try r.project.run(["report", "--verify", out]).status == 0)
        var csv = try r.file("writes.csv").split(whereSeparator: \.isNewline).map(String.init)
        #expect(csv.contains { $0.contains("reason_required") })
        csv.removeAll { $0.contains("reason_required") }
        try (csv.joined(separator: "\r\n") + "\r\n").write(toFile: out + "/writes.csv", atomically: true, encoding: .utf8)
        var document = try JSONValue.parse(try r.file("report.json")).objectValue!
        let oldDigest = document["digest"]!.stringValue!
        document["refusals"] = []
        document["by_decision"] = .object(document["by_decision"]!.objectValue!.filter { $0.key != "reason_required" })
        var rows = document["rows"]!.objectValue!
        rows["csv_sha256"] = .string("sha256:" + (try FileDigest.sha256(path: out + "/writes.csv")))
        document["rows"] = .object(rows)
        document["digest"] = nil
        let newDigest = "sha256:" + JSONValue.object(document).canonicalDigest
        document["digest"] = .string(newDigest)
        try (JSONValue.object(document).prettyText() + "\n").write(toFile: out + "/report.json", atomically: true, encoding: .utf8)
        try (try r.file("report.html")).replacingOccurrences(of: oldDigest, with: newDigest).replacingOccurrences(of: "reason_required", with: "executed")
            .write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0 != "SHA256SUMS" }.sorted()
        try names.map { "\(try FileDigest.sha256(path: out + "/" + $0))  \($0)" }.joined(separator: "\n").appending("\n")
            .write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let verify = try r.project.run(["report", "--verify", out])
        let problems = verify.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED:") }
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        for says in ["its by_decision are not", "its refusals are not", "writes.csv: is not the store's calls", "report.html: is not the page"] {
            #expect(problems.contains { $0.contains(says) }, "\(says): \(verify.stdout)")
        }
        #expect(!problems.contains { $0.contains("the calls of the report's period and scope") }, "writes.jsonl is whole: \(verify.stdout)")
    }

    @Test("with the chain key a report is signed: one rewritten without it (its last call dropped, how far it listed lowered, every digest made again) is told apart")
    func signedReport() throws {
        let key = ["ROLLOUT_CHAIN_KEY": "a long random secret kept in the team's vault"]
        let r = try ReportProject(environment: key)
        #expect(try r.report(["--no-anomalies"]).status == 0)
        #expect(try JSONValue.parse(try r.file("report.json"))["signature"]?.stringValue?.count == 64)
        #expect(try r.verify().status == 0)
        try r.forge(dropLast: true) { document in
            var rows = document["rows"]!.objectValue!
            rows["through"] = .number(Double(rows["through"]!.intValue! - 3))
            document["rows"] = .object(rows)
        }
        let verify = try r.verify()
        #expect(verify.status == 1 && verify.stdout.contains("its signature does not match its digest"), "\(verify.stdout)\(verify.stderr)")
        // Without the key, a signed store checks nothing: not verified, and said so.
        let unkeyed = try r.verify(environment: [:])
        #expect(unkeyed.status == 1 && unkeyed.stdout.hasPrefix("NOT VERIFIED") && unkeyed.stdout.contains("ROLLOUT_CHAIN_KEY"), "\(unkeyed.stdout)")
    }

    @Test("a report whose page report.json says was written verifies only with it (helper-78)")
    func pageTakenAway() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        let out = r.project.root + "/out"
        try FileManager.default.removeItem(atPath: out + "/report.html")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0 != "SHA256SUMS" }.sorted()
        try names.map { "\(try FileDigest.sha256(path: out + "/" + $0))  \($0)" }.joined(separator: "\n").appending("\n")
            .write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let verify = try r.verify()
        #expect(verify.status == 1 && verify.stdout.contains("report.html: missing"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a signed report made before its period ended is no account of the period once later calls of it exist (helper-77)")
    func signedReportMadeEarly() throws {
        let key = ["ROLLOUT_CHAIN_KEY": "a long random secret kept in the team's vault"]
        let r = try ReportProject(environment: key)
        #expect(try r.report(["--no-anomalies"]).status == 0)
        #expect(try r.verify().status == 0)
        let later = try r.project.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
                                       #"{"id": 5, "data": {"status": "shipped"}}"#], environment: key)
        #expect(later.status == 1, "a refusal, recorded: \(later.stdout)")
        let verify = try r.verify()
        #expect(verify.status == 1 && verify.stdout.contains("calls were left out, or came after the report was made"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a report of a tenant neither tenants.yaml nor the log knows is refused (exit 2), nothing written (helper-77)")
    func unknownTenant() throws {
        let r = try ReportProject()
        // The first letter is Cyrillic: it looks like acme.
        let result = try r.report(["--tenant", "\u{430}cme", "--no-anomalies"])
        #expect(result.status == 2 && result.stderr.contains("is no tenant of tenants.yaml"), "\(result.stdout)\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: r.project.root + "/out"))
        #expect(try r.report(["--tenant", "acme", "--no-anomalies"]).status == 0)
    }

    /// Forgeries without the key that the stored report's digests cannot tell (helper-70), each with what verify says.
    static let forgeries: [(String, String)] = [
        ("chain verdict removed", "states no verdict on its chain"),
        ("covers nothing", "past event #0, the last the report says it listed"),
        ("made just after an earlier head", "the last the report says it listed: calls were left out"),
        ("rows through an event past the head", "past the chain head"),
    ]

    @Test("without a key a report's own word on what it covers is checked against the store: its verdict, its head, every call past it",
          arguments: forgeries)
    func forgedCoverage(_ forgery: String, _ says: String) throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        #expect(try r.verify().status == 0)
        // The last call the forged files keep, as the store holds it.
        let kept = try JSONValue.parse(String(try r.file("writes.jsonl").split(separator: "\n").dropLast().last!))["seq"]!.intValue!
        let queue = try DatabaseQueue(path: r.project.store)
        let (hash, ts) = try queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT hash, ts FROM audit_events WHERE seq = ?", arguments: [kept])!
            return (row["hash"] as String, row["ts"] as String)
        }
        try queue.close()
        try r.forge(dropLast: true) { document in
            var chain = document["chain"]!.objectValue!, rows = document["rows"]!.objectValue!
            switch forgery {
            case "chain verdict removed":
                chain["ok"] = nil
            case "covers nothing":
                chain["head"] = ["seq": 0, "hash": ""]
                rows["through"] = 0
            case "made just after an earlier head":
                chain["head"] = ["seq": .number(Double(kept)), "hash": .string(hash)]
                rows["through"] = .number(Double(kept))
                document["generated_at"] = .string(ts)
            default:
                rows["through"] = .number(Double(chain["head"]!["seq"]!.intValue! + 1))
            }
            document["chain"] = .object(chain)
            document["rows"] = .object(rows)
        }
        let verify = try r.verify()
        #expect(verify.status == 1 && verify.stdout.contains(says), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a report written again into the same folder with fewer formats leaves none of the earlier report's files, and verifies")
    func fewerFormats() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        #expect(try r.report(["--no-anomalies", "--format", "json"]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: r.project.root + "/out").sorted()
        #expect(files == ["SHA256SUMS", "report.json", "writes.jsonl"], "\(files)")
        let verify = try r.verify()
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("a report that honestly says its log was tampered with is not verified: the calls it lists are the changed log's")
    func tamperedStoreIsNotVerified() throws {
        let r = try ReportProject()
        let queue = try DatabaseQueue(path: r.project.store)
        try queue.write { db in try db.execute(sql: "UPDATE audit_events SET approver = 'cfo.jane' WHERE approver IS NOT NULL") }
        try queue.close()
        #expect(try r.report(["--no-anomalies"]).status == 1)
        let verify = try r.verify()
        #expect(verify.status == 1 && verify.stdout.contains("cannot be vouched for"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("SHA256SUMS lists every file of the report and only them; with the key it is signed, so an edited HTML or CSV is told apart")
    func filesList() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        let out = r.project.root + "/out"
        let sums = try r.file("SHA256SUMS")
        try (sums + "\(String(repeating: "0", count: 64))  ../elsewhere\n").write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let outside = try r.verify()
        #expect(outside.status == 1 && outside.stdout.contains("SHA256SUMS:5:"), "\(outside.stdout)")
        try sums.split(separator: "\n").filter { !$0.hasSuffix("report.html") }.joined(separator: "\n").appending("\n")
            .write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let unlisted = try r.verify()
        #expect(unlisted.status == 1 && unlisted.stdout.contains("report.html: not listed in SHA256SUMS"), "\(unlisted.stdout)")

        let key = ["ROLLOUT_CHAIN_KEY": "a long random secret kept in the team's vault"]
        let signed = try ReportProject(environment: key)
        #expect(try signed.report(["--no-anomalies"]).status == 0)
        #expect(try signed.verify().status == 0)
        let signedOut = signed.project.root + "/out"
        // The HTML's words changed, its line in SHA256SUMS made again: report.json and its signature untouched.
        try (try signed.file("report.html")).replacingOccurrences(of: "maria.lopez", with: "cfo.jane").write(toFile: signedOut + "/report.html", atomically: true, encoding: .utf8)
        let names = try FileManager.default.contentsOfDirectory(atPath: signedOut).filter { $0 != "SHA256SUMS" && $0 != "SHA256SUMS.sig" }.sorted()
        try names.map { "\(try FileDigest.sha256(path: signedOut + "/" + $0))  \($0)" }.joined(separator: "\n").appending("\n")
            .write(toFile: signedOut + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let edited = try signed.verify()
        #expect(edited.status == 1 && edited.stdout.contains("SHA256SUMS.sig: is not the chain key's signature"), "\(edited.stdout)")
        try FileManager.default.removeItem(atPath: signedOut + "/SHA256SUMS.sig")
        let removed = try signed.verify()
        #expect(removed.status == 1 && removed.stdout.contains("SHA256SUMS.sig: missing"), "\(removed.stdout)")
    }

    @Test("without a key, when a report was made is checked too: removed, or moved before the chain head it states, is a problem", arguments: ["removed", "moved"])
    func madeAt(_ edit: String) throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        try r.forge(dropLast: true) { document in
            document["generated_at"] = edit == "removed" ? nil : .string("2000-01-01T00:00:00Z")
        }
        let verify = try r.verify()
        let says = edit == "removed" ? "states no time it was made" : "its time was changed"
        #expect(verify.status == 1 && verify.stdout.contains(says), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a report checked against no store is not verified: its files agree, which a forger can make so")
    func verifyWithoutStore() throws {
        let r = try ReportProject()
        #expect(try r.report(["--no-anomalies"]).status == 0)
        let elsewhere = TestPaths.temporaryDirectory("no-store").path
        let verify = try RolloutBinary.run(["report", "--verify", r.project.root + "/out"], cwd: elsewhere)
        #expect(verify.status == 1 && verify.stdout.hasPrefix("NOT VERIFIED") && verify.stdout.contains("no store was found"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a tampered store: the first page says so in red, the command exits 1, the files are still written")
    func tampered() throws {
        let r = try ReportProject()
        let queue = try DatabaseQueue(path: r.project.store)
        try queue.write { db in
            try db.execute(sql: "UPDATE audit_events SET body = replace(body, 'carrier confirmed pickup', 'carrier confirmed nothing') WHERE seq = 1")
        }
        let result = try r.report()
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("AUDIT LOG TAMPERED"))
        let html = try r.file("report.html")
        let verdict = try #require(html.range(of: "class=\"verdict tampered\""))
        #expect(html.distance(from: html.startIndex, to: verdict.lowerBound) < 3_000, "on the first page, before anything else")
        #expect(html.contains("breaks at event #1"))
        #expect(try JSONValue.parse(try r.file("report.json"))["chain"]?["ok"] == false)
    }

    @Test("bad periods and formats are usage errors")
    func usage() throws {
        let p = try StageProject()
        #expect(try p.run(["report", "--from", "yesterday"]).status == 2)
        #expect(try p.run(["report", "--format", "pdf"]).status == 2)
        #expect(try p.run(["report", "--from", "2026-12-01", "--to", "2026-11-01"]).status == 2)
    }
}

extension ReportCommandTests {
    @Test("report --verify scores the anomalies again: one taken out of report.json (digests and sums made again) fails; under another policy, without the key, the report is not verified (helper-78)")
    func anomaliesRescored() throws {
        let (dir, store) = try ScoreCommandTests.importedStore(ScoreCommandTests.events(planted: true))
        let out = dir.appendingPathComponent("out").path
        let common = ["--store", store, "--dir", TestPaths.exampleFolder]
        let made = try RolloutBinary.run(["report", "--from", "2026-11-04", "--to", "2026-11-11", "--out", out, "--format", "json"] + common)
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        var document = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))).objectValue!
        #expect(document["anomalies"]?.arrayValue?.count == 1, "\(String(describing: document["anomalies"]))")
        #expect(try RolloutBinary.run(["report", "--verify", out] + common).status == 0)

        // Under another policy the anomalies cannot be scored as they were: not verified, said why.
        let otherFolder = dir.appendingPathComponent("other").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: otherFolder)
        try (try String(contentsOfFile: otherFolder + "/policy.yaml", encoding: .utf8)).replacingOccurrences(of: "min_length: 12}", with: "min_length: 14}").write(toFile: otherFolder + "/policy.yaml", atomically: true, encoding: .utf8)
        let elsewhere = try RolloutBinary.run(["report", "--verify", out, "--store", store, "--dir", otherFolder])
        #expect(elsewhere.status == 1 && elsewhere.stdout.contains("NOT VERIFIED") && elsewhere.stdout.contains("give --dir with the policy"), "\(elsewhere.stdout)")

        // The anomaly taken out, every digest made again as anyone without the key can.
        document["anomalies"] = []
        document["digest"] = nil
        document["digest"] = .string("sha256:" + JSONValue.object(document).canonicalDigest)
        try (JSONValue.object(document).prettyText() + "\n").write(toFile: out + "/report.json", atomically: true, encoding: .utf8)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0 != "SHA256SUMS" }.sorted()
        try names.map { "\(try FileDigest.sha256(path: out + "/" + $0))  \($0)" }.joined(separator: "\n").appending("\n")
            .write(toFile: out + "/SHA256SUMS", atomically: true, encoding: .utf8)
        let verify = try RolloutBinary.run(["report", "--verify", out] + common)
        #expect(verify.status == 1 && verify.stdout.contains("its anomalies are not what scoring"), "\(verify.stdout)\(verify.stderr)")
    }
}
