import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import RolloutCore
import RolloutGuard
import RolloutReports
import RolloutStore

/// What `rollout serve` serves from, and to whom.
public struct ServeSettings: Sendable {
    public var host: String
    public var port: Int
    public var folder: RolloutFolder
    public var store: AuditStore
    public var approvers: ApproversFile
    public var slackSigningSecret: String?
    public var webhookSecret: String?
    /// What decisions sent to /webhooks/decision are signed with: a secret of their own, as every receiver of
    /// the notifications holds `webhookSecret` to check them. Without it, no decision is taken by webhook.
    public var decisionSecret: String?
    public var targets: NotifyTargets
    /// Cookies only over HTTPS (when serving beyond loopback, through the team's proxy).
    public var secureCookies: Bool
    /// Every request must say it came over HTTPS through the team's proxy (`X-Forwarded-Proto: https`), as
    /// serve itself speaks plain HTTP; `/healthz` is exempt.
    public var requireForwardedHTTPS = false
    /// Seconds a connection may stay without a whole request (idle, or its head sent a byte at a time)
    /// before it is closed; a response being written (the approvals' event stream) does not count.
    public var idleTimeout: Double = 30

    public init(host: String, port: Int, folder: RolloutFolder, store: AuditStore, approvers: ApproversFile, slackSigningSecret: String?,
                webhookSecret: String?, targets: NotifyTargets, secureCookies: Bool) {
        self.host = host
        self.port = port
        self.folder = folder
        self.store = store
        self.approvers = approvers
        self.slackSigningSecret = slackSigningSecret
        self.webhookSecret = webhookSecret
        self.targets = targets
        self.secureCookies = secureCookies
    }

    /// Whether `host` is a loopback address (the only place serve listens without tokens).
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        // An address of 127.0.0.0/8 written as one: a host name that starts with `127.` is a name like any other.
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 24 == 127
    }
}

/// `rollout serve`: the approvals page, the dashboard of every write, an event's page with its
/// rollback, the Slack and webhook endpoints. Every response, redirects and errors included, carries a
/// strict Content-Security-Policy; every form carries a CSRF token; every page but sign-in needs a
/// signed-in approver of approvers.yaml.
public enum ServeApp {
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Runs the server until the task is cancelled (or the process ends); `onRunning` gets the port.
    public static func run(_ settings: ServeSettings, log: @escaping @Sendable (String) -> Void,
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let redaction = try PolicyRedaction(path: settings.folder.policyPath, key: settings.store.redactionKey(), log: log)
        let router = try makeRouter(settings, redaction: redaction, log: log)
        var logger = Logger(label: "rollout.serve")
        logger.logLevel = .warning
        let idle = TimeAmount.nanoseconds(Int64(settings.idleTimeout * 1e9))
        let app = Application(router: router, server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: idle)),
                              configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "rollout"),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? settings.port) }, logger: logger)
        let notifier = Notifier(store: settings.store, targets: settings.targets, redactor: { redaction.current() }, log: log)
        let notifying = Task { await notifier.run() }
        defer { notifying.cancel() }
        try await app.runService(gracefulShutdownSignals: [])
    }

    static func makeRouter(_ settings: ServeSettings, redaction: PolicyRedaction? = nil,
                           log: @escaping @Sendable (String) -> Void) throws -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeaders())
        router.add(middleware: BodyWithinDeadline(seconds: settings.idleTimeout))
        if settings.requireForwardedHTTPS { router.add(middleware: ForwardedHTTPS()) }
        let sessions = Sessions()
        let approvers = ApproversWatch(path: settings.folder.approversPath, initial: settings.approvers, log: log)
        let flashes = FlashMessages()
        let store = settings.store
        let desk = ApprovalDesk(folder: settings.folder, store: store, log: log)
        // Fail closed: without the policy's redaction rules nothing is shown. The policy as it is now: a field
        // marked secret while serve runs is hidden from the next request on.
        let redaction = try redaction ?? PolicyRedaction(path: settings.folder.policyPath, key: store.redactionKey(), log: log)
        let policyPath = settings.folder.policyPath
        @Sendable func unreadablePolicy() -> Response {
            Responses.html(.serviceUnavailable, Pages.message(
                "The policy does not read", "\(policyPath) no longer reads, and without its redaction rules no write's values are shown. Fix it (`rollout lint`); this page works again from the next request."))
        }
        let dailyCounts = DailyCounts(store: store)
        try dailyCounts.refresh()

        /// The signed-in approver and the session's CSRF token, when the cookie holds.
        /// The approver must still be in approvers.yaml with the token the session began with.
        @Sendable func signedIn(_ request: Request) -> (name: String, csrf: String, cookie: String)? {
            guard let value = request.cookies[Sessions.cookie]?.value, let session = sessions.session(value), !session.tokenTag.isEmpty,
                  let approver = approvers.current().approvers.first(where: { $0.name == session.approver }),
                  approver.tokenSHA256?.hasPrefix(session.tokenTag) == true else { return nil }
            return (approver.name, sessions.csrf(for: value), value)
        }
        /// A decision's note: it must have words, as a reason must (an invisible character is no note).
        @Sendable func noteProblem(_ note: String) -> String? {
            // The note is the decision event's reason, a column no store holds with a NUL in it.
            if note.utf8.contains(0) { return "The note holds the character U+0000 (NUL); write it without." }
            return ReasonRule(required: true, minLength: 1, maxLength: 300, boilerplate: []).problem(with: note).map { "The note: \($0)." }
        }
        /// A message for the next page, kept here and named by a random id: a link cannot put words on the page.
        @Sendable func flashed(_ path: String, _ text: String) -> Response { Responses.redirect(path + "?flash=" + flashes.keep(text)) }
        @Sendable func pendingCount() -> Int { (try? store.approvals(status: .pending).count) ?? 0 }

        router.get("/healthz") { _, _ in Responses.text(.ok, "ok") }
        router.get("/static/app.css") { _, _ in Responses.body(.ok, Assets.css, type: "text/css; charset=utf-8") }
        router.get("/static/app.js") { _, _ in Responses.body(.ok, Assets.js, type: "text/javascript; charset=utf-8") }

        // Sign-in with an approver's token.
        router.get("/static/icon.svg") { _, _ in Responses.body(.ok, Assets.icon, type: "image/svg+xml") }
        router.get("/favicon.ico") { _, _ in Responses.redirect("/static/icon.svg") }
        // A refused sign-in goes back to the form (post, redirect, get): no resubmission, nothing in the console.
        router.get("/login") { request, _ in
            let failed = Forms.query(request.uri.query)["failed"] == "1"
            return Responses.html(.ok, Pages.login(message: failed ? "That token belongs to no approver of approvers.yaml." : nil))
        }
        router.post("/login") { request, _ in
            let form = Forms.decode(try await request.bufferedBody(upTo: 8192))
            // A sign-in posted from another page than serve's own is refused (login CSRF): a browser says where a
            // request comes from, and only this origin's page (`same-origin`) or the person (`none`) may sign in;
            // a sibling subdomain is `same-site`. A client that says nothing is no browser a page can drive.
            if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
                return Responses.text(.forbidden, "a sign-in must come from this server's own page")
            }
            guard let token = form["token"], let approver = approvers.current().approver(token: token), let hash = approver.tokenSHA256 else {
                log("serve: a sign-in with an unknown token was refused")
                return Responses.redirect("/login?failed=1")
            }
            var response = Responses.redirect("/")
            response.setCookie(Cookie(name: Sessions.cookie, value: sessions.issue(approver.name, tokenTag: String(hash.prefix(16))), maxAge: Int(Sessions.lifetime), path: "/",
                                      secure: settings.secureCookies, httpOnly: true, sameSite: .strict))
            log("serve: \(approver.name) signed in")
            return response
        }
        router.post("/logout") { request, _ in
            let form = Forms.decode(try await request.bufferedBody(upTo: 8192))
            guard let who = signedIn(request), form["csrf"] == who.csrf else { return Responses.text(.forbidden, "not signed in, or the form is not this session's") }
            sessions.revoke(who.cookie)
            var response = Responses.redirect("/login")
            response.setCookie(Cookie(name: Sessions.cookie, value: "x", maxAge: 0, path: "/", secure: settings.secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }

        // The dashboard of every write.
        router.get("/") { request, _ in
            guard let who = signedIn(request) else { return Responses.redirect("/login") }
            // A search finds what the page may show: a secret value is found by no search.
            guard let redactor = redaction.current() else { return unreadablePolicy() }
            let params = Forms.query(request.uri.query)
            // A named period back from now, or a chosen one (`from`, `to`: days or RFC 3339 times; a `to` day is included).
            let now = Date()
            var range = params["range"].flatMap { ["hour", "day", "week", "month", "custom"].contains($0) ? $0 : nil } ?? "day"
            let chosenFrom = params["from"].flatMap { $0.isEmpty ? nil : Timestamp.parseDayOrTime($0) }
            let chosenTo = params["to"].flatMap { $0.isEmpty ? nil : Timestamp.parseDayOrTime($0) }
            if chosenFrom != nil || chosenTo != nil { range = "custom" }
            let from: Date
            let to: Date
            if range == "custom" {
                to = chosenTo.map { params["to"]?.count == 10 ? $0.addingTimeInterval(86_400) : $0 } ?? now.addingTimeInterval(1)
                from = chosenFrom ?? to.addingTimeInterval(-86_400)
            } else {
                let span: TimeInterval = ["hour": 3600, "day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400][range] ?? 86_400
                (from, to) = (now.addingTimeInterval(-span), now.addingTimeInterval(1))
            }
            var query = DashboardQuery(from: from, to: max(to, from), search: params["q"], before: params["before"].flatMap(DashboardCursor.init))
            if let category = params["decision"].flatMap(DecisionCategory.init(rawValue:)) { query.categories = [category] }
            query.shown = { redactor.redact($0) }
            let page = try store.dashboard(query)
            // Counts per day over the period (at least the last week).
            let chartFrom = range == "custom" ? query.from : min(query.from, now.addingTimeInterval(-7 * 86_400))
            let days = try dailyCounts.days(from: chartFrom, to: query.to, intents: query.categories.contains(.intent))
            return Responses.html(.ok, Pages.dashboard(page: page, query: query, range: range, chosen: (params["from"] ?? "", params["to"] ?? ""), days: days, approver: who.name, csrf: who.csrf,
                                                       pending: pendingCount()))
        }

        // The approvals page, its fragment for the live update, and its event stream.
        @Sendable func approvalViews(_ redactor: Redactor) throws -> [ApprovalView] {
            try store.approvals(status: .pending).map { approval in
                let pending = try store.event(seq: approval.pendingSeq)
                let changes = (pending?.changes ?? []).flatMap { change in
                    change.fields.sorted { $0.key < $1.key }.map { field in
                        let row = change.key == .null ? "new \(pending?.model ?? "row")" : "\(pending?.model ?? "row") \(change.key.canonicalText)"
                        let after = redactor.redact(field.value.after ?? .null).canonicalText
                        guard let before = field.value.before, change.key != .null else { return "\(row): \(field.key) = \(after)" }
                        return "\(row): \(field.key) \(redactor.redact(before).canonicalText) → \(after)"
                    }
                }
                return ApprovalView(approval: approval, reason: pending?.reason, rule: ApprovalDesk.why(pending),
                                    arguments: redactor.redact(approval.call.arguments), changes: changes)
            }
        }
        router.get("/approvals") { request, _ in
            guard let who = signedIn(request) else { return Responses.redirect("/login") }
            let params = Forms.query(request.uri.query)
            guard let redactor = redaction.current() else { return unreadablePolicy() }
            let views = try approvalViews(redactor)
            let unsettled = try store.approvals(status: .executing) + store.approvals(status: .inDoubt)
            if params["fragment"] == "1" { return Responses.html(.ok, Pages.approvalsList(views, csrf: who.csrf, unsettled: unsettled)) }
            return Responses.html(.ok, Pages.approvals(views, approver: who.name, csrf: who.csrf, flash: params["flash"].flatMap(flashes.take),
                                                       unsettled: unsettled))
        }
        router.get("/approvals/events") { request, _ in
            guard signedIn(request) != nil else { return Responses.text(.unauthorized, "sign in first") }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var last = ""
                var ticks = 0
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                while !Task.isCancelled {
                    let state = (try? Pages.queueState(pending: store.approvals(status: .pending).map(\.id),
                                                       unsettled: store.approvals(status: .executing) + store.approvals(status: .inDoubt))) ?? last
                    if state != last {
                        last = state
                        try await writer.write(ByteBuffer(string: "data: \(state)\n\n"))
                    }
                    ticks += 1
                    if ticks % 15 == 0 { try await writer.write(ByteBuffer(string: ": keepalive\n\n")) }
                    try await Task.sleep(nanoseconds: 1_000_000_000)
                }
                try await writer.finish(nil)
            })
        }
        router.post("/approvals/:id/decide") { request, context in
            let form = Forms.decode(try await request.bufferedBody(upTo: 16_384))
            guard let who = signedIn(request) else { return Responses.text(.forbidden, "sign in first") }
            guard form["csrf"] == who.csrf else { return Responses.text(.forbidden, "the form is not this session's (CSRF)") }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return Responses.text(.badRequest, "no such approval") }
            let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let choice = form["decision"], choice == "approve" || choice == "deny" else {
                return Responses.text(.badRequest, "decision must be approve or deny")
            }
            if let problem = noteProblem(note) { return flashed("/approvals", problem) }
            let decision: Decision
            do {
                decision = choice == "approve" ? try await desk.approve(id, by: who.name, note: note) : try await desk.deny(id, by: who.name, note: note)
            } catch {
                log("serve: the decision on approval #\(id) by \(who.name) failed: \(error)")
                return flashed("/approvals", "#\(id): \(error)")
            }
            log("serve: approval #\(id) \(decision.code.rawValue) by \(who.name)")
            return flashed("/approvals", "#\(id): \(decision.code.rawValue) (audit event \(decision.auditSeq)): \(decision.message)")
        }

        // One audit event, and its rollback.
        router.get("/events/:seq") { request, context in
            guard let who = signedIn(request) else { return Responses.redirect("/login") }
            guard let seq = context.parameters.get("seq").flatMap({ Int64($0) }), let event = try store.event(seq: seq) else {
                return Responses.html(.notFound, Pages.message("No such event", "There is no audit event with that number."))
            }
            let rolledBackBy = try store.read { sql in try sql.scalar("SELECT rollback_seq FROM rollbacks WHERE original_seq = ?", [.int(seq)])?.int64 }
            // The rollbacks table is not chained: the page says "rolled back" only when the event it names holds and
            // is this write's rollback (a row added by hand otherwise hid the button behind a claim nothing backs).
            // The row names the rollback's outcome, or its intent while the inverse is in flight (or in doubt after).
            let rollback = rolledBackBy.map { by -> Pages.Rollback in
                guard let held = try? store.heldEvent(seq: by), !held.isImported, held.details["rollback_of"]?.doubleValue == Double(seq) else {
                    return .unproven(by)
                }
                return .by(by, decision: held.decision)
            }
            guard let redactor = redaction.current() else { return unreadablePolicy() }
            return Responses.html(.ok, Pages.event(event, body: redactor.redact(event.json), rollback: rollback, approver: who.name, csrf: who.csrf,
                                                   flash: Forms.query(request.uri.query)["flash"].flatMap(flashes.take), pending: pendingCount()))
        }
        router.post("/events/:seq/rollback") { request, context in
            let form = Forms.decode(try await request.bufferedBody(upTo: 8192))
            guard let who = signedIn(request), form["csrf"] == who.csrf else { return Responses.text(.forbidden, "sign in first (CSRF)") }
            guard let seq = context.parameters.get("seq").flatMap({ Int64($0) }) else { return Responses.text(.badRequest, "no such event") }
            let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if let problem = noteProblem(note) { return flashed("/events/\(seq)", problem) }
            let flash: String
            do {
                let decision = try await desk.rollback(seq, by: who.name, note: note)
                flash = "\(decision.code.rawValue) (audit event \(decision.auditSeq)): \(decision.message)"
            } catch GuardError.noSuchEvent {
                // Nothing to record it against: said in serve's log, and on the approvals page (the event's page is a 404).
                log("serve: \(who.name) asked to roll back event \(seq), which is not in the audit log; nothing was done")
                return flashed("/approvals", "rollback refused: event #\(seq) is not in the audit log; nothing was done")
            } catch {
                log("serve: the rollback of event \(seq) asked by \(who.name) failed: \(error)")
                flash = "\(error)"
            }
            // An event whose body no longer reads has no page to show the answer on: the approvals page does.
            let readable = (try? store.event(seq: seq)) != nil
            return flashed(readable ? "/events/\(seq)" : "/approvals", readable ? flash : "#\(seq): \(flash)")
        }

        // Slack's buttons: the signature first, then the payload, then the person.
        router.post("/slack/interactions") { request, _ in
            let body = Array(buffer: try await request.bufferedBody(upTo: 65_536))
            let timestamp = request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!]
            let signature = request.headers[HTTPField.Name("X-Slack-Signature")!]
            if let failure = SlackSignature.verify(body: body, timestamp: timestamp, signature: signature, secret: settings.slackSigningSecret) {
                log("serve: a Slack request was refused: \(failure)")
                return Responses.text(failure == .notConfigured ? .forbidden : .unauthorized, failure.description)
            }
            guard try store.useNonce("slack:" + (signature ?? "")) else {
                log("serve: a replayed Slack request was refused")
                return Responses.text(.unauthorized, "this request was already acted on")
            }
            guard let payloadText = Forms.decode(ByteBuffer(bytes: body))["payload"], let payload = try? JSONValue.parse(payloadText) else {
                return Responses.text(.badRequest, "no interaction payload")
            }
            guard let user = payload["user"]?["id"]?.stringValue, let approver = approvers.current().approver(slackUser: user) else {
                log("serve: a Slack press by an unknown user was refused")
                return Responses.text(.forbidden, "this Slack user is not an approver of approvers.yaml")
            }
            guard let action = payload["actions"]?[0], let kind = action["action_id"]?.stringValue, kind == "approve" || kind == "deny",
                  let id = action["value"]?.stringValue.flatMap({ Int64($0) }) else {
                return Responses.text(.badRequest, "no approve or deny action")
            }
            let note = (payload["state"]?["values"]?["note"]?["note"]?["value"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if let problem = noteProblem(note) {
                return Responses.json(.ok, ["response_type": "ephemeral", "replace_original": false, "text": .string("\(problem) Write a note, then press the button again.")])
            }
            let responseURL = payload["response_url"]?.stringValue
            // Slack wants an answer within 3 s: decide after answering, and report through response_url.
            Task {
                let text: String
                do {
                    let decision = kind == "approve" ? try await desk.approve(id, by: approver.name, note: note) : try await desk.deny(id, by: approver.name, note: note)
                    text = "#\(id) \(decision.code.rawValue) by \(approver.name): \(decision.message)"
                } catch {
                    text = "#\(id): \(error)"
                }
                log("serve: Slack: \(text)")
                if let responseURL {
                    // The decision stands either way; a report Slack did not take is said, not dropped.
                    do {
                        let status = try await WebhookPoster().post(responseURL, body: Array((["replace_original": true, "text": .string(text)] as JSONValue).canonicalText.utf8),
                                                                    headers: [("Content-Type", "application/json")])
                        if !(200..<300).contains(status) { log("serve: Slack: the outcome of #\(id) was not shown in Slack: it answered HTTP \(status)") }
                    } catch {
                        log("serve: Slack: the outcome of #\(id) was not shown in Slack: \(error)")
                    }
                }
            }
            return Response(status: .ok)
        }

        // Decisions from another tool, signed like the notifications it receives.
        router.post("/webhooks/decision") { request, _ in
            let body = Array(buffer: try await request.bufferedBody(upTo: 65_536))
            let timestamp = request.headers[HTTPField.Name(SignedWebhook.timestampHeader)!]
            let signature = request.headers[HTTPField.Name(SignedWebhook.signatureHeader)!]
            guard let secret = settings.decisionSecret else {
                return Responses.text(.forbidden, "decisions by webhook need ROLLOUT_WEBHOOK_DECISION_SECRET, a secret of their own (every receiver of the notifications holds ROLLOUT_WEBHOOK_SECRET)")
            }
            if let failure = SignedWebhook.verify(body: body, timestamp: timestamp, signature: signature, secret: secret) {
                return Responses.text(.unauthorized, failure)
            }
            guard try store.useNonce("webhook:" + (signature ?? "")) else { return Responses.text(.unauthorized, "this request was already acted on") }
            guard let json = try? JSONValue.parse(String(decoding: body, as: UTF8.self)), let id = json["approval_id"]?.intValue,
                  let kind = json["decision"]?.stringValue, kind == "approve" || kind == "deny",
                  let name = json["approver"]?.stringValue, approvers.current().approvers.contains(where: { $0.name == name }),
                  let note = json["note"]?.stringValue, noteProblem(note) == nil else {
                return Responses.text(.badRequest, "expected {approval_id, decision: approve|deny, approver (of approvers.yaml), note}")
            }
            do {
                let decision = kind == "approve" ? try await desk.approve(Int64(id), by: name, note: note) : try await desk.deny(Int64(id), by: name, note: note)
                return Responses.json(.ok, ["decision": .string(decision.code.rawValue), "audit_id": .number(Double(decision.auditSeq)), "message": .string(decision.message)])
            } catch {
                return Responses.json(.conflict, ["error": .string("\(error)")])
            }
        }
        return router
    }
}

/// Every response, errors and redirects included: the Content-Security-Policy and its companions.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            response = Responses.text(error.status, error.body ?? error.status.reasonPhrase)
        } catch is NIOTooManyBytesError {
            response = Responses.text(.contentTooLarge, "the request is larger than this form takes")
        } catch {
            response = Responses.text(.internalServerError, "internal error")
        }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = ServeApp.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Refuses a request that did not come over HTTPS through the team's proxy: serve speaks plain HTTP, and
/// an approver's token or session cookie sent to it directly crosses the network in the clear.
struct ForwardedHTTPS: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.overHTTPS(request.headers[values: HTTPField.Name("X-Forwarded-Proto")!]) || request.uri.path == "/healthz" else {
            return Responses.text(.forbidden, "serve answers only through its HTTPS proxy (X-Forwarded-Proto: https)")
        }
        return try await next(request, context)
    }

    /// Whether the proxy said HTTPS. A proxy appends what it saw to what the client sent (`X-Forwarded-Proto:
    /// https, http` from a client that wrote `https` itself): the last value, the one the team's proxy added,
    /// is the one to believe.
    static func overHTTPS(_ fields: [String]) -> Bool {
        let values = fields.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        return values.last?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }
}

/// Responses of the few kinds serve sends.
enum Responses {
    static func body(_ status: HTTPResponse.Status, _ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response { body(status, text, type: "text/html; charset=utf-8") }
    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response { body(status, text + "\n", type: "text/plain; charset=utf-8") }
    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response { body(status, value.canonicalText, type: "application/json") }

    /// A 303 to `location` (a path of this server).
    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}

/// application/x-www-form-urlencoded, both ways.
enum Forms {
    static func decode(_ buffer: ByteBuffer) -> [String: String] {
        query(String(buffer: buffer))
    }

    static func query(_ text: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (text ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ") }
            guard let name = parts.first?.removingPercentEncoding else { continue }
            out[name] = parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : ""
        }
        return out
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
