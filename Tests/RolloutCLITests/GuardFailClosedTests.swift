import Foundation
import GRDB
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

/// A tiny server's database, read as the test's witness of what really reached the upstream.
struct TinyDatabase {
    let path: String

    init(_ directory: String) {
        path = directory + "/tiny.sqlite"
    }

    func calls(_ tool: String? = nil) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try Int.fetchOne(db, sql: tool == nil ? "SELECT count(*) FROM calls" : "SELECT count(*) FROM calls WHERE tool = ?",
                             arguments: tool.map { [$0] } ?? []) ?? 0
        }
    }

    func items() throws -> [[String: String]] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, tenant_id, title, status FROM items ORDER BY id").map { row in
                ["id": String(row["id"] as Int64), "tenant_id": row["tenant_id"] ?? "", "title": row["title"] ?? "", "status": row["status"] ?? ""]
            }
        }
    }

    /// Adds a row as another writer of the upstream's database would (another tenant's application, say).
    func insertItem(tenant: String, title: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.write { db in try db.execute(sql: "INSERT INTO items (tenant_id, title) VALUES (?, ?)", arguments: [tenant, title]) }
    }

    func refunds() throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM refunds") ?? 0 }
    }
}

/// A rollout folder with the tiny server's policy, a store and the server's database in a fresh directory.
struct FailClosedProject {
    let dir: String
    var store: String { dir + "/guard.sqlite" }
    var tiny: TinyDatabase { TinyDatabase(dir) }

    init(stage: String = "broad", policyEdit: (String) -> String = { $0 }) throws {
        dir = TestPaths.temporaryDirectory("fail-closed").path
        let policy = try String(contentsOfFile: TinyServer.policyFolder + "/policy.yaml", encoding: .utf8)
        try policyEdit(policy).write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
        try "version: 1\ntenants:\n  acme: {stage: \(stage)}\n  globex: {stage: broad}\n".write(toFile: dir + "/tenants.yaml", atomically: true, encoding: .utf8)
    }

    /// A project whose `tool` (items.update or items.create) waits for a person's approval.
    static func approving(_ tool: String) throws -> FailClosedProject {
        let lines = tool == "items.create" ? "    writable: [title]\n    inverse: items.delete\n" : "    writable: [title, status]\n    inverse: items.update\n"
        return try FailClosedProject { $0.replacingOccurrences(of: lines, with: lines + "    approval: {when: true}\n") }
    }

    /// upstreams.yaml with one entry, `tiny`: `script` run by python3, its database $TINY_DB (observed),
    /// and `inherit:` when given.
    func writeUpstreams(script: String = TinyServer.script, inherit: String? = nil) throws {
        try """
            version: 1
            upstreams:
              tiny:
                command: [python3, \(script)]
                env: [TINY_DB]
            \(inherit.map { "    inherit: \($0)\n" } ?? "")    observe: sqlite:${TINY_DB}
            """.write(toFile: dir + "/upstreams.yaml", atomically: true, encoding: .utf8)
    }

    /// A server that writes down the environment it was started with, then serves as the tiny server:
    /// its path, and what it saw (read after its first call).
    func recordingServer() throws -> (path: String, seen: () throws -> [String: String]) {
        let seen = dir + "/server.env", server = dir + "/recording_server.sh"
        try "#!/bin/sh\nenv > \(seen)\nexec python3 \(TinyServer.script)\n".write(toFile: server, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: server)
        return (server, {
            var environment: [String: String] = [:]
            for line in try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
            }
            return environment
        })
    }

    /// upstreams.yaml with one entry, `loose`, that binds no variable and lets its server inherit everything
    /// (lint warns): a variable moves where it writes unseen, and only an observed database shows it.
    /// For tests that change the server's mode between a write and its rollback.
    func writeLooseUpstream() throws {
        try "version: 1\nupstreams:\n  loose:\n    command: [python3, \(TinyServer.script)]\n"
            .write(toFile: dir + "/upstreams.yaml", atomically: true, encoding: .utf8)
    }

    /// One item created through a guard that observes the tiny server's database; its executed event's seq.
    func observedCreate(upstream: [String] = ["--", "python3", TinyServer.script]) throws -> Int {
        let guard_ = try guardProcess(extra: ["--observe", "sqlite:" + tiny.path], upstream: upstream)
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("first", key: "k-1"))) == nil)
        _ = guard_.close()
        return try #require(try audit().first { $0["decision"] == "executed" }?["seq"]?.intValue)
    }

    func guardProcess(extra: [String] = [], environment: [String: String] = [:], store: String? = nil,
                      upstream: [String] = ["--", "python3", TinyServer.script]) throws -> GuardProcess {
        var env = ["TINY_DB": tiny.path]
        for (k, v) in environment { env[k] = v }
        return try GuardProcess(dir: dir, store: store ?? self.store, extra: extra, upstream: upstream, upstreamEnvironment: env)
    }

    /// A guard whose store is on a 4 MB disk that its upstream fills after each write (`TINY_FILL`);
    /// `remove` unmounts the disk.
    func guardOnFillingDisk() throws -> (guard_: GuardProcess, store: String, remove: () -> Void) {
        let disk = try SmallDisk(megabytes: 4)
        let store = disk.path + "/guard.sqlite"
        do {
            let guard_ = try guardProcess(environment: ["TINY_FILL": disk.path + "/filler"], store: store)
            return (guard_, store, {
                guard_.kill()
                try? FileManager.default.removeItem(atPath: disk.path + "/filler")
                disk.remove()
            })
        } catch {
            disk.remove()
            throw error
        }
    }

    func audit(store: String? = nil) throws -> [JSONValue] {
        let export = try RolloutBinary.run(["audit", "export", "--store", store ?? self.store])
        return try export.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func decisions(store: String? = nil) throws -> [String] {
        try audit(store: store).map { $0["decision"]?.stringValue ?? "" }
    }

    static func create(_ title: String, key: String) -> JSONValue {
        ["data": ["title": .string(title)], "reason": "stock arrived from the supplier", "idempotency_key": .string(key)]
    }
}

@Suite("rollout guard fails closed: undescribed tools, unbound arguments, timeouts, crashes, approvals, a full disk",
       .enabled(if: TinyServer.available, "python3 is missing"), .serialized)
struct GuardFailClosedTests {
    @Test("an upstream's twenty undescribed tools, realistic names included, are hidden and refused for any tenant, audited, and never reach it",
          arguments: ["broad", "off"])
    func undescribedTools(stage: String) throws {
        let project = try FailClosedProject(stage: stage)
        let guard_ = try project.guardProcess(environment: ["TINY_TOOLS": "realistic"])
        let listed = try guard_.toolNames()
        #expect(Set(listed) == (stage == "off" ? ["items.get", "items.list"] : ["items.create", "items.update", "items.delete", "refunds.issue", "items.get", "items.list"]),
                "only what the policy describes is listed: \(listed)")
        let names = ["run_sql", "orderArchive", "get_or_purge_order", "execute", "admin.query", "db.raw", "sync_orders", "orders.archive",
                     "export_customers", "maintenance", "migrate", "cleanup_stale", "reindex", "customer.merge", "recalculate_totals",
                     "impersonate", "debug_eval", "shell", "apply_patch", "flush_cache"]
        for name in names {
            let result = try guard_.call(name, ["id": 1, "sql": "DELETE FROM items"])
            #expect(result["isError"] == true && decisionCode(result) == "tool_undescribed", "\(name): \(result)")
        }
        _ = guard_.close()
        #expect(try project.tiny.calls() == 0, "no undescribed call reached the upstream")
        let events = try project.audit()
        #expect(events.count == 20 && events.allSatisfy { $0["decision"] == "tool_undescribed" && $0["tenant"] == "acme" })
    }

    @Test("arguments the policy does not bind are refused before the upstream sees them: no refund in another tenant, approved by nobody")
    func unboundArguments() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        var args: JSONValue = ["order_id": 7, "amount_cents": 1200, "reason": "parcel arrived two weeks late", "request_id": "r-1"]
        for (name, value) in [("tenant_id", JSONValue.string("globex")), ("status", "approved"), ("approved_by", "maria.lopez")] {
            var withExtra = args
            withExtra = JSONPointer(tokens: [name]).setting(value, in: withExtra)
            let result = try guard_.call("refunds.issue", withExtra)
            #expect(decisionCode(result) == "argument_unbound", "\(name): \(result)")
            #expect(result["structuredContent"]?["message"]?.stringValue?.contains("/\(name)") == true)
        }
        args = JSONPointer(tokens: ["request_id"]).setting("r-2", in: args)
        #expect(decisionCode(try guard_.call("refunds.issue", args)) == nil, "the same call without them goes through")
        _ = guard_.close()
        #expect(try project.tiny.refunds() == 1 && project.tiny.calls("refunds.issue") == 1)
        #expect(try project.decisions() == ["argument_unbound", "argument_unbound", "argument_unbound", "intent", "executed"])
    }

    @Test("approving a proxied write runs it on its own upstream, and only there")
    func approveReachesUpstream() throws {
        let project = try FailClosedProject.approving("items.create")
        let guard_ = try project.guardProcess()
        let queued = try guard_.call("items.create", FailClosedProject.create("hello", key: "k-1"))
        #expect(decisionCode(queued) == "pending_approval")
        #expect(queued["content"]?[0]?["text"]?.stringValue?.contains("Nothing was done yet") == true, "the agent is told what waits and that a confirmation follows")
        _ = guard_.close()
        #expect(try project.tiny.calls("items.create") == 0, "not forwarded while pending")

        let common = ["--dir", project.dir, "--store", project.store, "--by", "maria.lopez", "--reason", "stock checked"]
        let environment = ["TINY_DB": project.tiny.path]
        // Not on another server than the one it was queued for.
        let other = try Subprocess.run([RolloutBinary.path, "approve", "1"] + common + ["--", "python3", "-c", "pass"], environment: environment)
        #expect(other.status == 2 && other.stderr.contains("a write runs only where it was asked to"), "\(other.stderr)")
        #expect(try project.tiny.calls("items.create") == 0)

        // The pending event holds the server's command line: the approval starts that one again.
        #expect(try project.audit()[0]["details"]?["command"] == ["python3", .string(TinyServer.script)])
        let approved = try Subprocess.run([RolloutBinary.path, "approve", "1"] + common, environment: environment)
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["hello"] && project.tiny.calls("items.create") == 1)
        let again = try Subprocess.run([RolloutBinary.path, "approve", "1"] + common + ["--", "python3", TinyServer.script], environment: environment)
        #expect(try again.status == 1 && project.tiny.calls("items.create") == 1, "an approval runs once")
        #expect(try project.decisions() == ["pending_approval", "intent", "executed", "approval_refused"])
        #expect(try project.audit()[2]["approver"] == "maria.lopez")
    }

    @Test("an approval run where the rows cannot be read stays pending (the run, not the write, was at fault); run where they can, it executes")
    func approvalWaitsForReadableRows() throws {
        let project = try FailClosedProject.approving("items.update")
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("old title", key: "k-1"))) == nil)
        let queued = try guard_.call("items.update", ["id": 1, "data": ["title": "new title"], "reason": "the supplier renamed it", "idempotency_key": "k-2"])
        #expect(decisionCode(queued) == "pending_approval", "\(queued)")
        _ = guard_.close()

        let common = ["approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez", "--reason", "checked the supplier's list"]
        let upstream = ["--", "python3", TinyServer.script]
        let environment = ["TINY_DB": project.tiny.path]
        // The run observes the database its write recorded; for this run it holds no database (the server
        // works on the real one, moved aside).
        let aside = project.dir + "/aside.db"
        try FileManager.default.moveItem(atPath: project.tiny.path, toPath: aside)
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: project.tiny.path))
        let blind = try Subprocess.run([RolloutBinary.path] + common + upstream, environment: ["TINY_DB": aside])
        #expect(blind.status == 1, "\(blind.stdout)\(blind.stderr)")
        #expect((blind.stdout + blind.stderr).contains("stays pending"), "\(blind.stdout)\(blind.stderr)")
        try FileManager.default.removeItem(atPath: project.tiny.path)
        try FileManager.default.moveItem(atPath: aside, toPath: project.tiny.path)
        #expect(try project.tiny.calls("items.update") == 0 && project.tiny.items().map { $0["title"] } == ["old title"])

        let seeing = try Subprocess.run([RolloutBinary.path] + common + upstream, environment: environment)
        #expect(seeing.status == 0, "\(seeing.stdout)\(seeing.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["new title"] && project.tiny.calls("items.update") == 1)
        #expect(try project.decisions() == ["intent", "executed", "pending_approval", "approval_refused", "intent", "executed"])
    }

    @Test("an approval and a rollback run only where the write was asked for: an upstream entry's variable with another value is refused, and the approval stays pending")
    func placementBindsApprovals() throws {
        let project = try FailClosedProject.approving("items.update")
        // The command the guard runs is this entry: its database is $TINY_DB, which the guard also observes.
        try project.writeUpstreams()
        let guard_ = try project.guardProcess()
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("old title", key: "k-1"))) == nil)
        let queued = try guard_.call("items.update", ["id": 1, "data": ["title": "new title"], "reason": "the supplier renamed it", "idempotency_key": "k-2"])
        #expect(decisionCode(queued) == "pending_approval", "\(queued)")
        _ = guard_.close()
        // The entry's database is its variable's to give: only its mark is recorded, never the path.
        let recorded = try project.audit()
        #expect(recorded.allSatisfy { $0["details"]?["observed"] == nil } && recorded.contains { $0["details"]?["placement"]?["observe"] != nil })
        // A copy of the database, the same rows: every row check passes there.
        let elsewhere = TinyDatabase(TestPaths.temporaryDirectory("elsewhere").path)
        try FileManager.default.copyItem(atPath: project.tiny.path, toPath: elsewhere.path)

        let approve = ["approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez", "--reason", "checked the supplier's list"]
        let wrong = try Subprocess.run([RolloutBinary.path] + approve, environment: ["TINY_DB": elsewhere.path])
        #expect(wrong.status == 1 && wrong.stdout.contains("$TINY_DB has another value here") && wrong.stdout.contains("stays pending"),
                "\(wrong.stdout)\(wrong.stderr)")
        #expect(try elsewhere.items().map { $0["title"] } == ["old title"] && project.tiny.items().map { $0["title"] } == ["old title"])
        // The upstream runs in the directory its guard runs in: a relative path there is another file here.
        let away = try Subprocess.run([RolloutBinary.path] + approve, cwd: TestPaths.temporaryDirectory("away").path, environment: ["TINY_DB": project.tiny.path])
        #expect(away.status == 1 && away.stdout.contains("this runs in another directory") && away.stdout.contains("stays pending"), "\(away.stdout)\(away.stderr)")
        let right = try Subprocess.run([RolloutBinary.path] + approve, environment: ["TINY_DB": project.tiny.path])
        #expect(right.status == 0, "\(right.stdout)\(right.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["new title"] && elsewhere.items().map { $0["title"] } == ["old title"])

        let executed = try #require(try project.audit().last { $0["decision"] == "executed" && $0["tool"] == "items.update" }?["seq"]?.intValue)
        let rollback = ["audit", "rollback", String(executed), "--dir", project.dir, "--store", project.store, "--by", "dev.patel",
                        "--reason", "the supplier took the rename back"]
        let wrongRollback = try Subprocess.run([RolloutBinary.path] + rollback, environment: ["TINY_DB": elsewhere.path])
        #expect(wrongRollback.status == 1 && wrongRollback.stdout.contains("$TINY_DB has another value here"), "\(wrongRollback.stdout)\(wrongRollback.stderr)")
        #expect(try elsewhere.calls("items.update") == 0)
        let rightRollback = try Subprocess.run([RolloutBinary.path] + rollback, environment: ["TINY_DB": project.tiny.path])
        #expect(rightRollback.status == 0, "\(rightRollback.stdout)\(rightRollback.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["old title"])
    }

    @Test("an entry that limits what its server inherits keeps a variable it does not list from moving an approved write (here, to another tenant)",
          arguments: [true, false])
    func inheritLimitsTheServer(limited: Bool) throws {
        let project = try FailClosedProject.approving("items.create")
        try project.writeUpstreams(inherit: limited ? "[PATH]" : nil)
        let guard_ = try project.guardProcess()
        let queued = try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))
        #expect(decisionCode(queued) == "pending_approval", "\(queued)")
        _ = guard_.close()
        // The approver's shell holds a variable the server reads and the entry does not list.
        let approve = try Subprocess.run([RolloutBinary.path, "approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez",
                                          "--reason", "checked the supplier's list"], environment: ["TINY_DB": project.tiny.path, "TINY_TENANT": "globex"])
        let tenants = try project.tiny.items().map { $0["tenant_id"] }
        if limited {
            #expect(approve.status == 0 && approve.stdout.contains("executed"), "\(approve.stdout)\(approve.stderr)")
            #expect(tenants == ["acme"], "the server never saw TINY_TENANT")
        } else {
            // Without the limit the variable reaches the server: the write lands as globex's, caught only after.
            #expect(tenants == ["globex"] && approve.stdout.contains("upstream_mismatch"), "\(approve.stdout)\(approve.stderr)")
        }
        let lint = try RolloutBinary.run(["lint", "--dir", project.dir])
        #expect(lint.stdout.contains("inherits the whole environment") == !limited, "\(lint.stdout)")
    }

    @Test("an approval of a write whose server was started from a command line runs only with the guard's environment: a variable added in another shell is refused, and the write stays pending")
    func commandBackendBindsItsEnvironment() throws {
        let project = try FailClosedProject.approving("items.create")
        let guard_ = try project.guardProcess()
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == "pending_approval")
        _ = guard_.close()
        let approve = [RolloutBinary.path, "approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez",
                       "--reason", "checked the supplier's list", "--", "python3", TinyServer.script]
        // The approver's shell holds a variable the server reads (its tenant): with no entry, nothing else says it matters.
        let moved = try Subprocess.run(approve, environment: ["TINY_DB": project.tiny.path, "TINY_TENANT": "globex"])
        #expect(moved.status == 1 && moved.stdout.contains("gets its guard's whole environment, and this one differs (set here only: TINY_TENANT)"),
                "\(moved.stdout)\(moved.stderr)")
        #expect(try project.tiny.items().isEmpty && project.tiny.calls("items.create") == 0)
        // Rollout's own variables, the shell's bookkeeping and the terminal session's are not the server's: they do not count.
        // Nor is the command needed again: the pending event holds it in clear, bound by the backend's digest.
        let same = try Subprocess.run(Array(approve.dropLast(3)), environment: ["TINY_DB": project.tiny.path, "ROLLOUT_ACTOR": "someone", "OLDPWD": "/tmp",
                                                                               "TERM": "screen-256color", "SSH_CONNECTION": "10.0.0.9 52000 10.0.0.1 22"])
        #expect(same.status == 0 && same.stdout.contains("executed"), "\(same.stdout)\(same.stderr)")
        #expect(try project.tiny.items().map { $0["tenant_id"] } == ["acme"])
    }

    @Test("""
        the upstream never gets rollout's own secrets (the chain key, the webhook secret, the store's location), inherited or named; \
        PGPASSWORD only when its entry names it
        """, arguments: [(nil, false), ("[PATH, TINY_DB]", false), (nil, true), ("[PATH, TINY_DB]", true)])
    func secretsWithheld(inherit: String?, namesPassword: Bool) throws {
        let project = try FailClosedProject()
        let (server, seen) = try project.recordingServer()
        try project.writeUpstreams(script: server, inherit: inherit)
        try String(contentsOfFile: project.dir + "/upstreams.yaml", encoding: .utf8).replacingOccurrences(of: "[python3, \(server)]", with: "[\(server)]")
            .replacingOccurrences(of: "env: [TINY_DB]", with: namesPassword ? "env: [TINY_DB, PGPASSWORD]" : "env: [TINY_DB]")
            .write(toFile: project.dir + "/upstreams.yaml", atomically: true, encoding: .utf8)
        let secrets = ["ROLLOUT_CHAIN_KEY": "chain-key-for-the-test", "ROLLOUT_WEBHOOK_SECRET": "webhook-secret", "ROLLOUT_STORE": project.store]
        let guard_ = try project.guardProcess(environment: secrets.merging(["ROLLOUT_TARGETS_CACHE": "/tmp/cache", "PGPASSWORD": "pg-pass"]) { a, _ in a },
                                              upstream: ["--upstream", "tiny"])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == nil)
        _ = guard_.close()
        let names = Set(try seen().keys)
        #expect(names.contains("TINY_DB"), "\(names.sorted())")
        #expect(names.isDisjoint(with: secrets.keys), "the server got \(names.intersection(secrets.keys).sorted())")
        // An unlimited entry passes rollout's other variables on (the OrmAI example names ROLLOUT_TARGETS_CACHE).
        #expect(names.contains("ROLLOUT_TARGETS_CACHE") == (inherit == nil))
        #expect(names.contains("PGPASSWORD") == namesPassword, "\(names.sorted())")
        // The guard itself kept the key: its rows are signed with it.
        let verified = try RolloutBinary.run(["audit", "verify", "--store", project.store], environment: ["ROLLOUT_CHAIN_KEY": secrets["ROLLOUT_CHAIN_KEY"]!])
        let unkeyed = try RolloutBinary.run(["audit", "verify", "--store", project.store], environment: ["ROLLOUT_CHAIN_KEY": ""])
        #expect(verified.status == 0 && unkeyed.status == 1 && unkeyed.stdout.contains("key_missing"), "\(verified.stdout)\(unkeyed.stdout)")
    }

    @Test("an approval runs the program the guard ran: another python3 first on the approver's PATH (inherited by an entry, unbound) is refused")
    func approvalRunsTheSameProgram() throws {
        let project = try FailClosedProject.approving("items.create")
        try project.writeUpstreams()
        let guard_ = try project.guardProcess(upstream: ["--upstream", "tiny"])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == "pending_approval")
        _ = guard_.close()
        // A python3 of the approver's own, first on its PATH, that would send the write elsewhere.
        let other = project.dir + "/otherbin"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "#!/bin/sh\nTINY_TENANT=globex exec /usr/bin/env -S PATH=/usr/local/bin:/usr/bin:/bin python3 \"$@\"\n"
            .write(toFile: other + "/python3", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: other + "/python3")
        let approve = [RolloutBinary.path, "approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez",
                       "--reason", "checked the supplier's list"]
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let elsewhere = try Subprocess.run(approve, environment: ["TINY_DB": project.tiny.path, "PATH": other + ":" + path])
        #expect(elsewhere.status == 1 && elsewhere.stdout.contains("runs another program here"), "\(elsewhere.stdout)\(elsewhere.stderr)")
        #expect(try project.tiny.items().isEmpty)
        let same = try Subprocess.run(approve, environment: ["TINY_DB": project.tiny.path])
        #expect(same.status == 0 && same.stdout.contains("executed"), "\(same.stdout)\(same.stderr)")
        #expect(try project.tiny.items().map { $0["tenant_id"] } == ["acme"])
    }

    @Test("a server started from a command line gets exactly the environment its writes are bound to: no ROLLOUT_* variable, no PGPASSWORD, none of the shell's or the terminal session's")
    func commandServerGetsWhatIsBound() throws {
        let project = try FailClosedProject()
        let (server, seen) = try project.recordingServer()
        // The guard reads its tenant from ROLLOUT_TENANT too; a server that scoped itself by it moved with it.
        let guard_ = try project.guardProcess(environment: ["ROLLOUT_TENANT": "acme", "ROLLOUT_SESSION": "s-1", "OLDPWD": "/elsewhere", "SHLVL": "7",
                                                            "PGPASSWORD": "pg-pass", "SERVER_SETTING": "kept", "TERM": "xterm", "SSH_CONNECTION": "10.0.0.9 52000 10.0.0.1 22"],
                                              upstream: ["--", server])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == nil)
        _ = guard_.close()
        let environment = try seen()
        let names = Set(environment.keys)
        #expect(names.isSuperset(of: ["SERVER_SETTING", "TINY_DB", "PATH", "PWD"]), "\(names.sorted())")
        #expect(names.isDisjoint(with: ["ROLLOUT_TENANT", "ROLLOUT_SESSION", "OLDPWD", "PGPASSWORD", "TERM", "SSH_CONNECTION"]), "\(names.sorted())")
        #expect(!names.contains { $0.hasPrefix("ROLLOUT_") }, "\(names.sorted())")
        #expect(environment["SHLVL"] != "7" && environment["SHLVL"] != "8", "\(environment["SHLVL"] ?? "none")")
    }

    /// Root, with `setpriv` and the user `nobody`: what runs the guard as a user who is not root.
    static var canRunAsNobody: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getpwnam("nobody") != nil
    }

    /// A directory the user nobody may write, outside the test's own (which may be root's alone), with the
    /// tiny server's policy, acme at broad, and a copy of the binary (the build folder may be root's too).
    static func nobodyDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-nobody-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TinyServer.policyFolder + "/policy.yaml", toPath: dir + "/policy.yaml")
        try "version: 1\ntenants:\n  acme: {stage: broad}\n".write(toFile: dir + "/tenants.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: RolloutBinary.path, toPath: dir + "/rollout")
        return dir
    }

    static let asNobody = ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    @Test("a server cannot read the secrets withheld from it in its guard's process either (/proc/<guard>/environ, same user)",
          .enabled(if: canRunAsNobody, "needs root, setpriv and the user nobody"))
    func secretsNotInTheGuardsProcess() throws {
        let dir = try Self.nobodyDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            import os
            try:
                open(f"/proc/{os.getppid()}/environ", "rb").read()
                seen = "read"
            except Exception as e:
                seen = type(e).__name__
            open(os.environ["PEEK_OUT"], "w").write(seen)
            """.write(toFile: dir + "/peek.py", atomically: true, encoding: .utf8)
        // Its own folder, not one every user may write to (rollout writes no store in such a folder).
        _ = try Subprocess.run(["chown", "-R", "nobody:nogroup", dir])
        // The guard starts its server at once; with no agent on its input it then stops.
        let run = try Subprocess.run(Self.asNobody + [dir + "/rollout", "guard",
                                      "--dir", dir, "--store", dir + "/guard.sqlite", "--tenant", "acme", "--actor", "agent-1",
                                      "--", "python3", dir + "/peek.py"],
                                     environment: ["ROLLOUT_CHAIN_KEY": "chain-key-for-the-test", "PEEK_OUT": dir + "/seen"])
        let seen = try? String(contentsOfFile: dir + "/seen", encoding: .utf8)
        #expect(seen == "PermissionError", "the server read its guard's environment: \(seen ?? "nothing") (\(run.stdout)\(run.stderr))")
    }

    @Test("a rollout process that starts no server is not readable by its user either: serve, holding the webhook secret",
          .enabled(if: canRunAsNobody, "needs root, setpriv and the user nobody"))
    func serveNotReadable() throws {
        let dir = try Self.nobodyDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "version: 1\napprovers:\n  maria.lopez:\n    token_sha256: \(ApproversFile.sha256("tok-maria"))\n"
            .write(toFile: dir + "/approvers.yaml", atomically: true, encoding: .utf8)
        // serve makes no store: the guards' is made first. Its own folder, not one every user may write to (rollout
        // writes no store in such a folder).
        _ = try AuditStore(path: dir + "/s.sqlite", create: true)
        _ = try Subprocess.run(["chown", "-R", "nobody:nogroup", dir])
        let serve = try Background(Self.asNobody + [dir + "/rollout", "serve", "--dir", dir, "--listen", "127.0.0.1:0", "--store", dir + "/s.sqlite"],
                                   cwd: dir, environment: ["ROLLOUT_WEBHOOK_URL": "http://127.0.0.1:9/hook", "ROLLOUT_WEBHOOK_SECRET": "webhook-secret"])
        defer { serve.stop() }
        #expect(serve.line(containing: "listening on http://", in: serve.stderr) != nil, "\(serve.text(of: serve.stderr))")
        let peek = try Subprocess.run(Self.asNobody + ["/usr/bin/env", "python3", "-c", "open('/proc/\(serve.process.processIdentifier)/environ', 'rb').read(); print('read')"])
        #expect(peek.status != 0 && peek.stderr.contains("PermissionError"), "\(peek.stdout)\(peek.stderr)")
    }

    @Test("an approval or a rollback whose upstream cannot start is audited as not sent and stays open: it runs once the upstream does")
    func upstreamThatCannotStart() throws {
        let project = try FailClosedProject.approving("items.update")
        let server = project.dir + "/tiny_server.py"
        try FileManager.default.copyItem(atPath: TinyServer.script, toPath: server)
        try project.writeUpstreams(script: server, inherit: "[PATH]")
        let guard_ = try project.guardProcess(upstream: ["--upstream", "tiny"])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("old title", key: "k-1"))) == nil)
        #expect(decisionCode(try guard_.call("items.update", ["id": 1, "data": ["title": "new title"], "reason": "the supplier renamed it", "idempotency_key": "k-2"])) == "pending_approval")
        _ = guard_.close()
        let environment = ["TINY_DB": project.tiny.path]
        let approve = [RolloutBinary.path, "approve", "1", "--dir", project.dir, "--store", project.store, "--by", "maria.lopez", "--reason", "checked the supplier's list"]
        let created = try #require(try project.audit().first { $0["decision"] == "executed" }?["seq"]?.intValue)
        let rollback = [RolloutBinary.path, "audit", "rollback", String(created), "--dir", project.dir, "--store", project.store, "--by", "dev.patel",
                        "--reason", "created by a test run, not a real item"]

        try FileManager.default.moveItem(atPath: server, toPath: server + ".off")
        let down = try Subprocess.run(approve, environment: environment)
        #expect(down.status == 1 && down.stdout.contains("did not reach the upstream"), "\(down.stdout)\(down.stderr)")
        let downRollback = try Subprocess.run(rollback, environment: environment)
        #expect(downRollback.status == 1 && downRollback.stdout.contains("did not reach the upstream"), "\(downRollback.stdout)\(downRollback.stderr)")
        #expect(try project.audit().filter { $0["decision"] == "backend_error" }.count == 2, "both attempts are in the log")
        #expect(try project.tiny.items().map { $0["title"] } == ["old title"])

        try FileManager.default.moveItem(atPath: server + ".off", toPath: server)
        let up = try Subprocess.run(approve, environment: environment)
        #expect(up.status == 0 && up.stdout.contains("executed"), "\(up.stdout)\(up.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["new title"])
        // The item was written again since its creation: the rollback now says so, it is not blocked as in doubt.
        let again = try Subprocess.run(rollback, environment: environment)
        #expect(again.status == 1 && again.stdout.contains("changed since"), "\(again.stdout)\(again.stderr)")
    }

    @Test("a later write whose upstream crashed after the call left (backend_error, in doubt) stands in the way of a rollback")
    func crashedLaterWrite() throws {
        let project = try FailClosedProject()
        let first = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path])
        #expect(decisionCode(try first.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == nil)
        #expect(decisionCode(try first.call("items.update", ["id": 1, "data": ["title": "desk"], "reason": "the supplier renamed it", "idempotency_key": "k-2"])) == nil)
        _ = first.close()
        let crashing = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path], environment: ["TINY_MODE": "exit_after_write"])
        // It leaves the title as the first write set it: only the log says the row was written again.
        let crashed = try crashing.call("items.update", ["id": 1, "data": ["title": "desk", "status": "done"], "reason": "closed by the supplier", "idempotency_key": "k-3"])
        _ = crashing.close()
        #expect(decisionCode(crashed) == "backend_error", "\(crashed)")
        #expect(try project.tiny.items().map { $0["status"] } == ["done"], "the write happened before the crash")
        let update = try #require(try project.audit().first { $0["decision"] == "executed" && $0["tool"] == "items.update" }?["seq"]?.intValue)
        let rollback = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(update), "--dir", project.dir, "--store", project.store,
                                           "--by", "dev.patel", "--reason", "the rename was a mistake", "--", "python3", TinyServer.script],
                                          environment: ["TINY_DB": project.tiny.path])
        #expect(rollback.status == 1 && rollback.stdout.contains("changed since: event") && rollback.stdout.contains("It is backend_error, which no rollback undoes"),
                "\(rollback.stdout)\(rollback.stderr)")
        #expect(try project.tiny.items().map { $0["title"] } == ["desk"])
    }

    @Test("a tools/call sent as a notification (no id) is not run and gets no answer, but is recorded as refused")
    func callAsNotification() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        guard_.notify("tools/call", ["name": "items.create", "arguments": FailClosedProject.create("lamp", key: "k-1")])
        // Without a name, or with an empty one: recorded all the same, under a name the log can read back.
        guard_.notify("tools/call", ["arguments": [:]])
        #expect(try guard_.request("ping", [:])["result"] != nil)
        #expect(guard_.nextAnswer(timeout: 0.5) == nil, "no answer to a notification")
        let unnamed = try guard_.call("", [:])
        #expect(unnamed["isError"] == true, "\(unnamed)")
        _ = guard_.close()  // the guard has handled everything once it has ended
        let export = try RolloutBinary.run(["audit", "export", "--store", project.store])
        #expect(export.status == 0, "every event reads back: \(export.stderr)")
        let events = try project.audit()
        #expect(events.count == 3 && events.filter { $0["message"]?.stringValue?.contains("sent as a notification") == true }.count == 2)
        #expect(events.compactMap { $0["tool"]?.stringValue }.sorted() == ["(no name)", "(no name)", "items.create"], "\(events)")
        #expect(try project.tiny.calls() == 0)
    }

    @Test("a call under a near-miss method (its case, a blank, a NUL, or another method with a call's params) is not run, and its refusal is recorded (helper-84)")
    func nearMissMethods() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let params: JSONValue = ["name": "items.create", "arguments": FailClosedProject.create("lamp", key: "k-1")]
        for method in ["Tools/Call", "tools/call ", "tools/call\u{0}", "tools/\u{200B}call", "tools/run"] {
            let answer = try guard_.request(method, params)
            #expect(answer["error"]?["code"] == -32601, "\(method): \(answer)")
        }
        guard_.notify("TOOLS/CALL", params)
        // Other methods stay unrecorded: they name no tool.
        #expect(try guard_.request("resources/list", [:])["error"] != nil)
        #expect(try guard_.request("ping", [:])["result"] != nil)
        _ = guard_.close()
        let events = try project.audit()
        let messages = events.compactMap { $0["message"]?.stringValue }
        #expect(events.count == 6 && events.allSatisfy { $0["decision"] == "invalid_arguments" && $0["tool"] == "items.create" }, "\(messages)")
        #expect(messages.allSatisfy { $0.contains("only tools/call, spelled exactly, runs a tool") }, "\(messages)")
        #expect(messages.contains { $0.contains(#"method "tools/call\u{0000}""#) || $0.contains(#"method "tools/call\u{0}""#) }, "the NUL is shown: \(messages)")
        #expect(try project.tiny.calls() == 0)
    }

    @Test("messages that may be calls but cannot be read as one (a batch, a name that is no string, params as a list, an unpaired surrogate, an inexact number in a notification) are refused and each recorded")
    func unreadableCallsAreRecorded() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let create = FailClosedProject.create("lamp", key: "k-1").canonicalText
        guard_.sendLine(#"[{"jsonrpc":"2.0","id":90,"method":"tools/call","params":{"name":"items.create","arguments":\#(create)}}]"#)
        guard_.sendLine(#"{"jsonrpc":"2.0","id":91,"method":"tools/call","params":{"name":["items.create"],"arguments":\#(create)}}"#)
        guard_.sendLine(#"{"jsonrpc":"2.0","id":92,"method":"tools/call","params":["items.create",\#(create)]}"#)
        guard_.sendLine(#"{"jsonrpc":"2.0","id":93,"method":"tools/call","params":{"name":"items.create","arguments":{"data":{"title":"a\ud800"}}}}"#)
        guard_.sendLine(#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"items.create","arguments":{"data":{"title":"x","n":1e400}}}}"#)
        // A number that cannot be held exactly, in a call whose name is no string, or whose params are a list (review 24, F4).
        guard_.sendLine(#"{"jsonrpc":"2.0","id":94,"method":"tools/call","params":{"name":7,"arguments":{"n":9007199254740993}}}"#)
        guard_.sendLine(#"{"jsonrpc":"2.0","id":95,"method":"tools/call","params":["items.create",{"n":9007199254740993}]}"#)
        for id in [91, 92, 94, 95] { #expect(try guard_.answer(id)["error"] != nil) }
        _ = guard_.close()
        let events = try project.audit()
        #expect(events.count == 7 && events.allSatisfy { $0["decision"] == "invalid_arguments" }, "\(events.map { $0["message"] ?? .null })")
        let messages = events.compactMap { $0["message"]?.stringValue }
        #expect(messages.filter { $0.contains("cannot read as one JSON-RPC request") }.count == 2, "\(messages)")
        #expect(messages.filter { $0.contains("without a tool name") }.count == 4, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("items.create (sent as a notification, no id)") }, "\(messages)")
        #expect(try project.tiny.calls() == 0)
    }

    @Test("a line longer than the guard reads (16 MiB) is refused and recorded, never held whole or forwarded; the next line is read as usual")
    func overlongLine() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let title = String(repeating: "x", count: 17 << 20)
        guard_.sendLine(#"{"jsonrpc":"2.0","id":96,"method":"tools/call","params":{"name":"items.create","arguments":{"data":{"title":"\#(title)"}}}}"#)
        #expect(try guard_.request("ping", [:])["result"] != nil)
        _ = guard_.close()
        let events = try project.audit()
        #expect(events.count == 1 && events.first?["decision"] == "invalid_arguments", "\(events.map { $0["message"] ?? .null })")
        #expect(events.first?["message"]?.stringValue?.contains("over the guard's limit of 16777216 bytes") == true, "\(events.map { $0["message"] ?? .null })")
        #expect(try project.tiny.calls() == 0)
    }

    @Test("a later write still in flight (its intent recorded, no outcome yet) stands in the way of a rollback, as it would land on the restored values",
          arguments: [false, true])
    func inFlightLaterWrite(guardStopped: Bool) throws {
        let project = try FailClosedProject()
        let first = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path])
        #expect(decisionCode(try first.call("items.create", FailClosedProject.create("lamp", key: "k-1"))) == nil)
        #expect(decisionCode(try first.call("items.update", ["id": 1, "data": ["title": "desk"], "reason": "the supplier renamed it", "idempotency_key": "k-2"])) == nil)
        _ = first.close()
        let update = try #require(try project.audit().first { $0["decision"] == "executed" && $0["tool"] == "items.update" }?["seq"]?.intValue)
        // The upstream takes the next write and does not answer: only its intent is in the log.
        let slow = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path, "--call-timeout", "120s"], environment: ["TINY_MODE": "hang"])
        defer { slow.killHard() }
        slow.send("tools/call", ["name": "items.update", "arguments": ["id": 1, "data": ["title": "chair"], "reason": "the supplier renamed it again", "idempotency_key": "k-3"]])
        let deadline = Date().addingTimeInterval(30)
        while try project.decisions().last != "intent", Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try project.decisions().last == "intent")
        if guardStopped { slow.killHard() }
        let rollback = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(update), "--dir", project.dir, "--store", project.store,
                                           "--by", "dev.patel", "--reason", "the rename was a mistake", "--", "python3", TinyServer.script],
                                          environment: ["TINY_DB": project.tiny.path])
        #expect(rollback.status == 1 && rollback.stdout.contains("Item 1 is being written: event \(update + 1) handed a write of it to the upstream"),
                "\(rollback.stdout)\(rollback.stderr)")
        #expect(try project.decisions().last == "rollback_refused")
        #expect(try project.tiny.items().map { $0["title"] } == ["desk"], "nothing was restored")
    }

    @Test("a write whose observed database cannot be read is refused and audited (lookup_failed), never forwarded", arguments: ["items.update", "items.create"])
    func unreadableObserver(tool: String) throws {
        let project = try FailClosedProject()
        let garbage = project.dir + "/garbage.db"
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: garbage))
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + garbage])
        let arguments: JSONValue = tool == "items.create" ? FailClosedProject.create("lamp", key: "k-1")
            : ["id": 1, "data": ["title": "new title"], "reason": "the supplier renamed it", "idempotency_key": "k-1"]
        let answer = try guard_.call(tool, arguments)
        _ = guard_.close()
        #expect(decisionCode(answer) == "lookup_failed", "\(answer)")
        #expect(try project.decisions() == ["lookup_failed"])
        #expect(try project.tiny.calls(tool) == 0)
    }

    @Test("a rollback whose observed database cannot be read before it is refused and audited, and may run once it can")
    func rollbackUnreadableBefore() throws {
        let project = try FailClosedProject()
        try project.writeLooseUpstream()
        let created = try project.observedCreate(upstream: ["--upstream", "loose"])
        let aside = project.dir + "/aside.db"
        try FileManager.default.moveItem(atPath: project.tiny.path, toPath: aside)
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: project.tiny.path))
        let rollback = [RolloutBinary.path, "audit", "rollback", String(created), "--dir", project.dir, "--store", project.store, "--by", "dev.patel",
                        "--reason", "created by a test run, not a real item"]
        let blind = try Subprocess.run(rollback, environment: ["TINY_DB": aside])
        #expect(blind.status == 1 && blind.stdout.contains("cannot be read from the observed database"), "\(blind.stdout)\(blind.stderr)")
        #expect(try project.decisions().last == "rollback_refused")
        try FileManager.default.removeItem(atPath: project.tiny.path)
        try FileManager.default.moveItem(atPath: aside, toPath: project.tiny.path)
        let seeing = try Subprocess.run(rollback, environment: ["TINY_DB": project.tiny.path])
        #expect(seeing.status == 0, "\(seeing.stdout)\(seeing.stderr)")
    }

    @Test("a write the upstream answered, whose observed database cannot be read after it, is in doubt (not executed on its word); its key never runs again")
    func writeUnverifiable() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path], environment: ["TINY_MODE": "vanish"])
        let answer = try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))
        #expect(decisionCode(answer) == "in_doubt", "\(answer)")
        // The database back where it was, the retry replays the doubt; nothing is forwarded again.
        try FileManager.default.moveItem(atPath: project.tiny.path + ".gone", toPath: project.tiny.path)
        let retry = try guard_.call("items.create", FailClosedProject.create("lamp", key: "k-1"))
        _ = guard_.close()
        #expect(decisionCode(retry) == "in_doubt", "\(retry)")
        let decisions = try project.decisions()
        #expect(decisions == ["intent", "in_doubt", "in_doubt"], "\(decisions)")
        #expect(try project.tiny.calls("items.create") == 1, "the retry was not forwarded")
    }

    @Test("a rollback whose upstream answered but whose observed database cannot be read after it is in doubt, and never runs again")
    func rollbackUnverifiable() throws {
        let project = try FailClosedProject()
        try project.writeLooseUpstream()
        let created = try project.observedCreate(upstream: ["--upstream", "loose"])
        let rollback = [RolloutBinary.path, "audit", "rollback", String(created), "--dir", project.dir, "--store", project.store, "--by", "dev.patel",
                        "--reason", "created by a test run, not a real item", "--observe", "sqlite:" + project.tiny.path]
        let vanished = try Subprocess.run(rollback, environment: ["TINY_DB": project.tiny.path, "TINY_MODE": "vanish"])
        #expect(vanished.status == 1 && vanished.stdout.hasPrefix("in_doubt") && vanished.stdout.contains("cannot be read after it"),
                "\(vanished.stdout)\(vanished.stderr)")
        try FileManager.default.moveItem(atPath: project.tiny.path + ".gone", toPath: project.tiny.path)
        let again = try Subprocess.run(rollback, environment: ["TINY_DB": project.tiny.path])
        #expect(again.status == 1 && again.stdout.contains("already has a rollback"), "\(again.stdout)\(again.stderr)")
    }

    @Test("rolling back a proxied write runs its inverse tool on the upstream; without an inverse, or without a way to read the rows, it is refused with the reason")
    func rollbackReachesUpstream() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("first", key: "k-1"))) == nil)
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("second", key: "k-2"))) == nil)
        #expect(decisionCode(try guard_.call("items.delete", ["id": 2, "reason": "created twice by mistake", "idempotency_key": "k-3"])) == nil)
        _ = guard_.close()
        let events = try project.audit()
        let created = try #require(events.first { $0["decision"] == "executed" && $0["tool"] == "items.create" }?["seq"]?.intValue)
        let deleted = try #require(events.last { $0["decision"] == "executed" && $0["tool"] == "items.delete" }?["seq"]?.intValue)
        #expect(try project.tiny.items().map { $0["title"] } == ["first"])

        let base = ["--dir", project.dir, "--store", project.store, "--by", "dev.patel", "--reason", "created by a test run, not a real item"]
        let environment = ["TINY_DB": project.tiny.path]
        let noInverse = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(deleted)] + base + ["--", "python3", TinyServer.script],
                                           environment: environment)
        #expect(noInverse.status == 1 && noInverse.stdout.contains("names no inverse"), "\(noInverse.stdout)\(noInverse.stderr)")
        // Told to observe a copy, the rollback is refused; left alone, it observes the database its write
        // recorded (the guard was given --observe on its command line).
        let copy = TestPaths.temporaryDirectory("copy").path + "/tiny.db"
        try FileManager.default.copyItem(atPath: project.tiny.path, toPath: copy)
        let elsewhere = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(created), "--observe", "sqlite:" + copy] + base
                                           + ["--", "python3", TinyServer.script], environment: environment)
        #expect(elsewhere.status == 1 && elsewhere.stdout.contains("this guard observes another database"), "\(elsewhere.stdout)\(elsewhere.stderr)")
        let undone = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(created)] + base + ["--", "python3", TinyServer.script],
                                        environment: environment)
        #expect(undone.status == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try project.tiny.items().isEmpty && project.tiny.calls("items.delete") == 2, "the inverse reached the upstream")
        #expect(try project.decisions().suffix(4) == ["rollback_refused", "rollback_refused", "intent", "rolled_back"])
    }

    @Test("""
        a rollback from a shell whose variable points the server elsewhere: refused before the upstream when the server was started \
        from a command line (its whole environment is bound); under an entry that binds nothing, upstream_mismatch, not rolled back
        """, arguments: [false, true])
    func rollbackCheckedAgainstTheRows(loose: Bool) throws {
        let project = try FailClosedProject()
        if loose { try project.writeLooseUpstream() }
        let command = ["--", "python3", TinyServer.script]
        let created = try project.observedCreate(upstream: loose ? ["--upstream", "loose"] : command)
        // The same rows in another file, which the server is pointed at by a variable no entry lists.
        let elsewhere = TinyDatabase(TestPaths.temporaryDirectory("elsewhere").path)
        try FileManager.default.copyItem(atPath: project.tiny.path, toPath: elsewhere.path)
        let rollback = try Subprocess.run([RolloutBinary.path, "audit", "rollback", String(created), "--observe", "sqlite:" + project.tiny.path,
                                           "--dir", project.dir, "--store", project.store, "--by", "dev.patel",
                                           "--reason", "created by a test run, not a real item"] + (loose ? [] : command),
                                          environment: ["TINY_DB": elsewhere.path])
        #expect(try project.tiny.items().map { $0["title"] } == ["first"] && elsewhere.items().count == 1 - (loose ? 1 : 0))
        if loose {
            #expect(rollback.status == 1 && rollback.stdout.contains("upstream_mismatch") && rollback.stdout.contains("Item 1 still exists"),
                    "\(rollback.stdout)\(rollback.stderr)")
            #expect(try project.decisions().suffix(2) == ["intent", "upstream_mismatch"])
        } else {
            #expect(rollback.status == 1 && rollback.stdout.contains("whole environment, and this one differs (another value here: TINY_DB)"),
                    "\(rollback.stdout)\(rollback.stderr)")
            #expect(try project.decisions().suffix(2) == ["executed", "rollback_refused"])
            #expect(try elsewhere.calls("items.delete") == 0 && project.tiny.calls("items.delete") == 0)
        }
    }

    @Test("a rollback whose outcome is in doubt is claimed: a second rollback of the same write is refused before it reaches the upstream")
    func rollbackInDoubtRunsOnce() throws {
        let project = try FailClosedProject()
        try project.writeLooseUpstream()
        let created = try project.observedCreate(upstream: ["--upstream", "loose"])
        let base = ["audit", "rollback", String(created), "--observe", "sqlite:" + project.tiny.path, "--dir", project.dir, "--store", project.store,
                    "--by", "dev.patel", "--reason", "created by a test run, not a real item"]
        // The inverse runs, and the upstream answers null: the rollback may or may not have happened.
        let doubtful = try Subprocess.run([RolloutBinary.path] + base, environment: ["TINY_DB": project.tiny.path, "TINY_MODE": "null_result"])
        #expect(doubtful.stdout.contains("in_doubt") || doubtful.stderr.contains("in_doubt"), "\(doubtful.stdout)\(doubtful.stderr)")
        let again = try Subprocess.run([RolloutBinary.path] + base, environment: ["TINY_DB": project.tiny.path])
        #expect(again.status == 1 && again.stdout.contains("already has a rollback"), "\(again.stdout)\(again.stderr)")
        #expect(try project.tiny.calls("items.delete") == 1, "the inverse reached the upstream once")
        #expect(try project.decisions().suffix(3) == ["intent", "in_doubt", "rollback_refused"])
    }

    @Test("an upstream that writes and then hangs: the call is in_doubt, and a retry with its key is answered in_doubt, never forwarded again")
    func hangAfterWrite() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess(extra: ["--call-timeout", "2s"], environment: ["TINY_MODE": "hang_after_write"])
        let first = try guard_.call("items.create", FailClosedProject.create("hello", key: "k-1"), timeout: 20)
        #expect(first["isError"] == true && decisionCode(first) == "in_doubt", "\(first)")
        let retry = try guard_.call("items.create", FailClosedProject.create("hello", key: "k-1"), timeout: 20)
        #expect(decisionCode(retry) == "in_doubt", "\(retry)")
        _ = guard_.close()
        #expect(try project.tiny.items().count == 1 && project.tiny.calls("items.create") == 1, "one upstream write")
        #expect(try project.decisions() == ["intent", "in_doubt", "in_doubt"])
    }

    @Test("two guards on one store: while one upstream hangs, the other guard's writes are decided and audited")
    func noLockDuringForward() throws {
        let project = try FailClosedProject()
        let hung = try project.guardProcess(extra: ["--call-timeout", "600s"], environment: ["TINY_MODE": "hang"])
        defer { hung.kill() }
        let pending = hung.send("tools/call", ["name": "items.create", "arguments": FailClosedProject.create("stuck", key: "k-1")])
        Thread.sleep(forTimeInterval: 1)
        let other = FailClosedProject.self
        let second = try project.guardProcess(environment: ["TINY_DB": project.dir + "/second.sqlite"])
        let started = Date()
        for i in 1...3 {
            let result = try second.call("items.create", other.create("item \(i)", key: "second-\(i)"), timeout: 10)
            #expect(decisionCode(result) == nil, "\(result)")
        }
        // Waiting for the hung call's lock would take its 600 s timeout; a minute leaves room for a busy machine.
        #expect(Date().timeIntervalSince(started) < 60, "the writes did not wait for the hung call's lock")
        _ = second.close()
        #expect(try project.decisions().filter { $0 == "executed" }.count == 3)
        #expect(try project.decisions().first == "intent", "the hung call's intent is recorded")
        #expect(throws: GuardSessionError.self) { try hung.answer(pending, timeout: 0.5) }
    }

    @Test("an upstream that crashes mid-call: that call is backend_error and audited, the guard lives, the next call reaches a restarted upstream")
    func crashMidCall() throws {
        let project = try FailClosedProject()
        let marker = project.dir + "/exited-once"
        let guard_ = try project.guardProcess(environment: ["TINY_MODE": "exit_once", "TINY_MARKER": marker])
        let crashed = try guard_.call("items.create", FailClosedProject.create("first", key: "k-1"))
        #expect(crashed["isError"] == true && decisionCode(crashed) == "backend_error", "\(crashed)")
        let next = try guard_.call("items.create", FailClosedProject.create("second", key: "k-2"))
        #expect(decisionCode(next) == nil && next["isError"] == false, "\(next)")
        #expect(guard_.process.isRunning)
        _ = guard_.close()
        #expect(try project.tiny.items().map { $0["title"] } == ["second"])
        #expect(try project.decisions() == ["intent", "backend_error", "intent", "executed"])
    }

    @Test("string values reach the upstream exactly as the agent sent them")
    func stringsPassUnchanged() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let titles = ["data:text/plain,hello", "data:application/octet-stream;base64,AAAA", "\u{1F600} e\u{301}", "line\nbreak \"quoted\" \\ tab\t"]
        for (i, title) in titles.enumerated() {
            #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create(title, key: "s-\(i)"))) == nil)
        }
        // A number the guard cannot hold exactly is refused, not rounded: what it decides on is what it forwards.
        let rounded = try guard_.call("items.update", ["id": 9007199254740993, "data": ["title": "x"], "reason": "rename the big item", "idempotency_key": "s-9"])
        #expect(decisionCode(rounded) == "invalid_arguments", "\(rounded)")
        _ = guard_.close()
        #expect(try project.tiny.items().map { $0["title"] ?? "" } == titles)
    }

    @Test("an upstream that changes another row than asked: the outcome is upstream_mismatch, flagged in the log and to the agent")
    func upstreamMismatch() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path], environment: ["TINY_MODE": "wrong_row"])
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("first", key: "k-1"))) == nil)
        #expect(decisionCode(try guard_.call("items.create", FailClosedProject.create("second", key: "k-2"))) == nil)
        let update = try guard_.call("items.update", ["id": 1, "data": ["title": "renamed"], "reason": "the supplier renamed it", "idempotency_key": "k-3"])
        #expect(update["isError"] == true && decisionCode(update) == "upstream_mismatch", "\(update)")
        _ = guard_.close()
        let event = try #require(try project.audit().last)
        #expect(event["decision"] == "upstream_mismatch")
        let mismatch = event["details"]?["mismatch"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(mismatch.contains { $0.contains("Item 2 changed, and the write did not name it") }, "\(mismatch)")
        #expect(mismatch.contains { $0.contains("Item 1: title is \"first\"") }, "\(mismatch)")
    }

    @Test("an upstream that writes and then answers in words of refusal: with its database observed, the write is recorded with its values as upstream_mismatch, not as refused, and its key is not run again")
    func refusedInWordsWrittenInFact() throws {
        let project = try FailClosedProject()
        let first = try project.guardProcess()
        #expect(decisionCode(try first.call("items.create", FailClosedProject.create("first", key: "k-1"))) == nil)
        _ = first.close()
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path], environment: ["TINY_MODE": "refuse_after_write"])
        let args: JSONValue = ["id": 1, "data": ["title": "renamed"], "reason": "the supplier renamed it", "idempotency_key": "k-2"]
        let update = try guard_.call("items.update", args)
        let retry = try guard_.call("items.update", args)
        _ = guard_.close()
        #expect(try project.tiny.items().map { $0["title"] } == ["renamed"], "the upstream did write")
        #expect(try project.tiny.calls("items.update") == 1, "the retry with the key was not forwarded")
        #expect(update["isError"] == true && decisionCode(update) == "upstream_mismatch", "\(update)")
        let event = try #require(try project.audit().last { $0["decision"] == "upstream_mismatch" })
        #expect(event["fields_changed"]?["title"] == ["before": "first", "after": "renamed"], "\(event)")
        let said = event["details"]?["mismatch"]?[0]?.stringValue ?? ""
        #expect(said.contains("answered that it refused") && said.contains("observed database changed"), "\(said)")
        let text = retry["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(retry["isError"] == true && text.contains("replayed the answer of audit event \(event["seq"]?.intValue ?? -1)"), "\(retry)")
    }

    @Test("a write answered as refused while only another tenant's row changed is in doubt, not refused: which writer changed it cannot be told")
    func refusedWhileAnotherTenantsRowChanged() throws {
        let project = try FailClosedProject()
        let first = try project.guardProcess()
        #expect(decisionCode(try first.call("items.create", FailClosedProject.create("first", key: "k-1"))) == nil)
        _ = first.close()
        try project.tiny.insertItem(tenant: "globex", title: "their plans")
        let guard_ = try project.guardProcess(extra: ["--observe", "sqlite:" + project.tiny.path], environment: ["TINY_MODE": "refuse_wrong_row"])
        let args: JSONValue = ["id": 1, "data": ["title": "renamed"], "reason": "the supplier renamed it", "idempotency_key": "k-2"]
        let update = try guard_.call("items.update", args)
        let retry = try guard_.call("items.update", args)
        _ = guard_.close()
        #expect(try project.tiny.items().map { $0["title"] } == ["first", "renamed"], "the upstream wrote globex's row, not the one asked")
        #expect(try project.tiny.calls("items.update") == 1, "the retry with the key was not forwarded")
        #expect(update["isError"] == true && decisionCode(update) == "in_doubt", "\(update)")
        let event = try #require(try project.audit().first { $0["decision"] == "in_doubt" })
        #expect(event["details"]?["rows_changed_elsewhere"] == 1 && event["details"]?["upstream_code"] != nil, "\(event)")
        let recorded = event.canonicalText + update.canonicalText
        #expect(!recorded.contains("their plans") && !recorded.contains("globex"), "neither the row nor its tenant is shown: \(recorded)")
        #expect(retry["isError"] == true && decisionCode(retry) == "in_doubt", "\(retry)")
    }

    @Test("an agent's words beyond ASCII about approval, echoed by a server that escapes them (json.dumps): the write is executed, not read as queued")
    func escapedEchoIsTheAgents() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess(environment: ["TINY_MODE": "echo"])
        let created = try guard_.call("items.create", FailClosedProject.create("café pending approval", key: "k-1"))
        _ = guard_.close()
        #expect(created["isError"] == false && decisionCode(created) == nil, "\(created)")
        #expect(try project.decisions() == ["intent", "executed"])
    }

    @Test("a store that fills up after a write was forwarded: the answer says it was forwarded, and the guard takes no more writes",
          .enabled(if: SmallDisk.available, SmallDisk.skipMessage))
    func diskFullAfterForward() throws {
        let project = try FailClosedProject()
        let (guard_, store, remove) = try project.guardOnFillingDisk()
        defer { remove() }
        let first = try guard_.call("items.create", FailClosedProject.create("first", key: "k-1"))
        let text = first["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(first["isError"] == true && text.contains("WAS forwarded") && text.contains("no more writes"), "\(text)")
        #expect(!text.contains("nothing was forwarded"))
        let second = try guard_.call("items.create", FailClosedProject.create("second", key: "k-2"))
        #expect(second["isError"] == true && second["content"]?[0]?["text"]?.stringValue?.contains("takes no more writes") == true, "\(second)")
        #expect(try project.tiny.calls("items.create") == 1, "nothing more was forwarded")
        guard_.kill()
        try? FileManager.default.removeItem(atPath: (store as NSString).deletingLastPathComponent + "/filler")
        #expect(try project.decisions(store: store) == ["intent"], "the intent is in the chain; the outcome could not be")
    }
}

/// A small tmpfs, so that a test can fill a disk for real (needs root and mount; skipped without).
struct SmallDisk {
    let path: String

    static var available: Bool {
        guard getuid() == 0 else { return false }
        guard let disk = try? SmallDisk(megabytes: 1) else { return false }
        disk.remove()
        return true
    }

    static let skipMessage: Comment = "mounting a tmpfs needs root and mount(8)"

    init(megabytes: Int) throws {
        path = TestPaths.temporaryDirectory("small-disk").path
        let result = try Subprocess.run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard result.status == 0 else { throw GuardSessionError(message: "mount failed: \(result.stderr)") }
    }

    func remove() {
        _ = try? Subprocess.run(["umount", "-l", path])
    }
}
