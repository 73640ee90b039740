import Foundation
import RolloutCore
import RolloutPostgres
import RolloutTestSupport
import Testing

/// Several `rollout guard` hosts on one PostgreSQL store, each in front of its own tiny MCP server: one
/// chain, one set of caps, one idempotency ledger, one approval queue; a guard killed mid-write leaves
/// nothing half-written; imports racing into a new database make one chain.
@Suite("Many hosts, one PostgreSQL store", .enabled(if: TestStores.postgresURL != nil && TinyServer.available,
                                                     "needs ROLLOUT_TEST_POSTGRES (.ci/run starts a throwaway cluster) and python3"),
       .serialized)
struct MultiHostTests {
    /// Runs `body(i)` for i in 0..<count on threads of their own, and waits for all.
    static func parallel(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread {
                body(i)
                group.leave()
            }.start()
        }
        group.wait()
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String: [String]] = [:]
        func add(_ key: String, _ value: String) { lock.withLock { values[key, default: []].append(value) } }
        func get(_ key: String) -> [String] { lock.withLock { values[key] ?? [] } }
    }

    static func code(_ result: JSONValue) -> String {
        result["structuredContent"]?["decision"]?.stringValue ?? (result["isError"] == true ? "error" : "executed")
    }

    @Test("four guards, 1,000 writes each: one chain with every acknowledged write once; a cap of 100 holds across hosts; one key runs once; an approval queued on one host runs once from the CLI",
          .timeLimit(.minutes(10)))
    func fourGuards() throws {
        let store = try TestStores.location(.postgres)
        // items.update capped at 100 an hour for the tenant, across hosts; refunds.issue waits for a person.
        let project = try FailClosedProject { policy in
            policy.replacingOccurrences(of: "    writable: [title, status]\n    inverse: items.update\n",
                                        with: "    writable: [title, status]\n    inverse: items.update\n    cap: {max: 100, per: 1h}\n")
                .replacingOccurrences(of: "    writable: [order_id, amount_cents]\n", with: "    writable: [order_id, amount_cents]\n    approval: {when: true}\n")
        }
        let tinies = (0..<4).map { TinyDatabase(TestPaths.temporaryDirectory("host-\($0)").path) }
        let hosts = try (0..<4).map { i in
            // Each host reads its upstream's rows (--observe): an update's tenant is checked, not assumed.
            try GuardProcess(dir: project.dir, store: store, extra: ["--observe", "sqlite:" + tinies[i].path], upstreamEnvironment: ["TINY_DB": tinies[i].path])
        }
        let results = Results()
        let hostsBox = UncheckedHosts(hosts)

        // 1,000 writes from each of four agents, at once.
        Self.parallel(4) { i in
            for n in 0..<1000 {
                let key = "h\(i)-\(n)"
                let answer = try? hostsBox.hosts[i].call("items.create", FailClosedProject.create("item \(key)", key: key))
                results.add("create-\(i)", answer.map(Self.code) == "executed" ? key : "!" + key)
            }
        }
        var acknowledged: Set<String> = []
        for i in 0..<4 {
            let keys = results.get("create-\(i)")
            #expect(keys.count == 1000 && keys.allSatisfy { !$0.hasPrefix("!") }, "host \(i): \(keys.filter { $0.hasPrefix("!") }.prefix(3))")
            acknowledged.formUnion(keys)
            #expect(try tinies[i].calls("items.create") == 1000, "host \(i)'s upstream got each of its writes once")
        }

        // 50 capped writes from each host: exactly 100 run, whichever hosts they come from.
        Self.parallel(4) { i in
            for n in 0..<50 {
                let answer = try? hostsBox.hosts[i].call("items.update", ["id": 1, "data": ["title": .string("t\(n)")],
                                                                          "reason": "title corrected by the agent", "idempotency_key": .string("u\(i)-\(n)")])
                results.add("update", answer.map(Self.code) ?? "none")
            }
        }
        let updates = results.get("update")
        #expect(updates.filter { $0 == "executed" }.count == 100, "\(Dictionary(grouping: updates, by: { $0 }).mapValues(\.count))")
        #expect(updates.filter { $0 == "cap_exceeded" }.count == 100)
        #expect(try tinies.map { try $0.calls("items.update") }.reduce(0, +) == 100)

        // The same key on two hosts at once: one execution, at one upstream.
        Self.parallel(2) { i in
            let answer = try? hostsBox.hosts[i].call("items.create", FailClosedProject.create("twin", key: "same-key"))
            results.add("twin", answer.map(Self.code) ?? "none")
        }
        let twinRows = try tinies.map { try $0.items().filter { $0["title"] == "twin" }.count }.reduce(0, +)
        #expect(twinRows == 1, "one key, one execution: \(results.get("twin"))")

        // An approval queued on host A, approved by a person with the CLI on the same database (A's upstream, observed as A
        // observed it), runs once at A's upstream.
        let queued = try hosts[0].call("refunds.issue", ["order_id": 7, "amount_cents": 1500, "reason": "parcel lost by the carrier", "request_id": "refund-1"])
        #expect(Self.code(queued) == "pending_approval")
        let approvalID = try #require(queued["structuredContent"]?["approval_id"]?.intValue ?? queued["structuredContent"]?["id"]?.intValue)
        for host in hosts { _ = host.close() }
        let approve = [RolloutBinary.path, "approve", String(approvalID), "--dir", project.dir, "--store", store, "--by", "maria.lopez", "--reason", "refund checked",
                       "--observe", "sqlite:" + tinies[0].path, "--", "python3", TinyServer.script]
        let approved = try Subprocess.run(approve, environment: ["TINY_DB": tinies[0].path])
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try Subprocess.run(approve, environment: ["TINY_DB": tinies[0].path]).status == 1, "an approval runs once")
        #expect(try tinies[0].refunds() == 1 && tinies.dropFirst().allSatisfy { try $0.refunds() == 0 })

        // One chain, every acknowledged write in it exactly once.
        let verify = try RolloutBinary.run(["audit", "verify", "--store", store])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let events = try project.audit(store: store)
        let executedCreates = events.filter { $0["tool"] == "items.create" && $0["decision"] == "executed" }.compactMap { $0["idempotency_key"]?.stringValue }
        #expect(executedCreates.count == Set(executedCreates).count, "no key executed twice")
        #expect(Set(executedCreates) == acknowledged.union(["same-key"]))
        let seqs = events.compactMap { $0["seq"]?.intValue }
        #expect(seqs == Array(1...seqs.count), "one sequence, no gap")
    }

    @Test("a guard killed mid-write leaves nothing half-written: the chain verifies, every intent stands or has its outcome")
    func killMidWrite() throws {
        let store = try TestStores.location(.postgres)
        let project = try FailClosedProject()
        let host = try project.guardProcess(store: store)
        for n in 0..<200 { host.send("tools/call", ["name": "items.create", "arguments": FailClosedProject.create("item \(n)", key: "k\(n)")]) }
        usleep(300_000)
        kill(host.process.processIdentifier, SIGKILL)
        host.process.waitUntilExit()
        let verify = try RolloutBinary.run(["audit", "verify", "--store", store])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let events = try project.audit(store: store)
        #expect(!events.isEmpty)
        // Each key has an intent, and at most one outcome after it.
        let byKey = Dictionary(grouping: events, by: { $0["idempotency_key"]?.stringValue ?? "" })
        for (key, list) in byKey where !key.isEmpty {
            let decisions = list.compactMap { $0["decision"]?.stringValue }
            #expect(decisions.first == "intent" && decisions.count <= 2, "\(key): \(decisions)")
        }
        // A new guard on the same store goes on from the same head.
        let next = try project.guardProcess(store: store)
        #expect(Self.code(try next.call("items.create", FailClosedProject.create("after the crash", key: "after"))) == "executed")
        _ = next.close()
        #expect(try RolloutBinary.run(["audit", "verify", "--store", store]).status == 0)
    }

    @Test("a guard that loses its database refuses writes: nothing reaches the upstream unaudited")
    func databaseLost() throws {
        let store = try TestStores.location(.postgres)
        let project = try FailClosedProject()
        let host = try project.guardProcess(store: store)
        #expect(Self.code(try host.call("items.create", FailClosedProject.create("before", key: "k-1"))) == "executed")
        // The database goes away under the guard (its connections are terminated with it).
        var location = try PostgresLocation.parse(store)
        let name = location.database
        location.database = "postgres"
        try PostgresAdmin.dropDatabase(name, at: location)
        let answer = try host.call("items.create", FailClosedProject.create("after", key: "k-2"))
        #expect(answer["isError"] == true, "\(answer)")
        _ = host.close()
        #expect(try project.tiny.calls("items.create") == 1, "the write without an audit row never reached the upstream")
    }

    @Test("four imports into one new database at once: all succeed, one chain")
    func concurrentImports() throws {
        let store = try TestStores.location(.postgres)
        let files = try (0..<4).map { i -> String in
            let path = TestPaths.temporaryDirectory("import-\(i)").appendingPathComponent("events.jsonl").path
            let lines = (0..<500).map { n in
                #"{"ts":"2026-11-0\#(1 + n % 9)T10:00:00.000Z","tenant":"acme","actor":"agent-\#(i)","tool":"orders.update","row_count":1,"reason":"carrier confirmed pickup","idempotency_key":"i\#(i)-\#(n)","decision":"executed"}"#
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let statuses = Results()
        Self.parallel(4) { i in
            let result = try? RolloutBinary.run(["audit", "import", files[i], "--no-policy", "--store", store])
            statuses.add("status", String(result?.status ?? -1) + (result?.stderr ?? ""))
        }
        #expect(statuses.get("status").allSatisfy { $0.hasPrefix("0") }, "\(statuses.get("status"))")
        let verify = try RolloutBinary.run(["audit", "verify", "--store", store])
        #expect(verify.status == 0 && verify.stdout.contains("2000 events"), "\(verify.stdout)\(verify.stderr)")
    }
}

/// The hosts, shared by the test's threads (each thread uses only its own).
final class UncheckedHosts: @unchecked Sendable {
    let hosts: [GuardProcess]
    init(_ hosts: [GuardProcess]) { self.hosts = hosts }
}
