import Foundation
import RolloutServe
import RolloutTestSupport
import Testing

/// The client notifications go out through: https checked against its trust roots and the host's name or
/// address, proxies as curl reads them, a deadline, and headers that cannot be smuggled; against Python's
/// own http.server (with its ssl module) and a small CONNECT proxy, with certificates made by openssl.
@Suite("webhook poster", .enabled(if: Subprocess.available("python3") && Subprocess.available("openssl"), "needs python3 and openssl"), .serialized)
struct WebhookPosterTests {
    /// The deadline of a post that should be answered (`Patience`). The deadline itself is tested with 0.5 s.
    static let patience = Patience.localAnswer

    /// A self-signed certificate and its key, for `names` (DNS:… or IP:…).
    static func certificate(_ dir: String, _ name: String, names: String) throws -> (cert: String, key: String) {
        let cert = "\(dir)/\(name).pem", key = "\(dir)/\(name).key"
        let made = try Subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                       "-subj", "/CN=\(name)", "-addext", "subjectAltName=\(names)"])
        #expect(made.status == 0, "\(made.stderr)")
        return (cert, key)
    }

    /// The capture server of the notifier's tests, on a free port; its environment picks https or hanging.
    static func receiver(_ dir: String, status: Int = 200, environment: [String: String] = [:]) throws -> (Background, Int, String) {
        let file = dir + "/received-\(UUID().uuidString).jsonl"
        let server = try Background(["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/http/capture_server.py").path, file],
                                    environment: environment.merging(["CAPTURE_STATUS": String(status)]) { a, _ in a })
        let port = try #require(Int(server.line(containing: "", in: server.stdout) ?? ""))
        return (server, port, file)
    }

    /// The capture server over https, with a certificate for `names` made for it.
    static func tlsReceiver(_ dir: String, names: String) throws -> (certificate: (cert: String, key: String), server: Background, port: Int, file: String) {
        let certificate = try certificate(dir, "receiver-\(UUID().uuidString.prefix(8))", names: names)
        let (server, port, file) = try receiver(dir, environment: ["CAPTURE_CERT": certificate.cert, "CAPTURE_KEY": certificate.key])
        return (certificate, server, port, file)
    }

    /// `raw_server.py`: answers `response` (Python escapes), after the request or, `early`, before it.
    static func raw(_ dir: String, response: String, early: Bool = false) throws -> (Background, Int, String) {
        let file = dir + "/raw-\(UUID().uuidString).jsonl"
        let server = try Background(["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/http/raw_server.py").path, file],
                                    environment: ["RAW_RESPONSE": response, "RAW_EARLY": early ? "1" : "0"])
        let port = try #require(Int(server.line(containing: "", in: server.stdout) ?? ""))
        return (server, port, file)
    }

    static func proxy(_ dir: String, environment: [String: String] = [:]) throws -> (Background, Int, String) {
        let file = dir + "/proxied-\(UUID().uuidString).jsonl"
        let server = try Background(["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/http/proxy_server.py").path, file],
                                    environment: environment)
        let port = try #require(Int(server.line(containing: "", in: server.stdout) ?? ""))
        return (server, port, file)
    }

    static func lines(_ file: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func failure(_ body: () async throws -> Int) async -> String? {
        do {
            let status = try await body()
            return status == 0 ? "status 0" : nil
        } catch {
            return String(describing: error)
        }
    }

    @Test("plain http: the body, its headers and the path with its query arrive; the answer's status is returned, past an interim 103")
    func plain() async throws {
        let dir = TestPaths.temporaryDirectory("poster").path
        let (server, port, file) = try Self.receiver(dir, status: 201, environment: ["CAPTURE_INTERIM": "1"])
        defer { server.stop() }
        let status = try await WebhookPoster(environment: [:]).post("http://127.0.0.1:\(port)/hook/a?b=c%20d", body: Array("{\"x\":1}".utf8),
                                                                     headers: [("Content-Type", "application/json"), ("X-Rollout-Signature", "v1=abc")],
                                                                     timeout: Self.patience)
        #expect(status == 201)
        let received = try #require(Self.lines(file).first)
        #expect(received["path"] as? String == "/hook/a?b=c%20d")
        #expect(received["body"] as? String == "{\"x\":1}")
        let headers = received["headers"] as? [String: String] ?? [:]
        #expect(headers["X-Rollout-Signature"] == "v1=abc" && headers["Content-Type"] == "application/json" && headers["Host"] == "127.0.0.1:\(port)", "\(headers)")
    }

    @Test("https: delivered when the certificate chains to a trusted root and names the host (or its address); refused otherwise")
    func https() async throws {
        let dir = TestPaths.temporaryDirectory("poster-tls").path
        let good = try Self.certificate(dir, "localhost", names: "DNS:localhost,IP:127.0.0.1")
        let other = try Self.certificate(dir, "other", names: "DNS:other.example")
        let (server, port, file) = try Self.receiver(dir, environment: ["CAPTURE_CERT": good.cert, "CAPTURE_KEY": good.key])
        defer { server.stop() }
        let (wrongServer, wrongPort, _) = try Self.receiver(dir, environment: ["CAPTURE_CERT": other.cert, "CAPTURE_KEY": other.key])
        defer { wrongServer.stop() }
        let trusting = WebhookPoster(trustRoots: [good.cert], environment: [:])

        #expect(try await trusting.post("https://localhost:\(port)/hook", body: Array("by name".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(try await trusting.post("https://127.0.0.1:\(port)/hook", body: Array("by address".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(Self.lines(file).compactMap { $0["body"] as? String } == ["by name", "by address"])

        // The system's roots do not hold the self-signed certificate.
        let untrusted = await Self.failure { try await WebhookPoster(environment: [:]).post("https://localhost:\(port)/hook", body: [], headers: [], timeout: Self.patience) }
        #expect(untrusted?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(untrusted ?? "")")
        // Trusted, but for another name.
        let misnamed = await Self.failure {
            try await WebhookPoster(trustRoots: [other.cert], environment: [:]).post("https://localhost:\(wrongPort)/hook", body: [], headers: [], timeout: Self.patience)
        }
        #expect(misnamed?.contains("does not name localhost") == true, "\(misnamed ?? "")")
        // Plain http to an https port gets no HTTP answer.
        let mismatched = await Self.failure { try await WebhookPoster(environment: [:]).post("http://127.0.0.1:\(port)/hook", body: [], headers: [], timeout: Self.patience) }
        #expect(mismatched != nil)
        #expect(Self.lines(file).count == 2, "nothing else reached the receiver")
    }

    @Test("https through https_proxy: a CONNECT tunnel with Basic credentials; no_proxy skips it; a refused tunnel is an error")
    func proxied() async throws {
        let dir = TestPaths.temporaryDirectory("poster-proxy").path
        let (good, server, port, file) = try Self.tlsReceiver(dir, names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        let (proxy, proxyPort, log) = try Self.proxy(dir)
        defer { proxy.stop() }

        let viaProxy = WebhookPoster(trustRoots: [good.cert], environment: ["HTTPS_PROXY": "http://ops:s%40cret@127.0.0.1:\(proxyPort)"])
        #expect(try await viaProxy.post("https://localhost:\(port)/hook", body: Array("tunnelled".utf8), headers: [], timeout: Self.patience) == 200)
        let tunnel = try #require(Self.lines(log).first)
        #expect(tunnel["line"] as? String == "CONNECT localhost:\(port) HTTP/1.1")
        #expect(tunnel["proxy_authorization"] as? String == "Basic " + Data("ops:s@cret".utf8).base64EncodedString())
        #expect(Self.lines(file).last?["body"] as? String == "tunnelled")

        let exempt = WebhookPoster(trustRoots: [good.cert], environment: ["https_proxy": "127.0.0.1:\(proxyPort)", "NO_PROXY": "example.com, .localhost"])
        #expect(try await exempt.post("https://localhost:\(port)/hook", body: Array("direct".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(Self.lines(log).count == 1, "no_proxy kept the second post off the proxy")

        // An address cannot be checked against the certificate through a tunnel: refused before connecting.
        let byAddress = await Self.failure { try await viaProxy.post("https://127.0.0.1:\(port)/hook", body: [], headers: [], timeout: Self.patience) }
        #expect(byAddress?.contains("address") == true, "\(byAddress ?? "")")

        let (refusing, refusingPort, _) = try Self.proxy(dir, environment: ["PROXY_REFUSE": "1"])
        defer { refusing.stop() }
        let refused = await Self.failure {
            try await WebhookPoster(trustRoots: [good.cert], environment: ["https_proxy": "http://127.0.0.1:\(refusingPort)"])
                .post("https://localhost:\(port)/hook", body: [], headers: [], timeout: Self.patience)
        }
        #expect(refused?.contains("403") == true, "\(refused ?? "")")
        #expect(Self.lines(file).count == 2)
    }

    @Test("http through http_proxy (lower case only, as curl): the absolute URL goes to the proxy")
    func plainProxy() async throws {
        let dir = TestPaths.temporaryDirectory("poster-http-proxy").path
        let (server, port, file) = try Self.receiver(dir)
        defer { server.stop() }
        let (proxy, proxyPort, log) = try Self.proxy(dir)
        defer { proxy.stop() }

        let upper = WebhookPoster(environment: ["HTTP_PROXY": "http://127.0.0.1:\(proxyPort)"])
        #expect(try await upper.post("http://127.0.0.1:\(port)/direct", body: Array("a".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(Self.lines(log).isEmpty, "HTTP_PROXY is not read: a CGI request's Proxy header can set it")

        let lower = WebhookPoster(environment: ["http_proxy": "http://127.0.0.1:\(proxyPort)"])
        #expect(try await lower.post("http://127.0.0.1:\(port)/via?x=1", body: Array("b".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(Self.lines(log).first?["line"] as? String == "POST http://127.0.0.1:\(port)/via?x=1 HTTP/1.1")
        #expect(Self.lines(file).map { $0["path"] as? String } == ["/direct", "/via?x=1"])
    }

    @Test("a receiver that never answers fails the post at its deadline")
    func deadline() async throws {
        let dir = TestPaths.temporaryDirectory("poster-hang").path
        let (server, port, file) = try Self.receiver(dir, environment: ["CAPTURE_HANG": "1"])
        defer { server.stop() }
        let error = await Self.failure { try await WebhookPoster(environment: [:]).post("http://127.0.0.1:\(port)/hook", body: Array("x".utf8), headers: [], timeout: 0.5) }
        #expect(error?.contains("no answer") == true, "\(error ?? "")")
        // The receiver logs the request before it hangs; on a loaded machine that may come after the deadline,
        // or never (CI, 2026-12-02: the post gave up before the receiver read it). The deadline is what is
        // tested here; the request is posted once at most, never retried.
        for _ in 0..<100 where Self.lines(file).isEmpty { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(Self.lines(file).count <= 1, "the request was posted once at most")
    }

    @Test("unusable input is refused before anything is sent", arguments: [
        ("ftp://example.com/hook", [(String, String)](), "uses ftp:, not http"),
        ("not a url", [], "is not a URL"),
        ("http://127.0.0.1:1/hook", [("X-Note", "a\r\nX-Injected: 1")], "cannot be sent"),
        ("http://127.0.0.1:1/hook", [("X-Note", "a\u{01}b")], "cannot be sent"),
        ("http://127.0.0.1:1/hook", [("Bad Name", "v")], "cannot be sent"),
        ("http://127.0.0.1:1/hook", [("Transfer-Encoding", "chunked")], "the client's own"),
        ("http://127.0.0.1:1/hook", [("host", "evil.example")], "the client's own"),
        ("http://localhost%00.evil.example:1/x", [], "neither a DNS name"),
        ("http://exa%2Fmple.com/x", [], "neither a DNS name"),
        ("https://example.com%3A8443/x", [], "neither a DNS name"),
        ("http://10.1/x", [], "neither a DNS name"),
        ("https://hooks.example:0/services/T0/B0/SECRETTOKEN", [], "names port 0"),
    ])
    func refused(url: String, headers: [(String, String)], expected: String) async {
        let error = await Self.failure { try await WebhookPoster(environment: [:]).post(url, body: [], headers: headers) }
        #expect(error?.contains(expected) == true, "\(error ?? "")")
        #expect(error?.contains("SECRETTOKEN") != true, "a webhook's path is its secret: \(error ?? "")")
    }

    @Test("a timeout that is not a positive number is refused", arguments: [0, -1, Double.infinity, Double.nan])
    func badTimeout(timeout: Double) async {
        let error = await Self.failure { try await WebhookPoster(environment: [:]).post("http://127.0.0.1:1/x", body: [], headers: [], timeout: timeout) }
        #expect(error?.contains("the timeout must be") == true, "\(error ?? "")")
    }

    @Test("trust roots that cannot be read are refused, naming their file")
    func unreadableRoots() async {
        let roots = await Self.failure {
            try await WebhookPoster(trustRoots: ["/nonexistent/roots.pem"], environment: [:]).post("https://localhost:1/x", body: [], headers: [], timeout: Self.patience)
        }
        #expect(roots?.contains("/nonexistent/roots.pem") == true, "\(roots ?? "")")
    }

    @Test("a proxy setting this client cannot speak is refused, and its credentials are never quoted", arguments: [
        "https://ops:hunter2@proxy.example:8443", "socks5://ops:hunter2@proxy.example:1080",
    ])
    func unspokenProxy(setting: String) async {
        let error = await Self.failure {
            try await WebhookPoster(environment: ["https_proxy": setting]).post("https://hooks.example/x", body: [], headers: [], timeout: Self.patience)
        }
        #expect(error?.contains("https_proxy") == true && error?.contains("hunter2") == false, "\(error ?? "")")
    }

    @Test("a proxy cannot forge the answer: bytes after its answer to CONNECT are refused, and later ones meet TLS", arguments: ["same", "separate"])
    func forgingProxy(forge: String) async throws {
        let dir = TestPaths.temporaryDirectory("poster-forge").path
        let good = try Self.certificate(dir, "localhost", names: "DNS:localhost")
        let (server, port, file) = try Self.receiver(dir, environment: ["CAPTURE_CERT": good.cert, "CAPTURE_KEY": good.key])
        defer { server.stop() }
        let (proxy, proxyPort, _) = try Self.proxy(dir, environment: ["PROXY_FORGE": forge])
        defer { proxy.stop() }
        let poster = WebhookPoster(trustRoots: [good.cert], environment: ["https_proxy": "http://127.0.0.1:\(proxyPort)"])
        for _ in 0..<5 {
            let error = await Self.failure { try await poster.post("https://localhost:\(port)/hook", body: Array("x".utf8), headers: [], timeout: Self.patience) }
            #expect(error != nil, "a forged 200 was taken for the server's answer")
            if forge == "same" { #expect(error?.contains("past its answer") == true, "\(error ?? "")") }
        }
        #expect(Self.lines(file).isEmpty, "nothing reached the receiver through a forging proxy")
    }

    @Test("an https server's plaintext answer, sent before the handshake, is never read as its answer")
    func earlyPlaintext() async throws {
        let dir = TestPaths.temporaryDirectory("poster-early").path
        let good = try Self.certificate(dir, "localhost", names: "DNS:localhost")
        let (server, port, _) = try Self.raw(dir, response: "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n", early: true)
        defer { server.stop() }
        for _ in 0..<20 {
            let error = await Self.failure {
                try await WebhookPoster(trustRoots: [good.cert], environment: [:]).post("https://localhost:\(port)/hook", body: [], headers: [], timeout: Self.patience)
            }
            #expect(error != nil)
        }
    }

    @Test("a certificate naming only an address is not taken for a host name, directly or through a proxy")
    func addressOnlyCertificate() async throws {
        let dir = TestPaths.temporaryDirectory("poster-ip-only").path
        let (ipOnly, server, port, file) = try Self.tlsReceiver(dir, names: "IP:127.0.0.1")
        defer { server.stop() }
        let (proxy, proxyPort, _) = try Self.proxy(dir)
        defer { proxy.stop() }
        let direct = await Self.failure {
            try await WebhookPoster(trustRoots: [ipOnly.cert], environment: [:]).post("https://localhost:\(port)/hook", body: Array("x".utf8), headers: [], timeout: Self.patience)
        }
        #expect(direct?.contains("does not name localhost") == true, "\(direct ?? "")")
        let tunnelled = await Self.failure {
            try await WebhookPoster(trustRoots: [ipOnly.cert], environment: ["https_proxy": "http://127.0.0.1:\(proxyPort)"])
                .post("https://localhost:\(port)/hook", body: Array("x".utf8), headers: [], timeout: Self.patience)
        }
        #expect(tunnelled?.contains("does not name localhost") == true, "\(tunnelled ?? "")")
        // By its address the same certificate is right.
        #expect(try await WebhookPoster(trustRoots: [ipOnly.cert], environment: [:]).post("https://127.0.0.1:\(port)/hook", body: Array("y".utf8), headers: [], timeout: Self.patience) == 200)
        #expect(Self.lines(file).compactMap { $0["body"] as? String } == ["y"], "the refused posts sent no body")
    }

    @Test("answers: LF-only heads are read; a status line that is not HTTP/1.x with three digits is refused", arguments: [
        ("HTTP/1.1 204 No Content\\n\\n", "204"),
        ("HTTP/1.0 202 Accepted\\r\\n\\r\\n", "202"),
        ("HTTP/1.1 +20 OK\\r\\n\\r\\n", "not HTTP/1.x"),
        ("HTTP/1.1 099 Odd\\r\\n\\r\\n", "99"),
        ("HTTP/1.10 200 OK\\r\\n\\r\\n", "not HTTP/1.x"),
        ("HTTP/1.1 2000 OK\\r\\n\\r\\n", "not HTTP/1.x"),
        ("ICY 200 OK\\r\\n\\r\\n", "not HTTP/1.x"),
        ("HTTP/1.1 +20 \\x1b[31mFAKE\\x1b[0m\\r\\n\\r\\n", "?[31mFAKE?[0m"),  // quoted without its escapes
    ])
    func answers(response: String, expected: String) async throws {
        let dir = TestPaths.temporaryDirectory("poster-answers").path
        let (server, port, _) = try Self.raw(dir, response: response)
        defer { server.stop() }
        do {
            let status = try await WebhookPoster(environment: [:]).post("http://127.0.0.1:\(port)/x", body: [], headers: [], timeout: Self.patience)
            #expect(String(status) == expected)
        } catch {
            #expect(String(describing: error).contains(expected), "\(error)")
        }
    }

    @Test("credentials in the webhook URL go as Basic; no_proxy exempts an address by its block")
    func credentialsAndBlocks() async throws {
        let dir = TestPaths.temporaryDirectory("poster-basic").path
        let (server, port, file) = try Self.raw(dir, response: "HTTP/1.1 200 OK\\r\\n\\r\\n")
        defer { server.stop() }
        let (proxy, proxyPort, log) = try Self.proxy(dir)
        defer { proxy.stop() }
        let poster = WebhookPoster(environment: ["http_proxy": "http://127.0.0.1:\(proxyPort)", "no_proxy": "10.0.0.0/8, 127.0.0.0/8"])
        #expect(try await poster.post("http://hook:p%40ss@127.0.0.1:\(port)/x", body: [], headers: [], timeout: Self.patience) == 200)
        let headers = Self.lines(file).first?["headers"] as? [String: String] ?? [:]
        #expect(headers["Authorization"] == "Basic " + Data("hook:p@ss".utf8).base64EncodedString(), "\(headers)")
        #expect(Self.lines(log).isEmpty, "127.0.0.0/8 exempted 127.0.0.1")
    }
}
