import Foundation
import RolloutCore
@testable import RolloutServe
import RolloutGuard
import RolloutStore
import RolloutTestSupport
import Testing

/// Announcing queued writes: a receiver that fails is retried with backoff and given up on after six
/// attempts, every attempt recorded, and the write itself keeps waiting; a receiver that answers gets a
/// signed body once; an agent's text cannot put a link or a mention into the Slack message.
@Suite("notifications", .enabled(if: Subprocess.available("python3"), "needs python3"), .serialized)
struct NotifierTests {
    /// Each attempt's deadline (`Patience`): a late answer here would be counted as a failed attempt and retried.
    static let patience = Patience.localAnswer

    /// A demo store with one refund waiting for a person (its reason tries a Slack link and @channel).
    static func queued() throws -> (store: AuditStore, dir: String) {
        let dir = TestPaths.temporaryDirectory("notify").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: dir + "/rollout")
        let store = dir + "/.rollout/demo.sqlite"
        let call = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--store", store, "--args",
                                          #"{"order_id": 1, "amount_cents": 60000, "reason_code": "damaged", "reason": "lost <https://evil.example|approve here> <!channel>", "request_id": "big-1"}"#],
                                         cwd: dir)
        #expect(call.status == 0, "\(call.stderr)")
        return (try AuditStore(path: store), dir)
    }

    static func capture(_ dir: String, status: Int) throws -> (Background, String, String) {
        let file = dir + "/captured-\(status).jsonl"
        let server = try Background(["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/http/capture_server.py").path, file],
                                    environment: ["CAPTURE_STATUS": String(status)])
        let port = try #require(server.line(containing: "", in: server.stdout))
        return (server, "http://127.0.0.1:\(port)/hook", file)
    }

    static func lines(_ file: String) -> [JSONValue] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    @Test("a failing receiver: retried after 2, 4, 8, 16, 32 s, six attempts recorded, then failed; the write still waits")
    func failing() async throws {
        let (store, dir) = try Self.queued()
        let (server, url, file) = try Self.capture(dir, status: 500)
        defer { server.stop() }
        let notifier = Notifier(store: store, targets: NotifyTargets(webhookURL: url, webhookSecret: "s3cret"), redactor: Redactor(), timeout: Self.patience, log: { _ in })
        // 0.03 ms short of a whole millisecond: stored as the next one, so each retry's wait is judged
        // against a time a hair after the attempt (a retry due at exactly its backoff was skipped 1 run in 20).
        var now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) + 0.123_97)
        var attempts: [Int] = []
        for step in [0.0, 1, 1.5, 2, 1, 4, 8, 16, 32, 64, 128] {  // seconds after the previous tick
            now = now.addingTimeInterval(step)
            await notifier.tick(now: now)
            attempts.append(try store.delivery(approval: 1, target: "webhook")?.attempts ?? 0)
        }
        #expect(attempts == [1, 1, 2, 2, 2, 3, 4, 5, 6, 6, 6], "\(attempts)")
        let delivery = try #require(try store.delivery(approval: 1, target: "webhook"))
        #expect(delivery.status == .failed && delivery.lastError?.contains("500") == true, "\(delivery)")
        #expect(Self.lines(file).count == 6, "six requests reached the receiver")
        #expect(try store.approvals(status: .pending).map(\.id) == [1], "the write still waits for a person")
    }

    @Test("a working receiver gets one signed body per queued write; Slack text is escaped")
    func delivered() async throws {
        let (store, dir) = try Self.queued()
        let (server, url, file) = try Self.capture(dir, status: 200)
        defer { server.stop() }
        let notifier = Notifier(store: store, targets: NotifyTargets(slackWebhook: url, webhookURL: url, webhookSecret: "s3cret"), redactor: Redactor(), timeout: Self.patience, log: { _ in })
        await notifier.tick()
        await notifier.tick(now: Date().addingTimeInterval(60))
        let received = Self.lines(file)
        #expect(received.count == 2, "one per target, once")
        let webhook = try #require(received.first { $0["headers"]?["X-Rollout-Signature"] != nil })
        let body = Array((webhook["body"]?.stringValue ?? "").utf8)
        let timestamp = webhook["headers"]?["X-Rollout-Timestamp"]?.stringValue
        #expect(SignedWebhook.verify(body: body, timestamp: timestamp, signature: webhook["headers"]?["X-Rollout-Signature"]?.stringValue, secret: "s3cret") == nil)
        let parsed = try JSONValue.parse(webhook["body"]?.stringValue ?? "")
        #expect(parsed["approval_id"] == 1 && parsed["tool"] == "refunds.issue" && parsed["why"] != .null)
        let slack = try #require(received.first { $0["headers"]?["X-Rollout-Signature"] == nil })
        let text = try JSONValue.parse(slack["body"]?.stringValue ?? "")["blocks"]?[0]?["text"]?["text"]?.stringValue ?? ""
        #expect(text.contains("&lt;https://evil.example|approve here&gt;") && !text.contains("<!channel>") && !text.contains("<https://"), "\(text)")
        #expect(try store.delivery(approval: 1, target: "slack")?.status == .delivered)
    }
    @Test("the Slack notification's own text escapes the tenant and tool too: a phone shows it as mrkdwn")
    func fallbackTextEscaped() throws {
        let notifier = Notifier(store: try TestStores.temporarySQLite(), targets: NotifyTargets(), redactor: Redactor(), log: { _ in })
        let approval = PendingApproval(id: 9, createdAt: Date(), expiresAt: Date().addingTimeInterval(3600), tenant: "acme<!channel>", actor: "agent-1",
                                       session: nil, tool: "refunds.issue", call: ToolCall(tool: "refunds.issue", arguments: [:]), pendingSeq: 1)
        let text = notifier.slackMessage(approval, redactor: Redactor())["text"]?.stringValue ?? ""
        #expect(text.contains("acme&lt;!channel&gt;") && !text.contains("<!channel>"), "\(text)")
    }
}
