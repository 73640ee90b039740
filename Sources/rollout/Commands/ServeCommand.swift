import ArgumentParser
import Foundation
import RolloutCore
import RolloutServe
import RolloutStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The human side: approve or deny queued writes, and see every write, in a browser (or from Slack).",
        discussion: """
            Pages: / lists every write of the last hour, day, week or 30 days with its reason, approver and \
            outcome, searchable, with counts per day; /approvals lists the writes waiting for a person (it \
            updates itself), each with Approve and Deny and a required note; /events/N shows an audit event \
            and rolls it back. A decision runs the write on its own backend, through the guard: four-eyes, \
            expiry and the request binding hold.

            serve speaks plain HTTP: it listens beyond loopback only with --behind-https-proxy, and then answers only \
            requests its proxy marks X-Forwarded-Proto: https. People sign in with a token; rollout/approvers.yaml lists each approver's token by its SHA-256 \
            (--new-token NAME makes one and records it) and Slack user id. serve listens on 127.0.0.1 unless --listen says \
            otherwise, and never without approvers who can sign in, nor where the guards' store is not (it makes none). Slack: set ROLLOUT_SLACK_WEBHOOK_URL to \
            announce queued writes with two buttons, and point the Slack app's Interactivity URL at \
            /slack/interactions through the team's HTTPS proxy; ROLLOUT_SLACK_SIGNING_SECRET verifies them. \
            A generic webhook: ROLLOUT_WEBHOOK_URL and ROLLOUT_WEBHOOK_SECRET (HMAC-SHA256 signed bodies); \
            decisions come back to /webhooks/decision signed the same way with ROLLOUT_WEBHOOK_DECISION_SECRET, a \
            secret of their own (a receiver of the notifications must not be able to decide). Deliveries use https_proxy \
            (or HTTPS_PROXY; http_proxy for plain http; then all_proxy) unless no_proxy names the host.

            Examples:
              rollout serve --new-token maria.lopez   # token shown once, hash saved
              rollout serve --check                   # check settings, do not serve
              rollout serve --listen 0.0.0.0:8080 --behind-https-proxy   # via HTTPS proxy
            """
    )

    @Option(help: ArgumentHelp("Where to listen: HOST:PORT (default 127.0.0.1:8080; port 0 picks one).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(name: .customLong("new-token"), help: ArgumentHelp("Make a sign-in token for NAME: its SHA-256 goes into approvers.yaml (replacing an old one), the token is printed once; then exit.", valueName: "name"))
    var newToken: String?

    @Flag(help: "serve sits behind the team's HTTPS proxy: it may listen beyond loopback, and refuses every request without X-Forwarded-Proto: https.")
    var behindHttpsProxy = false

    @Option(help: ArgumentHelp("Seconds a connection may go without a whole request head before it is closed, and a request body may take (then 408).", valueName: "seconds"))
    var idleTimeout: Double = 30

    @Flag(help: "Check the settings (folder, store, approvers, listen address) and exit without serving.")
    var check = false

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR), read when serve starts: approvals and rollbacks refuse a log that no longer holds that head.", valueName: "file"))
    var anchor: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    func run() async throws {
        if let newToken {
            let token = ApproverTokens.generate()
            let path = folderOptions.folder.approversPath
            let added = try ApproverTokens.record(token: token, for: newToken, in: path)
            Output.line("\(added ? "added" : "replaced the token of") \(newToken) in \(path) (its SHA-256 only)")
            Output.line("token for \(newToken), shown once (give it to them to sign in): \(token)")
            return
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let folder = folderOptions.folder
        let approvers = try folder.loadApprovers()
        guard approvers.hasTokens else {
            throw ValidationError("no approver can sign in: \(folder.approversPath) lists no token_sha256 (rollout serve --new-token NAME makes one)")
        }
        let environment = ProcessInfo.processInfo.environment
        if environment["ROLLOUT_WEBHOOK_URL"].map({ !$0.isEmpty }) == true, environment["ROLLOUT_WEBHOOK_SECRET"].map({ !$0.isEmpty }) != true {
            throw ValidationError("ROLLOUT_WEBHOOK_URL is set without ROLLOUT_WEBHOOK_SECRET: the webhook's bodies are signed with it")
        }
        let decisionSecret = environment["ROLLOUT_WEBHOOK_DECISION_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        if let decisionSecret, decisionSecret == environment["ROLLOUT_WEBHOOK_SECRET"] {
            throw ValidationError("ROLLOUT_WEBHOOK_DECISION_SECRET is ROLLOUT_WEBHOOK_SECRET: every receiver of the notifications holds that one, and could decide writes with it; give decisions a secret of their own")
        }
        let loopback = ServeSettings.isLoopback(host)
        // serve speaks plain HTTP: beyond loopback a token and a session cookie would cross the network in the clear.
        if !loopback, !behindHttpsProxy {
            throw ValidationError("serve speaks plain HTTP, so beyond loopback (\(host)) approvers' tokens and cookies would cross the network in the clear: put it behind the team's HTTPS proxy and say so with --behind-https-proxy (requests without X-Forwarded-Proto: https are then refused)")
        }
        guard idleTimeout.isFinite, idleTimeout >= 1, idleTimeout <= 3600 else {
            throw ValidationError("--idle-timeout takes seconds from 1 to 3600, not \(idleTimeout)")
        }
        // The approvals and the log are the guards' store: a store made here, at a path that is not theirs, would
        // show no write waiting while theirs wait unseen.
        let store = try storeOption.open(create: false)
        store.anchor = try AnchorOption.read(anchor)
        let settings = ServeSettings(
            host: host, port: port, folder: folder, store: store, approvers: approvers,
            slackSigningSecret: environment["ROLLOUT_SLACK_SIGNING_SECRET"].flatMap { $0.isEmpty ? nil : $0 },
            webhookSecret: environment["ROLLOUT_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 },
            targets: NotifyTargets.fromEnvironment(), secureCookies: !loopback || behindHttpsProxy)
        var configured = settings
        configured.requireForwardedHTTPS = behindHttpsProxy
        configured.decisionSecret = decisionSecret
        configured.idleTimeout = idleTimeout
        if check {
            Output.line("serve: \(approvers.approvers.count) approvers; store \(store.path); would listen on \(host):\(port)")
            return
        }
        try await ServeApp.run(configured, log: { Output.error($0) }) { bound in
            Output.error("serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)")
        }
    }
}
