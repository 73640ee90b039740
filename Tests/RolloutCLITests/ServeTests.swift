import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// A background process whose output lines are collected as they come, so a test can wait for one
/// (with a deadline that holds even when the process prints nothing).
final class Background: @unchecked Sendable {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    private let lock = NSLock()
    private var collected: [ObjectIdentifier: String] = [:]

    init(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = stdout
        process.standardError = stderr
        for pipe in [stdout, stderr] {
            let key = ObjectIdentifier(pipe)
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self else { return }
                if data.isEmpty { handle.readabilityHandler = nil; return }
                self.lock.withLock { self.collected[key, default: ""] += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
    }

    /// Everything `pipe` has printed so far.
    func text(of pipe: Pipe) -> String { lock.withLock { collected[ObjectIdentifier(pipe)] ?? "" } }

    /// The first complete line of `pipe` that contains `marker`, within `timeout` seconds.
    func line(containing marker: String, in pipe: Pipe, timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = text(of: pipe)
            if let end = text.lastIndex(of: "\n"),
               let line = text[..<end].split(separator: "\n").first(where: { marker.isEmpty || $0.contains(marker) }) {
                return String(line)
            }
            usleep(20_000)
        }
        return nil
    }

    func stop() {
        for pipe in [stdout, stderr] { pipe.fileHandleForReading.readabilityHandler = nil }
        // SIGKILL: a test's fixture needs no grace, and a child may have inherited a blocked SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// One HTTP exchange through curl (no redirect followed, cookies in a jar).
struct HTTPExchange {
    var status: Int
    var headers: [String: String]
    var body: String

    static func run(_ url: String, method: String = "GET", form: [String: String]? = nil, raw: String? = nil, headers: [String: String] = [:],
                    jar: String? = nil) throws -> HTTPExchange {
        var args = ["curl", "-s", "-i", "-X", method, "--max-time", "20"]
        if let jar { args += ["-b", jar, "-c", jar] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let form { for (k, v) in form.sorted(by: { $0.key < $1.key }) { args += ["--data-urlencode", "\(k)=\(v)"] } }
        if let raw { args += ["--data-binary", raw] }
        args.append(url)
        let result = try Subprocess.run(args)
        let text = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        var lines = head.split(separator: "\n").map(String.init)
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        lines.removeFirst(min(1, lines.count))
        var fields: [String: String] = [:]
        for line in lines { if let colon = line.firstIndex(of: ":") { fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) } }
        return HTTPExchange(status: status, headers: fields, body: parts.dropFirst().joined(separator: "\n\n"))
    }
}

/// `rollout serve` end to end: sign-in, the approvals page and its decisions through the guard, the
/// dashboard, the headers on every response, Slack's signed buttons, and the notifications.
@Suite("rollout serve, end to end", .enabled(if: Subprocess.available("curl") && TinyServer.available, "needs curl and python3"), .serialized)
struct ServeTests {
    static let token = "tok-maria-0123456789"
    static let slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

    /// A demo project with two refunds waiting for a person, approvers.yaml, a capture server for
    /// Slack, and serve running.
    struct Project {
        let dir: String
        let store: String
        let serve: Background
        let capture: Background
        let captured: String
        let base: String
        let jar: String

        init(slackSecret: String? = ServeTests.slackSecret) throws {
            dir = TestPaths.temporaryDirectory("serve").path
            try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: dir + "/rollout")
            store = dir + "/.rollout/demo.sqlite"
            try """
                version: 1
                approvers:
                  maria.lopez:
                    token_sha256: \(ApproversFile.sha256(ServeTests.token))
                    slack_user: U0MARIA
                  dev.patel:
                    token_sha256: \(ApproversFile.sha256("tok-dev"))
                """.write(toFile: dir + "/rollout/approvers.yaml", atomically: true, encoding: .utf8)
            for i in 1...3 {
                let call = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--store", store, "--args",
                                                  #"{"order_id": \#(i), "amount_cents": 60000, "reason_code": "damaged", "reason": "parcel lost by the carrier, ticket \#(i)", "request_id": "big-\#(i)"}"#],
                                                 cwd: dir)
                guard call.status == 0 else { throw ReportProjectError(message: call.stderr) }
            }
            captured = dir + "/captured.jsonl"
            capture = try Background(["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/http/capture_server.py").path, captured])
            guard let port = capture.line(containing: "", in: capture.stdout) else { throw ReportProjectError(message: "no capture server") }
            var environment = ["ROLLOUT_SLACK_WEBHOOK_URL": "http://127.0.0.1:\(port)/slack-webhook"]
            if let slackSecret { environment["ROLLOUT_SLACK_SIGNING_SECRET"] = slackSecret }
            serve = try Background([RolloutBinary.path, "serve", "--listen", "127.0.0.1:0", "--store", store], cwd: dir, environment: environment)
            guard let line = serve.line(containing: "listening on http://", in: serve.stderr), let url = line.split(separator: " ").last else {
                throw ReportProjectError(message: "serve did not start: \(serve.text(of: serve.stderr))")
            }
            base = String(url)
            jar = dir + "/cookies.txt"
        }

        func get(_ path: String) throws -> HTTPExchange { try HTTPExchange.run(base + path, jar: jar) }
        func post(_ path: String, _ form: [String: String]) throws -> HTTPExchange { try HTTPExchange.run(base + path, method: "POST", form: form, jar: jar) }
        func signIn(_ token: String = ServeTests.token) throws -> HTTPExchange { try post("/login", ["token": token]) }
        func csrf() throws -> String {
            let page = try get("/approvals").body
            guard let range = page.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression) else { return "" }
            return String(page[range].split(separator: "\"")[3])
        }
        func approvals() throws -> [JSONValue] {
            let list = try RolloutBinary.run(["approvals", "--all", "--store", store, "--format", "json"], cwd: dir)
            return (try? JSONValue.parse(list.stdout))?.arrayValue ?? []
        }
        func status(_ id: Int) throws -> String? { try approvals().first { $0["id"]?.intValue == id }?["status"]?.stringValue }
        func audit() throws -> [JSONValue] {
            try RolloutBinary.run(["audit", "export", "--store", store], cwd: dir).stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        }

        /// An interaction payload built as Slack sends it: form-encoded `payload=` JSON.
        func slackBody(user: String, action: String, id: Int, note: String) -> String {
            let payload: JSONValue = [
                "type": "block_actions", "user": ["id": .string(user), "username": "someone", "team_id": "T1"],
                "actions": [["type": "button", "action_id": .string(action), "block_id": "decision", "value": .string(String(id))]],
                "state": ["values": ["note": ["note": ["type": "plain_text_input", "value": .string(note)]]]],
                "response_url": .string(base + "/slack-response-would-go-here"), "trigger_id": "1.2.3",
            ]
            return "payload=" + (payload.canonicalText.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }

        func slack(_ body: String, secret: String = ServeTests.slackSecret, timestamp: Date = Date()) throws -> HTTPExchange {
            let ts = String(Int(timestamp.timeIntervalSince1970))
            let signature = Self.slackSignature(body: body, timestamp: ts, secret: secret)
            return try HTTPExchange.run(base + "/slack/interactions", method: "POST", raw: body,
                                        headers: ["X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
                                                  "Content-Type": "application/x-www-form-urlencoded"])
        }

        /// The signature computed independently, by Python's hmac (as Slack's own samples do).
        static func slackSignature(body: String, timestamp: String, secret: String) -> String {
            let program = "import hmac,hashlib,sys; print('v0=' + hmac.new(sys.argv[1].encode(), ('v0:' + sys.argv[2] + ':').encode() + sys.stdin.buffer.read(), hashlib.sha256).hexdigest())"
            let result = try? Subprocess.run(["python3", "-c", program, secret, timestamp], stdin: body)
            return (result?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test("signed out, every page sends to sign-in; every response carries the Content-Security-Policy; a wrong token is refused")
    func signIn() throws {
        let p = try Project()
        for path in ["/", "/approvals", "/events/1"] {
            let page = try p.get(path)
            #expect(page.status == 303 && page.headers["location"] == "/login", "\(path): \(page.status)")
            #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true && page.headers["content-security-policy"]?.contains("unsafe") == false)
        }
        #expect(try p.get("/no-such-page").headers["content-security-policy"] != nil, "errors too")
        let refused = try p.signIn("wrong")
        #expect(refused.status == 303 && refused.headers["location"] == "/login?failed=1" && refused.headers["set-cookie"] == nil)
        #expect(try p.get("/").status == 303, "still signed out")
        let ok = try p.signIn()
        #expect(ok.status == 303 && ok.headers["set-cookie"]?.contains("HttpOnly") == true && ok.headers["set-cookie"]?.contains("SameSite=Strict") == true)
        let page = try p.get("/approvals")
        #expect(page.status == 200 && page.body.contains("maria.lopez") && page.body.contains("parcel lost by the carrier, ticket 2"))
        #expect(!page.body.contains("<script>") && !page.body.contains("style=\""), "no inline script or style")
    }

    @Test("approve with a note runs the write once on its backend; deny with a note runs nothing; without CSRF or a note nothing is decided")
    func decide() throws {
        let p = try Project()
        _ = try p.signIn()
        let csrf = try p.csrf()
        #expect(!csrf.isEmpty)
        #expect(try p.post("/approvals/1/decide", ["decision": "approve", "note": "checked", "csrf": "forged"]).status == 403)
        _ = try p.post("/approvals/1/decide", ["decision": "approve", "note": "   ", "csrf": csrf])
        #expect(try p.status(1) == "pending", "no note, no decision")
        let approved = try p.post("/approvals/1/decide", ["decision": "approve", "note": "refund checked against ticket 1", "csrf": csrf])
        #expect(approved.status == 303 && approved.headers["location"]?.contains("executed") == true, "\(approved.headers)")
        let denied = try p.post("/approvals/2/decide", ["decision": "deny", "note": "amount does not match", "csrf": csrf])
        #expect(denied.headers["location"]?.contains("approval_denied") == true)
        let again = try p.post("/approvals/1/decide", ["decision": "approve", "note": "twice", "csrf": csrf])
        let refusal = again.headers["location"]?.removingPercentEncoding ?? ""
        #expect(refusal.contains("approval_refused") && refusal.contains("already executed"), "an approval runs once, and the second try is refused and audited: \(refusal)")
        let events = try p.audit()
        let executed = events.filter { $0["tool"] == "refunds.issue" && $0["decision"] == "executed" }
        #expect(executed.count == 1 && executed[0]["approver"] == "maria.lopez" && executed[0]["message"]?.stringValue?.contains("approved by maria.lopez") == true)
        #expect(events.contains { $0["decision"] == "approval_denied" && $0["reason"] == "amount does not match" })
        // The dashboard shows both decisions, searchable.
        let dashboard = try p.get("/?range=day&q=ticket+1")
        #expect(dashboard.status == 200 && dashboard.body.contains("refunds.issue") && dashboard.body.contains("<svg"))
        // A chosen range: today holds the writes, a day last year none.
        let today = Timestamp.day(Date())
        #expect(try p.get("/?from=\(today)&to=\(today)&q=ticket+1").body.contains("parcel lost by the carrier, ticket 1"))
        #expect(try p.get("/?from=2025-01-01&to=2025-01-02").body.contains("No write matches."))
    }

    @Test("Slack: a signed press decides as the mapped approver; a wrong secret, a stale timestamp, a replay or an unknown user decides nothing")
    func slack() throws {
        let p = try Project()
        let wrong = try p.slack(p.slackBody(user: "U0MARIA", action: "approve", id: 1, note: "ok"), secret: "not the secret")
        #expect(wrong.status == 401)
        let stale = try p.slack(p.slackBody(user: "U0MARIA", action: "approve", id: 1, note: "ok"), timestamp: Date().addingTimeInterval(-600))
        #expect(stale.status == 401)
        let stranger = try p.slack(p.slackBody(user: "U0NOBODY", action: "approve", id: 1, note: "ok"))
        #expect(stranger.status == 403)
        #expect(try p.status(1) == "pending", "nothing decided")
        let body = p.slackBody(user: "U0MARIA", action: "deny", id: 1, note: "not in this quarter")
        let ts = String(Int(Date().timeIntervalSince1970))
        let signature = Project.slackSignature(body: body, timestamp: ts, secret: ServeTests.slackSecret)
        let headers = ["X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"]
        let pressed = try HTTPExchange.run(p.base + "/slack/interactions", method: "POST", raw: body, headers: headers)
        #expect(pressed.status == 200)
        let replayed = try HTTPExchange.run(p.base + "/slack/interactions", method: "POST", raw: body, headers: headers)
        #expect(replayed.status == 401, "each payload is used once")
        var decided: String?
        for _ in 0..<50 where decided == nil || decided == "pending" { decided = try p.status(1); usleep(100_000) }
        #expect(decided == "denied")
        #expect(try p.audit().contains { $0["decision"] == "approval_denied" && $0["approver"] == "maria.lopez" && $0["reason"] == "not in this quarter" })
    }

    @Test("without a signing secret every Slack request is refused")
    func slackUnconfigured() throws {
        let p = try Project(slackSecret: nil)
        let press = try p.slack(p.slackBody(user: "U0MARIA", action: "approve", id: 1, note: "ok"))
        #expect(press.status == 403)
        #expect(try p.status(1) == "pending")
    }

    @Test("each queued write is announced to Slack once, as Block Kit with Approve, Deny and a note")
    func notifications() throws {
        let p = try Project()
        var lines: [JSONValue] = []
        for _ in 0..<60 where lines.count < 3 {
            usleep(200_000)
            lines = ((try? String(contentsOfFile: p.captured, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        }
        #expect(lines.count == 3, "\(lines.count) messages")
        let message = try JSONValue.parse(lines[0]["body"]?.stringValue ?? "")
        let actions = message["blocks"]?.arrayValue?.first { $0["type"] == "actions" }?["elements"]?.arrayValue ?? []
        #expect(actions.compactMap { $0["action_id"]?.stringValue } == ["approve", "deny"])
        #expect(message["blocks"]?.arrayValue?.contains { $0["block_id"] == "note" } == true)
        usleep(2_500_000)
        let after = ((try? String(contentsOfFile: p.captured, encoding: .utf8)) ?? "").split(separator: "\n").count
        #expect(after == 3, "announced once each")
    }
}
