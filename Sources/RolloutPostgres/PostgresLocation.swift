import Foundation
import RolloutStore

/// A PostgreSQL store URL, parsed (postgres-nio reads none):
/// `postgres://user[:password]@host[:port]/db[?sslmode=disable|prefer|require|verify-full][&schema=name]`,
/// also `postgresql://`. `schema` names the schema the store is in (`PostgresEngine` finds it on the search
/// path when none is named). User, password, database and schema are percent-decoded; a missing password comes from
/// `PGPASSWORD`; a host in brackets is an IPv6 address. Anything else is a `StoreError.badLocation`
/// naming what is wrong, never a guess.
public struct PostgresLocation: Sendable, Hashable {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// The schema the store is in, when the URL names one.
    public var schema: String?

    /// The URL as it may be shown: no password.
    public var redacted: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let schemaPart = schema.map { "&schema=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(hostPart):\(port)/\(database)?sslmode=\(sslMode.rawValue)\(schemaPart)"
    }

    public init(user: String, password: String?, host: String, port: Int = 5432, database: String, sslMode: SSLMode = .prefer, schema: String? = nil) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
        self.schema = schema
    }

    public static func parse(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresLocation {
        func bad(_ why: String) -> StoreError {
            StoreError.badLocation("--store \(StoreEngines.redacted(url)): \(why); the form is postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require|verify-full][&schema=name]")
        }
        guard let schemeEnd = url.range(of: "://") else { throw bad("not a URL") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else { throw bad("the scheme must be postgres or postgresql") }
        var rest = String(url[schemeEnd.upperBound...])
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = String(rest[..<mark])
        }
        guard let slash = rest.firstIndex(of: "/") else { throw bad("no database (…/database)") }
        let authority = String(rest[..<slash])
        let databaseText = String(rest[rest.index(after: slash)...])
        guard let database = databaseText.removingPercentEncoding, !database.isEmpty, !database.contains("/") else { throw bad("no database name") }

        guard let at = authority.lastIndex(of: "@") else { throw bad("no user (user@host)") }
        let credentials = String(authority[..<at])
        var hostPort = String(authority[authority.index(after: at)...])
        let userText: String, passwordText: String?
        if let colon = credentials.firstIndex(of: ":") {
            userText = String(credentials[..<colon])
            passwordText = String(credentials[credentials.index(after: colon)...])
        } else {
            userText = credentials
            passwordText = nil
        }
        guard let user = userText.removingPercentEncoding, !user.isEmpty else { throw bad("no user name") }
        let password = try passwordText.map { text -> String in
            guard let decoded = text.removingPercentEncoding else { throw bad("the password is not percent-encoded correctly") }
            return decoded
        } ?? environment["PGPASSWORD"]

        var port = 5432
        let host: String
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw bad("an IPv6 host needs its closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            hostPort = String(hostPort[hostPort.index(after: close)...])
            if !hostPort.isEmpty {
                guard hostPort.hasPrefix(":"), let p = Int(hostPort.dropFirst()), (1...65535).contains(p) else { throw bad("the port must be a number from 1 to 65535") }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { throw bad("the port must be a number from 1 to 65535") }
            port = p
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw bad("no host") }

        var sslMode = SSLMode.prefer
        var schema: String?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw bad("\(pair) is not name=value") }
            switch parts[0] {
            case "sslmode":
                guard let mode = SSLMode(rawValue: parts[1]) else { throw bad("sslmode \(parts[1]) is not one of disable, prefer, require, verify-full") }
                sslMode = mode
            case "schema":
                // PostgreSQL keeps 63 bytes of a name (NAMEDATALEN): a longer one would name another schema.
                guard let name = parts[1].removingPercentEncoding, !name.isEmpty, name.utf8.count <= 63, !name.contains("\u{0}") else {
                    throw bad("schema must be a schema's name, 1 to 63 bytes, percent-encoded")
                }
                schema = name
            default:
                throw bad("the parameter \(parts[0]) is not supported (only sslmode and schema)")
            }
        }
        return PostgresLocation(user: user, password: password, host: host, port: port, database: database, sslMode: sslMode, schema: schema)
    }
}
