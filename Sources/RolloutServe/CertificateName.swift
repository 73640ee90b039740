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
            throw DeliveryError(message: "the certificate of \(target.described) does not name \(target.host) (its DNS names: \(dnsNames.isEmpty ? "none" : DeliveryError.printable(dnsNames.prefix(5).joined(separator: ", "))))")
        }
    }

    /// RFC 6125's rule, without partial-label wildcards, on bytes: a name with anything but ASCII letters,
    /// digits, hyphens, dots (and a leading `*.`) matches nothing, and case is folded for ASCII only (a
    /// Kelvin sign is not a K, whatever Unicode says).
    static func matches(_ pattern: String, host: String) -> Bool {
        func folded(_ name: String) -> [UInt8]? {
            var bytes = Array(name.utf8)
            if bytes.last == 0x2E { bytes.removeLast() }
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 == 0x2A || $0 == 0x2D || $0 == 0x2E || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                return nil
            }
            return bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        }
        guard let pattern = folded(pattern), let host = folded(host), !host.contains(0x2A) else { return false }
        guard pattern.starts(with: [0x2A, 0x2E]) else { return !pattern.contains(0x2A) && pattern == host }
        let rest = Array(pattern.dropFirst(2))
        guard rest.split(separator: 0x2E).count >= 2, !rest.contains(0x2A), let dot = host.firstIndex(of: 0x2E), dot > 0 else { return false }
        return Array(host[(dot + 1)...]) == rest
    }
}
