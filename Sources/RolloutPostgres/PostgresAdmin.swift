import Foundation
import NIOPosix
import PostgresNIO
import RolloutStore

/// What a store cannot do inside a transaction: create and drop whole databases (for tests, benchmarks
/// and a team's first set-up). Connects to `location`'s database to run them.
public enum PostgresAdmin {
    public static func createDatabase(_ name: String, at location: PostgresLocation) throws {
        try run("CREATE DATABASE \(PostgresEngine.quote(name))", at: location)
    }

    public static func dropDatabase(_ name: String, at location: PostgresLocation) throws {
        try run("DROP DATABASE IF EXISTS \(PostgresEngine.quote(name)) WITH (FORCE)", at: location)
    }

    static func run(_ statement: String, at location: PostgresLocation) throws {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
            tls: .disable)
        do {
            let connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                            id: 2, logger: PostgresEngine.logger).wait()
            defer { try? connection.close().wait() }
            _ = try connection.query(PostgresQuery(unsafeSQL: statement), logger: PostgresEngine.logger).wait()
        } catch {
            throw StoreError.server(location: location.redacted, message: String(describing: error))
        }
    }
}
