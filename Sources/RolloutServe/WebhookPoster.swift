import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one HTTP/1.1 POST and reads the status of its answer: how `Notifier` reaches Slack and signed
/// webhooks. It runs on SwiftNIO, which the dashboard already serves on, rather than URLSession: on Linux
/// FoundationNetworking brings libcurl and some thirty libraries whose loading and set-up cost every
/// `rollout` process about 10 ms at start, whether it sends anything or not (`rollout status` has a 30 ms
/// budget).
///
/// What it keeps of URLSession, failing closed where it cannot: https with the system's trust roots, the
/// certificate checked against the host name by its DNS names only (or, for an address, its address
/// entries), before a byte of the request is sent; one deadline on the whole exchange, connecting
/// included; proxies as curl reads them (`https_proxy`/`HTTPS_PROXY` through a CONNECT tunnel,
/// `http_proxy` in lower case only since a CGI request's `Proxy:` header can set `HTTP_PROXY`,
/// `all_proxy`, `no_proxy`), with `user:password@` sent as Basic, to the proxy or the target. It follows no
/// redirect (a webhook that moved answers 3xx, a failed delivery), and its errors never quote a URL's path
/// or credentials: a Slack webhook's path is its secret.
public struct WebhookPoster: Sendable {
    /// PEM files of the roots a server's certificate must chain to; nil for the system's roots.
    public var trustRoots: [String]?
    /// Where the proxy settings are read from.
    public var environment: [String: String]

    public init(trustRoots: [String]? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.trustRoots = trustRoots
        self.environment = environment
    }

    /// Headers the request sets itself; a caller's would contradict its framing or its proxy.
    static let reservedHeaders: Set<String> = [
        "host", "content-length", "connection", "transfer-encoding", "te", "trailer", "upgrade", "keep-alive", "expect",
        "proxy-authorization", "proxy-connection",
    ]

    /// POSTs `body` to `url` with `headers`; returns the answer's status code (after any 1xx). Throws
    /// `DeliveryError` when the URL, a header or the timeout is unusable, the connection, the proxy or TLS
    /// fails, or no answer came within `timeout` seconds of the start.
    public func post(_ url: String, body: [UInt8], headers: [(String, String)], timeout: Double = 10) async throws -> Int {
        guard timeout.isFinite, timeout > 0 else { throw DeliveryError(message: "the timeout must be a positive number of seconds, not \(timeout)") }
        let budget = TimeAmount.nanoseconds(Int64(min(timeout, 86_400) * 1e9))
        let deadline = NIODeadline.now() + budget
        let target = try WebhookEndpoint(url: url, role: "the webhook URL")
        for (name, value) in headers {
            guard Self.isToken(name), !value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                throw DeliveryError(message: "the header \(Self.isToken(name) ? name : "with that name") cannot be sent: a name must be a token, a value must hold no control character")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw DeliveryError(message: "the header \(name) is the client's own to set")
            }
        }
        let proxy = try target.proxy(in: environment)
        let request = Self.request(target, body: body, headers: headers, proxy: target.secure ? nil : proxy)
        let tls = try target.secure ? context() : nil
        let hop = proxy ?? target

        let reader = HTTPHeadReader()
        // Direct https: TLS is first in the pipeline from the start, so no byte reaches the reader unchecked.
        let direct = target.secure && proxy == nil ? try Self.tlsHandler(tls!, for: target) : nil
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(budget)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let direct { try channel.pipeline.syncOperations.addHandler(direct.handler) }
                        try channel.pipeline.syncOperations.addHandler(reader)
                    }
                }
                .connect(host: hop.host, port: hop.port).get()
        } catch {
            throw DeliveryError(message: "could not connect to \(hop.described)\(proxy == nil ? "" : " (the proxy)"): \(error)")
        }
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            reader.timedOut = true
            channel.close(promise: nil)
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        do {
            var handler = direct
            if let proxy, let tls, target.secure {
                let tunnel = try Self.tlsHandler(tls, for: target)
                // TLS goes in as the proxy's answer ends, in the same turn of the loop: a byte after that answer
                // is refused rather than read as the server's (a proxy could otherwise forge the answer).
                reader.afterHead = { context, head, rest in
                    let status = try HTTPHeadReader.status(head)
                    guard (200..<300).contains(status) else {
                        throw DeliveryError(message: "the proxy \(proxy.described) refused the tunnel to \(target.described): HTTP \(status)")
                    }
                    guard rest == 0 else { throw DeliveryError(message: "the proxy \(proxy.described) sent bytes past its answer to CONNECT") }
                    try context.pipeline.syncOperations.addHandler(tunnel.handler, position: .first)
                }
                _ = try await exchange(channel, reader, bytes: Self.connect(target, proxy: proxy))
                handler = tunnel
            }
            if let handler {
                // The request waits for the handshake and the name check: a certificate for another name
                // never sees the body (it is signed, and may carry a reason or an argument).
                try await reader.handshake(on: channel)
                try await channel.eventLoop.submit { try CertificateName.check(handler.handler.peerCertificate, for: target) }.get()
            }
            var status = try HTTPHeadReader.status(try await exchange(channel, reader, bytes: request))
            // Interim answers (100 Continue, 103 Early Hints) come before the real one.
            while (100..<200).contains(status), status != 101 {
                status = try HTTPHeadReader.status(try await exchange(channel, reader, bytes: nil))
            }
            return status
        } catch {
            if reader.timedOut { throw DeliveryError(message: "no answer from \(target.described) within \(timeout) s") }
            if let error = error as? DeliveryError { throw error }
            throw DeliveryError(message: "\(target.described): \(error)")
        }
    }

    /// Writes `bytes` (nothing when nil) and waits for the head of the next answer.
    private func exchange(_ channel: any Channel, _ reader: HTTPHeadReader, bytes: [UInt8]?) async throws -> [UInt8] {
        let head = channel.eventLoop.makePromise(of: [UInt8].self)
        try await channel.eventLoop.submit {
            reader.expect(head)
            guard let bytes else { return }
            // A write that fails (a TLS handshake refused, say) says why better than the closed channel after it.
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { reader.record($0) }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: written)
        }.get()
        return try await head.futureResult.get()
    }

    /// The TLS handler for `target`, in a box the event loop's closures can carry.
    static func tlsHandler(_ context: NIOSSLContext, for target: WebhookEndpoint) throws -> TLSHandlerBox {
        TLSHandlerBox(handler: try NIOSSLClientHandler(context: context, serverHostname: target.address == nil ? target.host : nil))
    }

    private func context() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // The chain is checked here; the name after the handshake (`CertificateName`), because NIOSSL also
        // accepts a certificate naming the address the socket reached, which through a tunnel is the proxy's.
        configuration.certificateVerification = .noHostnameVerification
        if let trustRoots {
            var roots: [NIOSSLCertificate] = []
            for file in trustRoots {
                do {
                    roots += try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw DeliveryError(message: "the trust roots in \(file) cannot be read: \(error)")
                }
            }
            configuration.trustRoots = .certificates(roots)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw DeliveryError(message: "TLS cannot be set up: \(error)")
        }
    }

    static func request(_ target: WebhookEndpoint, body: [UInt8], headers: [(String, String)], proxy: WebhookEndpoint?) -> [UInt8] {
        var head = "POST \(proxy == nil ? target.path : target.absolute) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "user-agent" }) { head += "User-Agent: rollout\r\n" }
        if let credentials = target.credentials, !headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            head += "Authorization: Basic \(credentials)\r\n"
        }
        if let credentials = proxy?.credentials { head += "Proxy-Authorization: Basic \(credentials)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static func connect(_ target: WebhookEndpoint, proxy: WebhookEndpoint) -> [UInt8] {
        var head = "CONNECT \(target.authority) HTTP/1.1\r\nHost: \(target.authority)\r\n"
        if let credentials = proxy.credentials { head += "Proxy-Authorization: Basic \(credentials)\r\n" }
        return Array((head + "\r\n").utf8)
    }

    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

/// A TLS handler handed between the task and the channel's event loop; touched on the loop only.
struct TLSHandlerBox: @unchecked Sendable {
    let handler: NIOSSLClientHandler
}
