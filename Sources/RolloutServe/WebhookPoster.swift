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
/// What it keeps of URLSession: https with the system's trust roots, the certificate checked against the
/// host name (or, for an address, against the address); a deadline on the whole exchange; `https_proxy`/
/// `HTTPS_PROXY` (a CONNECT tunnel), `http_proxy` (lower case only, as curl: `HTTP_PROXY` can be set by a
/// CGI request's `Proxy:` header) and `no_proxy`/`NO_PROXY`, with `user:password@` sent as Basic. It
/// follows no redirect: a webhook that moved answers 3xx, which is reported as a failed delivery.
public struct WebhookPoster: Sendable {
    /// PEM files of the roots a server's certificate must chain to; nil for the system's roots.
    public var trustRoots: [String]?
    /// Where the proxy settings are read from.
    public var environment: [String: String]

    public init(trustRoots: [String]? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.trustRoots = trustRoots
        self.environment = environment
    }

    /// POSTs `body` to `url` with `headers`; returns the answer's status code. Throws `DeliveryError` when
    /// the URL or a header is unusable, the connection or TLS fails, or no answer came within `timeout` seconds.
    public func post(_ url: String, body: [UInt8], headers: [(String, String)], timeout: Double = 10) async throws -> Int {
        let target = try Endpoint(url: url)
        for (name, value) in headers where !Self.isToken(name) || value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw DeliveryError(message: "the header \(name) cannot be sent (a name must be a token, a value must hold no CR, LF or NUL)")
        }
        let proxy = try self.proxy(for: target)
        let request = Self.request(target, body: body, headers: headers, viaProxy: proxy != nil && !target.secure, proxy: proxy)
        let tls: NIOSSLContext? = target.secure ? try context() : nil
        let hop = proxy.map { ($0.host, $0.port) } ?? (target.host, target.port)

        let reader = HeadReader()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(max(timeout, 0.001) * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
                }
                .connect(host: hop.0, port: hop.1).get()
        } catch {
            throw DeliveryError(message: "could not connect to \(hop.0):\(hop.1)\(proxy == nil ? "" : " (the proxy)"): \(error)")
        }
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(max(timeout, 0.001) * 1000))) {
            reader.timedOut = true
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        do {
            if let proxy, target.secure {
                let head = try await exchange(channel, reader, bytes: Self.connect(target, proxy: proxy))
                let status = try Self.status(head)
                guard (200..<300).contains(status) else {
                    throw DeliveryError(message: "the proxy \(proxy.host):\(proxy.port) refused the tunnel to \(target.host):\(target.port): HTTP \(status)")
                }
            }
            if let tls {
                let handler = try NIOSSLClientHandler(context: tls, serverHostname: target.isAddress ? nil : target.host)
                try await channel.eventLoop.submit { try channel.pipeline.syncOperations.addHandler(handler, position: .first) }.get()
            }
            var status = try Self.status(try await exchange(channel, reader, bytes: request))
            // Interim answers (100 Continue, 103 Early Hints) come before the real one.
            while (100..<200).contains(status), status != 101 {
                status = try Self.status(try await exchange(channel, reader, bytes: nil))
            }
            return status
        } catch {
            if reader.timedOut { throw DeliveryError(message: "no answer from \(target.host):\(target.port) within \(timeout) s") }
            if let error = error as? DeliveryError { throw error }
            throw DeliveryError(message: "\(target.host):\(target.port): \(error)")
        }
    }

    /// Writes `bytes` (nothing when nil) and waits for the head of the next answer (up to its blank line).
    private func exchange(_ channel: any Channel, _ reader: HeadReader, bytes: [UInt8]?) async throws -> [UInt8] {
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

    private func context() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let trustRoots {
            configuration.trustRoots = .certificates(try trustRoots.flatMap { try NIOSSLCertificate.fromPEMFile($0) })
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The proxy `target` goes through, or nil.
    func proxy(for target: Endpoint) throws -> Endpoint? {
        let names = target.secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]
        guard let setting = names.lazy.compactMap({ self.environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let exempt = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let host = target.host.lowercased()
        for entry in exempt {
            if entry == "*" { return nil }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == suffix || host.hasSuffix("." + suffix) { return nil }
        }
        let proxy = try Endpoint(url: setting.contains("://") ? setting : "http://" + setting)
        guard !proxy.secure else {
            throw DeliveryError(message: "the proxy \(setting) speaks https, which this client does not; give an http:// proxy")
        }
        if target.secure, target.isAddress {
            // Through a tunnel the socket's peer is the proxy, so an address could not be checked against the certificate.
            throw DeliveryError(message: "\(target.host) is an address: through a proxy its certificate cannot be checked; name it by host name, or exempt it in no_proxy")
        }
        return proxy
    }

    static func request(_ target: Endpoint, body: [UInt8], headers: [(String, String)], viaProxy: Bool, proxy: Endpoint?) -> [UInt8] {
        var head = "POST \(viaProxy ? target.absolute : target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\nUser-Agent: rollout\r\n"
        if viaProxy, let credentials = proxy?.credentials { head += "Proxy-Authorization: Basic \(credentials)\r\n" }
        for (name, value) in headers where !["host", "content-length", "connection"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        return Array((head + "\r\n").utf8) + body
    }

    static func connect(_ target: Endpoint, proxy: Endpoint) -> [UInt8] {
        var head = "CONNECT \(target.authority) HTTP/1.1\r\nHost: \(target.authority)\r\n"
        if let credentials = proxy.credentials { head += "Proxy-Authorization: Basic \(credentials)\r\n" }
        return Array((head + "\r\n").utf8)
    }

    /// The status code of an answer's head: `HTTP/1.x NNN ...`.
    static func status(_ head: [UInt8]) throws -> Int {
        let line = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]) else {
            throw DeliveryError(message: "the answer is not HTTP/1.x: \(line.prefix(80))")
        }
        return code
    }

    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

/// Where a request goes: scheme, host, port and path of an http(s) URL.
struct Endpoint: Sendable {
    var secure: Bool
    var host: String
    var port: Int
    /// The path and query, "/" when the URL has none.
    var path: String
    var absolute: String
    /// `user:password` in Base64, when the URL carries them.
    var credentials: String?

    init(url text: String) throws {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host(percentEncoded: false), !host.isEmpty else {
            throw DeliveryError(message: "\(text) is not an http:// or https:// URL")
        }
        secure = scheme == "https"
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = url.port ?? (secure ? 443 : 80)
        guard (1...65535).contains(port) else { throw DeliveryError(message: "\(text) names port \(port)") }
        let query = url.query(percentEncoded: true).map { "?" + $0 } ?? ""
        let rawPath = url.path(percentEncoded: true)
        path = (rawPath.isEmpty ? "/" : rawPath) + query
        guard !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { throw DeliveryError(message: "\(text) holds a space or a control character in its path") }
        absolute = "\(scheme)://\(Self.authority(self.host, port))\(path)"
        if let user = url.user(percentEncoded: false) {
            credentials = Data("\(user):\(url.password(percentEncoded: false) ?? "")".utf8).base64EncodedString()
        }
    }

    var isAddress: Bool { host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil } }

    var authority: String { Self.authority(host, port) }

    /// The Host header: the port only when it is not the scheme's own.
    var hostHeader: String {
        port == (secure ? 443 : 80) ? (host.contains(":") ? "[\(host)]" : host) : authority
    }

    static func authority(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Collects what the server sends and hands over the head of each answer (up to its blank line). Lives on
/// the channel's event loop: every call is made there.
final class HeadReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var received: [UInt8] = []
    private var waiting: EventLoopPromise<[UInt8]>?
    private var closed = false
    /// The first error the pipeline or a write reported: what a closed channel is blamed on.
    private var failure: (any Error)?
    private let lock = NSLock()
    private var expired = false
    /// Set when the deadline closed the channel; read from the task that waited.
    var timedOut: Bool {
        get { lock.withLock { expired } }
        set { lock.withLock { expired = newValue } }
    }
    /// An answer's head longer than this is refused.
    static let limit = 64 * 1024

    func expect(_ promise: EventLoopPromise<[UInt8]>) {
        waiting = promise
        deliver()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { received += bytes }
        deliver()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        // The errors of the close (pending writes failed with the handshake's error) come in this same turn
        // of the loop: answer after them, so the error names the cause rather than the closing.
        context.eventLoop.execute { self.deliver() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        record(error)
        context.close(promise: nil)
    }

    /// Keeps the first error; a waiting answer fails with it.
    func record(_ error: any Error) {
        if failure == nil { failure = error }
        deliver()
    }

    private func deliver() {
        guard let promise = waiting else { return }
        if let end = Self.endOfHead(received) {
            waiting = nil
            let head = Array(received[..<end])
            received.removeFirst(end)
            promise.succeed(head)
        } else if received.count > Self.limit {
            waiting = nil
            promise.fail(DeliveryError(message: "the answer's head is longer than \(Self.limit) bytes"))
        } else if timedOut {
            waiting = nil
            promise.fail(DeliveryError(message: "no answer within the deadline"))
        } else if let failure {
            waiting = nil
            promise.fail(failure)
        } else if closed {
            waiting = nil
            promise.fail(DeliveryError(message: "the connection closed before an answer came"))
        }
    }

    /// The index just past the first CR LF CR LF, or nil.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}
