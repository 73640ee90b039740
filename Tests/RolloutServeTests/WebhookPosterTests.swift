import Foundation
import RolloutServe
import RolloutTestSupport
import Testing

/// The client notifications go out through: https checked against its trust roots and the host's name or
/// address, proxies as curl reads them, a deadline, and headers that cannot be smuggled; against Python's
/// own http.server (with its ssl module) and a small CONNECT proxy, with certificates made by openssl.
@Suite("webhook poster", .enabled(if: Subprocess.available("python3") && Subprocess.available("openssl"), "needs python3 and openssl"), .serialized)
struct WebhookPosterTests {
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
                                                                     headers: [("Content-Type", "application/json"), ("X-Rollout-Signature", "v1=abc")])
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

        #expect(try await trusting.post("https://localhost:\(port)/hook", body: Array("by name".utf8), headers: []) == 200)
        #expect(try await trusting.post("https://127.0.0.1:\(port)/hook", body: Array("by address".utf8), headers: []) == 200)
        #expect(Self.lines(file).compactMap { $0["body"] as? String } == ["by name", "by address"])

        // The system's roots do not hold the self-signed certificate.
        let untrusted = await Self.failure { try await WebhookPoster(environment: [:]).post("https://localhost:\(port)/hook", body: [], headers: []) }
        #expect(untrusted?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(untrusted ?? "")")
        // Trusted, but for another name.
        let misnamed = await Self.failure {
            try await WebhookPoster(trustRoots: [other.cert], environment: [:]).post("https://localhost:\(wrongPort)/hook", body: [], headers: [])
        }
        #expect(misnamed?.contains("failedToValidateHostname") == true, "\(misnamed ?? "")")
        // Plain http to an https port gets no HTTP answer.
        let mismatched = await Self.failure { try await WebhookPoster(environment: [:]).post("http://127.0.0.1:\(port)/hook", body: [], headers: [], timeout: 5) }
        #expect(mismatched != nil)
        #expect(Self.lines(file).count == 2, "nothing else reached the receiver")
    }

    @Test("https through https_proxy: a CONNECT tunnel with Basic credentials; no_proxy skips it; a refused tunnel is an error")
    func proxied() async throws {
        let dir = TestPaths.temporaryDirectory("poster-proxy").path
        let good = try Self.certificate(dir, "localhost", names: "DNS:localhost,IP:127.0.0.1")
        let (server, port, file) = try Self.receiver(dir, environment: ["CAPTURE_CERT": good.cert, "CAPTURE_KEY": good.key])
        defer { server.stop() }
        let (proxy, proxyPort, log) = try Self.proxy(dir)
        defer { proxy.stop() }

        let viaProxy = WebhookPoster(trustRoots: [good.cert], environment: ["HTTPS_PROXY": "http://ops:s%40cret@127.0.0.1:\(proxyPort)"])
        #expect(try await viaProxy.post("https://localhost:\(port)/hook", body: Array("tunnelled".utf8), headers: []) == 200)
        let tunnel = try #require(Self.lines(log).first)
        #expect(tunnel["line"] as? String == "CONNECT localhost:\(port) HTTP/1.1")
        #expect(tunnel["proxy_authorization"] as? String == "Basic " + Data("ops:s@cret".utf8).base64EncodedString())
        #expect(Self.lines(file).last?["body"] as? String == "tunnelled")

        let exempt = WebhookPoster(trustRoots: [good.cert], environment: ["https_proxy": "127.0.0.1:\(proxyPort)", "NO_PROXY": "example.com, .localhost"])
        #expect(try await exempt.post("https://localhost:\(port)/hook", body: Array("direct".utf8), headers: []) == 200)
        #expect(Self.lines(log).count == 1, "no_proxy kept the second post off the proxy")

        // An address cannot be checked against the certificate through a tunnel: refused before connecting.
        let byAddress = await Self.failure { try await viaProxy.post("https://127.0.0.1:\(port)/hook", body: [], headers: []) }
        #expect(byAddress?.contains("address") == true, "\(byAddress ?? "")")

        let (refusing, refusingPort, _) = try Self.proxy(dir, environment: ["PROXY_REFUSE": "1"])
        defer { refusing.stop() }
        let refused = await Self.failure {
            try await WebhookPoster(trustRoots: [good.cert], environment: ["https_proxy": "http://127.0.0.1:\(refusingPort)"])
                .post("https://localhost:\(port)/hook", body: [], headers: [])
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
        #expect(try await upper.post("http://127.0.0.1:\(port)/direct", body: Array("a".utf8), headers: []) == 200)
        #expect(Self.lines(log).isEmpty, "HTTP_PROXY is not read: a CGI request's Proxy header can set it")

        let lower = WebhookPoster(environment: ["http_proxy": "http://127.0.0.1:\(proxyPort)"])
        #expect(try await lower.post("http://127.0.0.1:\(port)/via?x=1", body: Array("b".utf8), headers: []) == 200)
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
        // The receiver logs the request before it hangs; on a loaded machine that may come after the deadline.
        for _ in 0..<100 where Self.lines(file).isEmpty { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(Self.lines(file).count == 1, "the request reached the receiver")
    }

    @Test("unusable input is refused before anything is sent", arguments: [
        ("ftp://example.com/hook", [(String, String)](), "not an http"),
        ("not a url", [], "not an http"),
        ("http://127.0.0.1:1/hook", [("X-Note", "a\r\nX-Injected: 1")], "cannot be sent"),
        ("http://127.0.0.1:1/hook", [("Bad Name", "v")], "cannot be sent"),
    ])
    func refused(url: String, headers: [(String, String)], expected: String) async {
        let error = await Self.failure { try await WebhookPoster(environment: [:]).post(url, body: [], headers: headers) }
        #expect(error?.contains(expected) == true, "\(error ?? "")")
    }

    @Test("an https proxy setting is refused rather than sent in the clear")
    func httpsProxySetting() async {
        let error = await Self.failure {
            try await WebhookPoster(environment: ["https_proxy": "https://proxy.example:8443"]).post("https://hooks.example/x", body: [], headers: [])
        }
        #expect(error?.contains("speaks https") == true, "\(error ?? "")")
    }
}
