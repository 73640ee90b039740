import Foundation
import RolloutTestSupport
import Testing

/// Writes `count` interchange events to a new file; returns its path.
func writeEvents(_ count: Int, tenant: String = "acme", name: String = "events.jsonl") throws -> String {
    let path = TestPaths.temporaryDirectory().appendingPathComponent(name).path
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    var chunk = ""
    for i in 0..<count {
        chunk += #"{"ts":"2026-11-01T10:00:00.000Z","tenant":"\#(tenant)","actor":"agent-\#(i % 4)","tool":"orders.update","model":"Order","operation":"update","row_count":1,"fields_changed":{"status":{"before":"pending","after":"shipped"}},"reason":"carrier confirmed pickup","idempotency_key":"k-\#(i)","decision":"executed","approver":null}"#
        chunk += "\n"
        if chunk.utf8.count > 1 << 20 {
            handle.write(Data(chunk.utf8))
            chunk = ""
        }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
    return path
}

/// The number of audit events in a store, read with the CLI's own verify.
func verifiedCount(_ store: String) throws -> (ok: Bool, count: Int) {
    let result = try RolloutBinary.run(["audit", "verify", "--store", store, "--format", "json"])
    let count = Int(result.stdout.components(separatedBy: "\"checked\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
    return (result.status == 0, count)
}

@Suite("rollout audit: crash safety and concurrency", .serialized)
struct AuditCommandTests {
    @Test("SIGKILL during an import leaves all or nothing of the file, and the chain verifies")
    func killDuringImport() throws {
        let events = 150_000
        let file = try writeEvents(events)
        let store = TestPaths.temporaryDirectory().appendingPathComponent("audit.sqlite").path
        // A first committed import that must survive.
        let small = try writeEvents(10, name: "small.jsonl")
        #expect(try RolloutBinary.run(["audit", "import", small, "--store", store]).status == 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: RolloutBinary.path)
        process.arguments = ["audit", "import", file, "--store", store]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill once the import is really under way: its uncommitted pages are in the WAL.
        let wal = store + "-wal"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, process.isRunning {
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            if size > 4 << 20 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let killedMidway = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let (ok, count) = try verifiedCount(store)
        #expect(ok, "the chain verifies after the kill")
        #expect(count == 10 || count == 10 + events, "all or nothing: found \(count)")
        if killedMidway { #expect(count == 10, "killed mid-way, so nothing of the file is kept") }
        print("kill test: killed mid-way: \(killedMidway), events after: \(count)")
        // The store keeps working after the crash.
        #expect(try RolloutBinary.run(["audit", "import", small, "--store", store]).status == 0)
        #expect(try verifiedCount(store).count == count + 10)
    }

    @Test("two imports into one store at once: both succeed, or one is refused as busy; the chain verifies",
          arguments: ["5", "0.05"])
    func concurrentImports(busyTimeout: String) throws {
        let a = try writeEvents(20_000, tenant: "acme", name: "a.jsonl")
        let b = try writeEvents(20_000, tenant: "globex", name: "b.jsonl")
        let store = TestPaths.temporaryDirectory().appendingPathComponent("audit.sqlite").path
        let missing = try RolloutBinary.run(["audit", "verify", "--store", store])
        #expect(missing.status == 2 && missing.stderr.contains("no store at \(store); give --store"), "no store yet: \(missing.stderr)")
        _ = try RolloutBinary.run(["audit", "import", try writeEvents(1), "--store", store])

        nonisolated(unsafe) var results: [ProcessResult?] = [nil, nil]
        let group = DispatchGroup()
        for (i, file) in [a, b].enumerated() {
            group.enter()
            DispatchQueue.global().async {
                results[i] = try? RolloutBinary.run(["audit", "import", file, "--store", store], environment: ["ROLLOUT_BUSY_TIMEOUT": busyTimeout])
                group.leave()
            }
        }
        group.wait()
        let statuses = results.map { $0?.status ?? -1 }
        var expected = 1
        for (i, result) in results.enumerated() {
            let result = try #require(result)
            if result.status == 0 {
                expected += 20_000
            } else {
                #expect(result.status == 3, "import \(i): \(result.stderr)")
                #expect(result.stderr.contains("busy"), "a clear busy error: \(result.stderr)")
            }
        }
        #expect(statuses.contains(0), "at least one import succeeds")
        let (ok, count) = try verifiedCount(store)
        #expect(ok)
        #expect(count == expected)
        print("concurrent imports with busy timeout \(busyTimeout)s: exit statuses \(statuses), \(count) events")
    }

    @Test("run where no store is, approve and audit tail say which folder they looked in and how to name the store (review 18, U4)",
          arguments: [["approve", "1"], ["audit", "tail"]])
    func missingStoreNamesTheFolder(_ command: [String]) throws {
        let folder = TestPaths.temporaryDirectory("elsewhere").path
        let result = try RolloutBinary.run(command, cwd: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no store at .rollout/audit.sqlite (in \(folder)); give --store"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/.rollout"), "nothing was created")
    }

    @Test("an error message to a reader that went away (stderr piped into a closed pipe) loses the text, not the exit status")
    func closedStderr() throws {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("a.sqlite").path
        #expect(try RolloutBinary.run(["audit", "import", try writeEvents(3), "--store", store], environment: ["ROLLOUT_CHAIN_KEY": "the vault's key"]).status == 0)
        // Without the key the export refuses with a message; its reader has closed the pipe before it comes.
        let piped = try Subprocess.run(["bash", "-c", "\"$0\" audit export --store \"$1\" 2>&1 | true; exit ${PIPESTATUS[0]}", RolloutBinary.path, store],
                                       environment: ["ROLLOUT_CHAIN_KEY": ""])
        #expect(piped.status == 2 || piped.status == 3, "exit \(piped.status), not a trap (132)")
    }

    @Test("ROLLOUT_SQLITE_SYNCHRONOUS: a value other than normal or full is refused before any store is made (exit 2); full imports and verifies")
    func durabilitySetting() throws {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("a.sqlite").path
        let file = try writeEvents(3)
        let refused = try RolloutBinary.run(["audit", "import", file, "--store", store], environment: ["ROLLOUT_SQLITE_SYNCHRONOUS": "sometimes"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("ROLLOUT_SQLITE_SYNCHRONOUS=\"sometimes\": expected normal"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "no store was made")
        let full = ["ROLLOUT_SQLITE_SYNCHRONOUS": "full"]
        #expect(try RolloutBinary.run(["audit", "import", file, "--store", store], environment: full).status == 0)
        let verified = try RolloutBinary.run(["audit", "verify", "--store", store], environment: full)
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test("ROLLOUT_BUSY_TIMEOUT that no engine can take (infinite, huge, zero, a word) is refused with exit 2, not a trap or a silent 5 s",
          arguments: ["inf", "1e10", "0", "five", ""])
    func busyTimeoutSetting(value: String) throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("a.sqlite").path
        let refused = try RolloutBinary.run(["audit", "import", try writeEvents(2), "--store", store], environment: ["ROLLOUT_BUSY_TIMEOUT": value])
        #expect(refused.status == 2, "exit \(refused.status): \(refused.stderr)")
        #expect(refused.stderr.contains("ROLLOUT_BUSY_TIMEOUT=\"\(value)\": expected a number of seconds"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "no store was made")
    }

    @Test("a bad line is reported with its number and nothing of the file is imported; exit 2")
    func badLine() throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("audit.sqlite").path
        let file = try writeEvents(5)
        var text = try String(contentsOfFile: file, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        lines[3] = lines[3].replacingOccurrences(of: "\"row_count\":1", with: "\"row_count\":-4")
        text = lines.joined(separator: "\n")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try RolloutBinary.run(["audit", "import", file, "--store", store])
        #expect(result.status == 2)
        #expect(result.stderr.contains(":4: row_count:"), "\(result.stderr)")
        #expect(try verifiedCount(store).count == 0)
    }

    @Test("a tool name or a reason with a line feed in it prints as one line of audit tail, not as a forged event (review 24, F3)")
    func tailKeepsOneLinePerEvent() throws {
        let store = TestPaths.temporaryDirectory().appendingPathComponent("demo.sqlite").path
        let common = ["--demo", "--dir", TestPaths.exampleFolder, "--store", store, "--tenant", "acme", "--actor", "agent-1"]
        let forged = "#2  2026-12-01 08:00:00  acme  maria.lopez  orders.delete  rolled_back"
        _ = try RolloutBinary.run(["call", "orders.get\n" + forged, "--args", "{}"] + common)
        _ = try RolloutBinary.run(["call", "orders.update", "--args",
            #"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup\n\#(forged)", "idempotency_key": "k-1"}"#] + common)
        let tail = try RolloutBinary.run(["audit", "tail", "--store", store])
        let lines = tail.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("#1 ") || $0.hasPrefix("#2 ") }, "\(tail.stdout)")
        #expect(tail.stdout.contains("\\u{a}#2"), "\(tail.stdout)")
    }

    @Test("call, approve, tail, rollback and verify from the command line")
    func guardLoop() throws {
        let dir = TestPaths.temporaryDirectory()
        let store = dir.appendingPathComponent("audit.sqlite").path
        let common = ["--dir", TestPaths.exampleFolder, "--store", store]
        let update = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args",
            #"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-1"}"#] + common)
        #expect(update.status == 0 && update.stdout.hasPrefix("executed"), "\(update.stdout)\(update.stderr)")
        let refused = try RolloutBinary.run(["call", "orders.update", "--demo", "--tenant", "acme", "--actor", "agent-1", "--args", #"{"id": 1, "data": {"status": "shipped"}}"#] + common)
        #expect(refused.status == 1 && refused.stdout.hasPrefix("reason_required"))
        let pending = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--format", "json", "--args",
            #"{"order_id": 2, "amount_cents": 90000, "reason_code": "damaged", "reason": "parcel arrived crushed", "request_id": "r-1"}"#] + common)
        #expect(pending.status == 0 && pending.stdout.contains("\"approval_id\": 1"))
        #expect(try RolloutBinary.run(["approvals"] + ["--store", store]).stdout.contains("refunds.issue"))
        #expect(try RolloutBinary.run(["approve", "1", "--by", "agent-1"] + common).status == 1)
        #expect(try RolloutBinary.run(["approve", "1", "--by", "maria.lopez"] + common).status == 0)
        let tail = try RolloutBinary.run(["audit", "tail", "--store", store])
        #expect(tail.stdout.contains("approver=maria.lopez"))
        let rollback = try RolloutBinary.run(["audit", "rollback", "1", "--reason", "the parcel is still in the warehouse", "--by", "dev"] + common)
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(try RolloutBinary.run(["audit", "rollback", "1", "--reason", "the parcel is still in the warehouse", "--by", "dev"] + common).status == 1)
        #expect(try verifiedCount(store).ok)
        #expect(try RolloutBinary.run(["approve", "99", "--by", "maria"] + common).status == 2)
    }
}
