import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// Where queued writes are announced: a Slack incoming webhook (a Block Kit message with Approve and
/// Deny buttons and a note input, whose presses come back to `/slack/interactions`), and any URL with a
/// body signed by `SignedWebhook` (an admin tool, Linear).
public struct NotifyTargets: Sendable {
    public var slackWebhook: String?
    public var webhookURL: String?
    public var webhookSecret: String?

    public init(slackWebhook: String? = nil, webhookURL: String? = nil, webhookSecret: String? = nil) {
        self.slackWebhook = slackWebhook
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
    }

    public var isEmpty: Bool { slackWebhook == nil && webhookURL == nil }

    /// The targets the environment names: ROLLOUT_SLACK_WEBHOOK_URL, ROLLOUT_WEBHOOK_URL and ROLLOUT_WEBHOOK_SECRET.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> NotifyTargets {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        return NotifyTargets(slackWebhook: value("ROLLOUT_SLACK_WEBHOOK_URL"), webhookURL: value("ROLLOUT_WEBHOOK_URL"),
                             webhookSecret: value("ROLLOUT_WEBHOOK_SECRET"))
    }
}

/// Announces every pending write to every target, once, retrying a failed delivery with backoff (2, 4,
/// 8... seconds, six attempts) and recording each attempt in the store. A delivery that fails for good
/// is recorded as failed; the queued write itself is never touched: it waits on the approvals page.
public final class Notifier: @unchecked Sendable {
    let store: AuditStore
    let targets: NotifyTargets
    /// The policy's redactor as it is now; nil while the policy does not read (nothing is announced then).
    let redactor: @Sendable () -> Redactor?
    let log: @Sendable (String) -> Void
    let poster: WebhookPoster
    /// Seconds one delivery attempt may take, connecting included; past it the attempt failed.
    let timeout: Double
    public static let maxAttempts = 6

    public convenience init(store: AuditStore, targets: NotifyTargets, redactor: Redactor, poster: WebhookPoster = WebhookPoster(), timeout: Double = 10,
                            log: @escaping @Sendable (String) -> Void) {
        self.init(store: store, targets: targets, redactor: { redactor }, poster: poster, timeout: timeout, log: log)
    }

    /// `redactor` is asked at every pass: serve's follows policy.yaml as it is edited.
    public init(store: AuditStore, targets: NotifyTargets, redactor: @escaping @Sendable () -> Redactor?, poster: WebhookPoster = WebhookPoster(),
                timeout: Double = 10, log: @escaping @Sendable (String) -> Void) {
        // Not user input: a bad one is a bug, and would otherwise fail every delivery (WebhookPoster refuses it).
        precondition(timeout.isFinite && timeout > 0, "a notifier's timeout must be a positive number of seconds, not \(timeout)")
        self.store = store
        self.targets = targets
        self.redactor = redactor
        self.poster = poster
        self.timeout = timeout
        self.log = log
    }

    /// Runs until the task is cancelled, looking for work every `interval` seconds.
    public func run(interval: Double = 2) async {
        while !Task.isCancelled {
            await tick()
            try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
    }

    /// One pass: every pending approval, every target due.
    public func tick(now: Date = Date()) async {
        guard !targets.isEmpty, let pending = try? store.approvals(status: .pending), !pending.isEmpty else { return }
        // Without the policy's redaction rules nothing is announced; the next pass tries again.
        guard let redactor = redactor() else { return }
        for approval in pending where approval.expiresAt > now {
            if let url = targets.slackWebhook { await deliver(approval, target: "slack", now: now) { try await self.postSlack(approval, to: url, redactor: redactor) } }
            if let url = targets.webhookURL { await deliver(approval, target: "webhook", now: now) { try await self.postWebhook(approval, to: url, redactor: redactor) } }
        }
    }

    private func deliver(_ approval: PendingApproval, target: String, now: Date, _ post: () async throws -> Void) async {
        let previous = try? store.delivery(approval: approval.id, target: target)
        if let previous {
            if previous.status != .pending { return }
            let backoff = pow(2, Double(previous.attempts))
            // The attempt's time is stored in whole milliseconds, possibly the next one: a millisecond's grace,
            // or a retry due at exactly its backoff waits a whole tick more.
            if now.timeIntervalSince(previous.updatedAt) + 0.001 < backoff { return }
        }
        let attempts = (previous?.attempts ?? 0) + 1
        do {
            try await post()
            try? store.recordDelivery(Delivery(approvalID: approval.id, target: target, status: .delivered, attempts: attempts, lastError: nil, updatedAt: now))
            log("serve: approval #\(approval.id) announced to \(target)")
        } catch {
            let status: Delivery.Status = attempts >= Self.maxAttempts ? .failed : .pending
            try? store.recordDelivery(Delivery(approvalID: approval.id, target: target, status: status, attempts: attempts,
                                               lastError: String(describing: error), updatedAt: now))
            log("serve: announcing approval #\(approval.id) to \(target) failed (attempt \(attempts)): \(error)")
        }
    }

    /// The Slack message of a queued write: what was asked, why a person decides, a note input and two buttons.
    func slackMessage(_ approval: PendingApproval, redactor: Redactor) -> JSONValue {
        let pending = try? store.event(seq: approval.pendingSeq)
        // Everything here came from an agent or a store: escaped as Slack asks (&, <, >), so a reason cannot
        // carry a link, a mention or @channel; backticks cannot close the code block; a line feed cannot
        // start a line that reads as the message's own (`*Why a person:*`), nor a bidi override reorder one.
        func e(_ text: String) -> String { Notifier.slackEscaped(text) }
        let reason = e(pending?.reason ?? "—")
        let why = e(ApprovalDesk.why(pending))
        let arguments = e(String(redactor.redact(approval.call.arguments).canonicalText.prefix(2500)))
        let text = "*#\(approval.id)* `\(e(approval.tool))` for *\(e(approval.tenant))*, asked by *\(e(approval.actor))*\n*Reason:* \(reason)\n*Why a person:* \(why)\n```\(arguments)```"
        return [
            // The notification's text (what a phone shows) is read as mrkdwn too.
            "text": .string("rollout: \(e(approval.tool)) for \(e(approval.tenant)) waits for a person (#\(approval.id))"),
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]],
                ["type": "input", "block_id": "note", "optional": false,
                 "label": ["type": "plain_text", "text": "Note (required)"],
                 "element": ["type": "plain_text_input", "action_id": "note", "max_length": 300]],
                ["type": "actions", "block_id": "decision", "elements": [
                    ["type": "button", "action_id": "approve", "style": "primary", "text": ["type": "plain_text", "text": "Approve"], "value": .string(String(approval.id))],
                    ["type": "button", "action_id": "deny", "style": "danger", "text": ["type": "plain_text", "text": "Deny"], "value": .string(String(approval.id))],
                ]],
            ],
        ]
    }

    /// Text for a Slack message, escaped as Slack asks (&, <, >) by code point (a `<` joined to a letter or
    /// mark before or after it is no `<` to String's comparisons), on one line, backticks made quotes.
    static func slackEscaped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for u in VisibleText.oneLine(text).unicodeScalars {
            switch u {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "`": out.append("'")
            default: out.append(u)
            }
        }
        return String(out)
    }

    func postSlack(_ approval: PendingApproval, to url: String, redactor: Redactor) async throws {
        try await post(url, body: Array(slackMessage(approval, redactor: redactor).canonicalText.utf8), headers: [("Content-Type", "application/json")])
    }

    func postWebhook(_ approval: PendingApproval, to url: String, redactor: Redactor) async throws {
        let pending = try? store.event(seq: approval.pendingSeq)
        let body: JSONValue = [
            "event": "approval.pending", "approval_id": .number(Double(approval.id)), "tenant": .string(approval.tenant),
            "tool": .string(approval.tool), "actor": .string(approval.actor), "reason": pending?.reason.map(JSONValue.string) ?? .null,
            "rule": pending?.details["approval_rule"] ?? .null, "why": .string(ApprovalDesk.why(pending)), "arguments": redactor.redact(approval.call.arguments),
            "expires": .string(Timestamp.formatSeconds(approval.expiresAt)),
        ]
        let bytes = Array(body.canonicalText.utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var headers = [("Content-Type", "application/json"), (SignedWebhook.timestampHeader, timestamp)]
        if let secret = targets.webhookSecret { headers.append((SignedWebhook.signatureHeader, SignedWebhook.sign(body: bytes, timestamp: timestamp, secret: secret))) }
        try await post(url, body: bytes, headers: headers)
    }

    /// POSTs `body`; an answer other than 2xx is an error naming its status.
    func post(_ url: String, body: [UInt8], headers: [(String, String)]) async throws {
        let status = try await poster.post(url, body: body, headers: headers, timeout: timeout)
        guard (200..<300).contains(status) else { throw DeliveryError(message: "answered HTTP \(status)") }
    }
}

/// A notification that did not arrive.
public struct DeliveryError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    /// `text` from a peer (a certificate's names, a status line) made safe to quote in a log line or a
    /// terminal: control characters and anything beyond ASCII become `?`.
    static func printable(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 < 0x20 || $0 >= 0x7F ? 0x3F : $0 }, as: UTF8.self)
    }
}
