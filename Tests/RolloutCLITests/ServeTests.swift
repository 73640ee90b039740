import Foundation
import RolloutCore
import RolloutServe
import RolloutTestSupport
import Testing

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
        let capturePort: String

        init(slackSecret: String? = ServeTests.slackSecret, serveArguments: [String] = [], serveEnvironment: [String: String] = [:]) throws {
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
            capturePort = port
            var environment = ["ROLLOUT_SLACK_WEBHOOK_URL": "http://127.0.0.1:\(port)/slack-webhook"]
            if let slackSecret { environment["ROLLOUT_SLACK_SIGNING_SECRET"] = slackSecret }
            environment.merge(serveEnvironment) { _, given in given }
            serve = try Background([RolloutBinary.path, "serve", "--listen", "127.0.0.1:0", "--store", store] + serveArguments, cwd: dir, environment: environment)
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
                "response_url": .string("http://127.0.0.1:\(capturePort)/slack-response"), "trigger_id": "1.2.3",
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

    @Test("serve speaks plain HTTP: beyond loopback only with --behind-https-proxy, and then only requests its proxy marks https are answered")
    func behindHTTPSProxy() throws {
        let p = try Project(serveArguments: ["--behind-https-proxy"])
        let plain = try RolloutBinary.run(["serve", "--listen", "0.0.0.0:8080", "--check", "--store", p.store], cwd: p.dir)
        #expect(plain.status == 2 && plain.stderr.contains("--behind-https-proxy"), "\(plain.stdout)\(plain.stderr)")
        let proxied = try RolloutBinary.run(["serve", "--listen", "0.0.0.0:8080", "--check", "--behind-https-proxy", "--store", p.store], cwd: p.dir)
        #expect(proxied.status == 0, "\(proxied.stderr)")

        #expect(try p.get("/login").status == 403, "sent to serve directly, not through the proxy")
        #expect(try HTTPExchange.run(p.base + "/login", headers: ["X-Forwarded-Proto": "http"]).status == 403)
        #expect(try HTTPExchange.run(p.base + "/login", headers: ["X-Forwarded-Proto": "https"]).status == 200)
        #expect(try p.get("/healthz").status == 200, "a load balancer's health check needs no proxy")
        let signIn = try HTTPExchange.run(p.base + "/login", method: "POST", form: ["token": ServeTests.token], headers: ["X-Forwarded-Proto": "https"])
        #expect(signIn.status == 303 && signIn.headers["set-cookie"]?.contains("Secure") == true, "\(signIn.headers)")
    }

    @Test("serve makes no store: at a path where none is, it refuses to start rather than show an empty queue while the guards' waits elsewhere")
    func needsTheGuardsStore() throws {
        let dir = TestPaths.temporaryDirectory("serve-nostore").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: dir + "/rollout")
        try "version: 1\napprovers:\n  maria.lopez:\n    token_sha256: \(ApproversFile.sha256(ServeTests.token))\n"
            .write(toFile: dir + "/rollout/approvers.yaml", atomically: true, encoding: .utf8)
        let elsewhere = dir + "/not-the-guards.sqlite"
        for arguments in [["--check"], ["--listen", "127.0.0.1:0"]] {
            // Bounded: a serve that made its store would go on serving.
            let run = try Subprocess.run(["timeout", "20", RolloutBinary.path, "serve", "--store", elsewhere] + arguments, cwd: dir)
            #expect(run.status == 2 && run.stderr.contains("no store at \(elsewhere)"), "\(arguments): \(run.status) \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: elsewhere), "serve \(arguments) made a store")
        }
    }

    @Test("a decision by webhook is signed with a secret of its own: the notifications' secret, which every receiver holds, decides nothing")
    func webhookDecisions() throws {
        func decide(_ p: Project, id: Int, secret: String) throws -> HTTPExchange {
            let body = #"{"approval_id": \#(id), "decision": "approve", "approver": "dev.patel", "note": "checked the ticket"}"#
            let timestamp = String(Int(Date().timeIntervalSince1970))
            return try HTTPExchange.run(p.base + "/webhooks/decision", method: "POST", raw: body, headers: [
                SignedWebhook.timestampHeader: timestamp, "Content-Type": "application/json",
                SignedWebhook.signatureHeader: SignedWebhook.sign(body: Array(body.utf8), timestamp: timestamp, secret: secret),
            ])
        }
        let notifyOnly = try Project(serveEnvironment: ["ROLLOUT_WEBHOOK_SECRET": "notify-secret"])
        let refused = try decide(notifyOnly, id: 1, secret: "notify-secret")
        #expect(refused.status == 403 && refused.body.contains("ROLLOUT_WEBHOOK_DECISION_SECRET"), "\(refused.status) \(refused.body)")
        #expect(try notifyOnly.status(1) == "pending")

        let both = try Project(serveEnvironment: ["ROLLOUT_WEBHOOK_SECRET": "notify-secret", "ROLLOUT_WEBHOOK_DECISION_SECRET": "decide-secret"])
        #expect(try decide(both, id: 1, secret: "notify-secret").status == 401)
        #expect(try both.status(1) == "pending")
        let decided = try decide(both, id: 1, secret: "decide-secret")
        #expect(decided.status == 200 && decided.body.contains("executed"), "\(decided.status) \(decided.body)")

        let same = try RolloutBinary.run(["serve", "--check", "--store", both.store], cwd: both.dir,
                                         environment: ["ROLLOUT_WEBHOOK_SECRET": "s", "ROLLOUT_WEBHOOK_DECISION_SECRET": "s"])
        #expect(same.status == 2 && same.stderr.contains("a secret of their own"), "\(same.stderr)")
    }

    @Test("an approved write whose outcome is not known (running, or in doubt) is shown on the approvals page, not only pending ones")
    func unsettledApprovals() throws {
        let p = try Project()
        // As a guard leaves them: one approved and forwarded with no outcome recorded, one whose answer was lost.
        try tamper(p.store, "UPDATE approvals SET status = 'executing' WHERE id = 2")
        try tamper(p.store, "UPDATE approvals SET status = 'in_doubt' WHERE id = 3")
        _ = try p.signIn()
        let page = try p.get("/approvals").body
        #expect(page.contains("id=\"unsettled-2\"") && page.contains("approved, outcome not recorded"), "\(page)")
        #expect(page.contains("id=\"unsettled-3\"") && page.contains("in doubt"))
        #expect(!page.contains("id=\"unsettled-1\""), "a pending one is listed to decide, not as unsettled")
        // The live update replaces the list with the fragment: it carries them too.
        let fragment = try p.get("/approvals?fragment=1").body
        #expect(fragment.contains("id=\"unsettled-2\"") && fragment.contains("id=\"unsettled-3\""), "\(fragment)")
    }

    @Test("a connection that sends no whole request is closed after --idle-timeout: idle, its head sent a byte at a time, or its body")
    func idleConnections() throws {
        let p = try Project(serveArguments: ["--idle-timeout", "1"])
        let port = try #require(p.base.split(separator: ":").last.map(String.init))
        // Seconds until serve closed a connection that sent nothing, and one that sends a header byte every 0.3 s
        // (99: never, in 30 s; no bound on how fast, only that it closes).
        let script = """
            import socket, sys, time
            def held(opening=b"", trickle=None):
                # Sends `opening`, then `trickle` every 0.3 s (or nothing): seconds until serve closes the connection.
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                s.sendall(opening)
                s.settimeout(0.3)
                start = time.time()
                while time.time() - start < 30:
                    try:
                        if s.recv(1024) == b"":
                            return time.time() - start
                    except socket.timeout:
                        if trickle:
                            try:
                                s.send(trickle)
                            except OSError:
                                return time.time() - start
                    except OSError:
                        return time.time() - start
                return 99
            def held_body(request, framing=b"Content-Length: 1000"):
                # A whole head, then a body a byte every 0.3 s: the request is in progress, but its body has 1 s
                # (a sign-in form, a body sent to a page that takes none, a chunked one).
                head = request + b" HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n" + framing + b"\\r\\n\\r\\n"
                return held(head + (b"3e8\\r\\n" if framing.startswith(b"Transfer") else b""), b"t")
            s0 = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s0.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: ")
            s0.close()
            print("%.1f %.1f %.1f %.1f %.1f" % (held(), held(trickle=b"X"), held_body(b"POST /login"), held_body(b"GET /nowhere"),
                                                held_body(b"POST /login", b"Transfer-Encoding: chunked")))
            """
        let run = try Subprocess.run(["python3", "-c", script, port])
        let seconds = run.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(seconds.count == 5 && seconds.allSatisfy { $0 < 29 }, "\(run.stdout)\(run.stderr)")
        #expect(try p.get("/healthz").status == 200, "serve still answers")
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
        #expect(try p.post("/approvals/1/decide", ["decision": "aprove", "note": "typo", "csrf": csrf]).status == 400, "neither approve nor deny decides nothing")
        _ = try p.post("/approvals/1/decide", ["decision": "approve", "note": "\u{00AD}", "csrf": csrf])
        #expect(try p.status(1) == "pending", "an invisible note is no note")
        /// The page a decision's redirect leads to: its flash says what happened.
        func outcome(_ answer: HTTPExchange) throws -> String {
            #expect(answer.status == 303)
            return try p.get(answer.headers["location"] ?? "/approvals").body
        }
        let approved = try p.post("/approvals/1/decide", ["decision": "approve", "note": "refund checked against ticket 1", "csrf": csrf])
        #expect(try outcome(approved).contains("#1: executed"), "\(approved.headers)")
        let denied = try p.post("/approvals/2/decide", ["decision": "deny", "note": "amount does not match", "csrf": csrf])
        #expect(try outcome(denied).contains("approval_denied"))
        let again = try p.post("/approvals/1/decide", ["decision": "approve", "note": "twice", "csrf": csrf])
        let refusal = try outcome(again)
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

        // A write a guard ran has its Roll back button; an imported one has none, and a form posted for it
        // anyway is refused and audited.
        let ran = try #require(executed.first?["seq"]?.intValue)
        #expect(try p.get("/events/\(ran)").body.contains(#"id="rollback""#))
        let line = try writeLines([#"{"ts":"2026-11-30T05:00:00Z","tenant":"acme","actor":"agent-1","tool":"customers.set_role","model":"Customer","operation":"update","targets":[1],"fields_changed":{"role":{"before":"admin","after":"customer"}},"reason":"demoted by mistake, ticket 12","idempotency_key":"x1","decision":"executed","backend":"builtin"}"#])
        #expect(try RolloutBinary.run(["audit", "import", line, "--store", p.store], cwd: p.dir).status == 0)
        let forged = try #require(try p.audit().last?["seq"]?.intValue)
        let page = try p.get("/events/\(forged)").body
        #expect(page.contains("Imported from events.jsonl") && !page.contains(#"id="rollback""#), "\(page)")
        let posted = try outcome(try p.post("/events/\(forged)/rollback", ["note": "undo the role change, ticket 881", "csrf": csrf]))
        #expect(posted.contains("rollback_refused") && posted.contains("was imported"), "\(posted)")
        // A write rolled back says so; a claim of the unchained rollbacks table that the log does not hold is shown as one.
        let undone = try outcome(try p.post("/events/\(ran)/rollback", ["note": "the customer kept the parcel, ticket 881", "csrf": csrf]))
        #expect(undone.contains("rolled_back"), "\(undone)")
        let rolled = try p.get("/events/\(ran)").body
        #expect(rolled.contains("Rolled back by") && !rolled.contains("does not hold it") && !rolled.contains(#"id="rollback""#), "\(rolled)")
        try tamper(p.store, "UPDATE rollbacks SET rollback_seq = \(forged) WHERE original_seq = \(ran)")
        let claimed = try p.get("/events/\(ran)").body
        #expect(claimed.contains("does not hold it as one") && !claimed.contains("Rolled back by") && !claimed.contains(#"id="rollback""#), "\(claimed)")
        // An event that is not there: the person is told, on a page that exists.
        let missing = try outcome(try p.post("/events/999999/rollback", ["note": "undo it, ticket 881", "csrf": csrf]))
        #expect(missing.contains("rollback refused: event #999999 is not in the audit log"), "\(missing)")
        // An event whose body no longer reads: refused and audited, and the answer shown where a page exists.
        try tamper(p.store, "UPDATE audit_events SET body = '{\"seq\": 1}' WHERE seq = \(ran)")
        let unreadable = try outcome(try p.post("/events/\(ran)/rollback", ["note": "undo the refund, ticket 881", "csrf": csrf]))
        #expect(unreadable.contains("rollback_refused") && unreadable.contains("cannot be read"), "\(unreadable)")
    }

    @Test("a link cannot put words on the page; signing out ends the session; a replaced token ends its sessions at once; a cross-site sign-in is refused; an oversized form is 413")
    func sessions() throws {
        let p = try Project()
        _ = try p.signIn()
        #expect(try !p.get("/approvals?flash=%231%3A+executed+by+maria").body.contains("executed by maria"), "flash text comes only from the server")
        // Sign out: the old cookie no longer works, even if kept.
        let cookie = try String(contentsOfFile: p.jar, encoding: .utf8).split(separator: "\n").last { $0.contains("rollout_session") }
            .map { String($0.split(separator: "\t").last ?? "") } ?? ""
        #expect(!cookie.isEmpty)
        let csrf = try p.csrf()
        #expect(try p.post("/logout", ["csrf": csrf]).status == 303)
        let kept = try HTTPExchange.run(p.base + "/approvals", headers: ["Cookie": "rollout_session=\(cookie)"])
        #expect(kept.status == 303 && kept.headers["location"] == "/login", "a signed-out session stays out")
        // A new token for maria while serve runs: the old one and its sessions stop at once.
        _ = try p.signIn()
        #expect(try p.get("/approvals").status == 200)
        let rotated = try RolloutBinary.run(["serve", "--new-token", "maria.lopez"], cwd: p.dir)
        let fresh = try #require(rotated.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(try p.get("/approvals").status == 303, "the old token's session ended")
        #expect(try p.signIn().headers["location"] == "/login?failed=1", "the old token no longer signs in")
        #expect(try p.signIn(fresh).headers["location"] == "/", "the new one does")
        // Another site's page cannot sign a browser in.
        for site in ["cross-site", "same-site", "Same-Origin"] {
            let other = try HTTPExchange.run(p.base + "/login", method: "POST", form: ["token": fresh], headers: ["Sec-Fetch-Site": site])
            #expect(other.status == 403 && other.headers["set-cookie"] == nil, "\(site)")
        }
        let own = try HTTPExchange.run(p.base + "/login", method: "POST", form: ["token": fresh], headers: ["Sec-Fetch-Site": "same-origin"])
        #expect(own.status == 303 && own.headers["set-cookie"] != nil, "serve's own sign-in page")
        let big = try HTTPExchange.run(p.base + "/login", method: "POST", raw: String(repeating: "a", count: 20_000))
        #expect(big.status == 413 && big.headers["content-security-policy"] != nil)
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
        // The outcome goes back to Slack through the payload's response_url, replacing the message.
        var answers: [JSONValue] = []
        for _ in 0..<50 where answers.isEmpty {
            usleep(100_000)
            answers = ((try? String(contentsOfFile: p.captured, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONValue.parse(String($0)) }.filter { $0["path"] == "/slack-response" }
        }
        let answer = try JSONValue.parse(answers.first?["body"]?.stringValue ?? "{}")
        #expect(answers.count == 1 && answer["replace_original"] == true && answer["text"]?.stringValue?.contains("denied") == true, "\(answers)")
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
