import Foundation

/// Where a notification goes, or the proxy it goes through: an http(s) URL taken apart and checked, so
/// that nothing of it reaches the wire that could split a request line or a header (the host is a DNS
/// name of letters, digits, hyphens and dots, or an address). `described` names it without its path or
/// credentials: a Slack webhook's path is its secret, and errors are logged and stored.
struct WebhookEndpoint: Sendable {
    var secure: Bool
    /// A DNS name (lower case) or an address (an IPv6 one without brackets).
    var host: String
    var port: Int
    /// The host as an address's bytes (4 or 16), or nil for a name.
    var address: [UInt8]?
    /// The path and query, "/" when the URL has none.
    var path: String
    /// `user:password` in Base64, when the URL carries them.
    var credentials: String?

    init(url text: String, role: String) throws {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let raw = url.host(percentEncoded: true), !raw.isEmpty else {
            throw DeliveryError(message: "\(role) is not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw DeliveryError(message: "\(role) uses \(scheme.prefix(20)):, not http:// or https://")
        }
        secure = scheme == "https"
        let bare = raw.hasPrefix("[") && raw.hasSuffix("]") ? String(raw.dropFirst().dropLast()) : raw
        if let bytes = Self.addressBytes(bare) {
            address = bytes
            host = bare.lowercased()
        } else if Self.isDNSName(bare) {
            host = bare.lowercased()
        } else {
            throw DeliveryError(message: "the host of \(role) is neither a DNS name (letters, digits, hyphens, dots) nor an address")
        }
        port = url.port ?? (secure ? 443 : 80)
        guard (1...65535).contains(port) else { throw DeliveryError(message: "\(role) names port \(port) on \(host)") }
        let query = url.query(percentEncoded: true).map { "?" + $0 } ?? ""
        let rawPath = url.path(percentEncoded: true)
        path = (rawPath.isEmpty ? "/" : rawPath) + query
        guard path.hasPrefix("/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw DeliveryError(message: "the path of \(role) holds a space, a control character or a byte beyond ASCII")
        }
        if let user = url.user(percentEncoded: false) {
            credentials = Data("\(user):\(url.password(percentEncoded: false) ?? "")".utf8).base64EncodedString()
        }
    }

    /// scheme://host:port, without path or credentials.
    var described: String { "\(secure ? "https" : "http")://\(authority)" }

    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The Host header: the port only when it is not the scheme's own.
    var hostHeader: String {
        port == (secure ? 443 : 80) ? (host.contains(":") ? "[\(host)]" : host) : authority
    }

    /// The URL a proxy is sent for a plain http request.
    var absolute: String { "\(secure ? "https" : "http")://\(hostHeader)\(path)" }

    /// The proxy this endpoint is reached through, as curl reads the environment: `https_proxy` or
    /// `HTTPS_PROXY` for https, `http_proxy` (never `HTTP_PROXY`) for http, then `all_proxy`/`ALL_PROXY`;
    /// none when `no_proxy` (or, unset, `NO_PROXY`) names the host, a domain above it, its address or a
    /// block holding it (`10.0.0.0/8`), or is `*`. Only http:// proxies are spoken.
    func proxy(in environment: [String: String]) throws -> WebhookEndpoint? {
        let names = (secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]) + ["all_proxy", "ALL_PROXY"]
        guard let name = names.first(where: { !(environment[$0] ?? "").isEmpty }), let setting = environment[name] else { return nil }
        if let exempt = environment["no_proxy"] ?? environment["NO_PROXY"], Self.exempts(exempt, host: host, address: address) { return nil }
        let proxy = try WebhookEndpoint(url: setting.contains("://") ? setting : "http://" + setting, role: "the proxy setting \(name)")
        guard !proxy.secure else {
            throw DeliveryError(message: "the proxy setting \(name) is an https:// proxy, which this client does not speak; give an http:// one")
        }
        if secure, address != nil {
            // Through a tunnel the socket's peer is the proxy, so an address could not be checked against the certificate.
            throw DeliveryError(message: "\(described) is an address: through a proxy its certificate cannot be checked; name it by host name, or exempt it in no_proxy")
        }
        return proxy
    }

    /// Whether the comma-separated `list` exempts `host` from the proxy.
    static func exempts(_ list: String, host: String, address: [UInt8]?) -> Bool {
        // A fully qualified name's trailing dot does not make it another host (curl drops it too).
        let host = host.hasSuffix(".") ? String(host.dropLast()) : host
        for item in list.split(separator: ",") {
            var entry = item.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.hasSuffix("."), entry.count > 1 { entry.removeLast() }
            if entry.isEmpty { continue }
            if entry == "*" { return true }
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            if let slash = entry.firstIndex(of: "/") {
                guard let address, let block = addressBytes(String(entry[..<slash])), block.count == address.count,
                      let bits = Int(entry[entry.index(after: slash)...]), (0...(block.count * 8)).contains(bits) else { continue }
                if (0..<bits).allSatisfy({ bit in (address[bit / 8] ^ block[bit / 8]) & (0x80 >> (bit % 8)) == 0 }) { return true }
                continue
            }
            if let bytes = addressBytes(entry) {
                if bytes == address { return true }
                continue
            }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if address == nil, host == suffix || host.hasSuffix("." + suffix) { return true }
        }
        return false
    }

    /// The bytes of an IPv4 (dotted quad) or IPv6 address, or nil.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Letters, digits and hyphens in labels of 1–63, at most 253 in all, a trailing dot allowed; the last
    /// label not all digits (a resolver would read `10.1` as an address).
    static func isDNSName(_ text: String) -> Bool {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D }
        }) else { return false }
        return !(labels.last!.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
    }
}
