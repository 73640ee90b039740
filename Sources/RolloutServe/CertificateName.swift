import NIOSSL

/// Whether a server's certificate names the host a notification was meant for. NIOSSL checks the chain;
/// its own name check also passes a certificate that names the address the socket reached, and through
/// a CONNECT tunnel that address is the proxy's. So the name is checked here: a host name against the
/// certificate's DNS names only, a wildcard as the whole left-most label of a name of three labels or
/// more; an address against its address entries only. A certificate without alternative names is
/// refused, as browsers do (its common name is not read).
enum CertificateName {
    static func check(_ certificate: NIOSSLCertificate?, for target: WebhookEndpoint) throws {
        guard let certificate else { throw DeliveryError(message: "\(target.described) showed no certificate") }
        var dnsNames: [String] = [], addresses: [[UInt8]] = []
        for name in certificate._subjectAlternativeNames() {
            let bytes = name.contents.withUnsafeBufferPointer { Array($0) }
            if name.nameType == .dnsName { dnsNames.append(String(decoding: bytes, as: UTF8.self)) }
            if name.nameType == .ipAddress { addresses.append(bytes) }
        }
        if let address = target.address {
            guard addresses.contains(address) else {
                throw DeliveryError(message: "the certificate of \(target.described) does not name that address")
            }
            return
        }
        guard dnsNames.contains(where: { matches($0, host: target.host) }) else {
            throw DeliveryError(message: "the certificate of \(target.described) does not name \(target.host) (its DNS names: \(dnsNames.isEmpty ? "none" : dnsNames.prefix(5).joined(separator: ", ")))")
        }
    }

    /// RFC 6125's rule, without partial-label wildcards.
    static func matches(_ pattern: String, host: String) -> Bool {
        func trimmed(_ name: String) -> String { (name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased() }
        let pattern = trimmed(pattern), host = trimmed(host)
        guard pattern.hasPrefix("*.") else { return !pattern.contains("*") && pattern == host }
        let rest = pattern.dropFirst(2)
        guard rest.split(separator: ".").count >= 2, !rest.contains("*"), let dot = host.firstIndex(of: ".") else { return false }
        return host[..<dot].isEmpty == false && host[host.index(after: dot)...] == rest
    }
}
