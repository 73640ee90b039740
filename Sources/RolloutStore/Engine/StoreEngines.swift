import Foundation

/// The engines a store URL can name, by scheme. SQLite files need no entry; the PostgreSQL engine
/// (its own target, so the NIO stack stays out of this library) registers `postgres` and `postgresql`
/// when the program starts.
public enum StoreEngines {
    /// Opens the store at a URL: (url, create, readOnly, busyTimeout).
    public typealias Factory = @Sendable (String, Bool, Bool, Double) throws -> any StoreEngine

    private static let lock = NSLock()
    nonisolated(unsafe) private static var factories: [String: Factory] = [:]

    public static func register(scheme: String, _ factory: @escaping Factory) {
        lock.withLock { factories[scheme.lowercased()] = factory }
    }

    static func factory(_ scheme: String) -> Factory? {
        lock.withLock { factories[scheme.lowercased()] }
    }

    static var schemes: [String] {
        lock.withLock { factories.keys.sorted() }
    }

    /// A URL as it may be shown: its password replaced by `***` (up to the last `@`, where the URL's parser
    /// ends the credentials: a password may hold an `@`).
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
