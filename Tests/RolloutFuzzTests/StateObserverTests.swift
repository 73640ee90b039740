import Foundation
import GRDB
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutMCP

/// The observer reads an upstream's rows by the keys a call names: keys come from an agent.
@Suite("State observer: rows by key, whatever number an agent gives as the key")
struct StateObserverTests {
    @Test("a key no integer can hold (past Int64, a fraction, negative, huge) finds no row and never traps; an exact one finds its row",
          arguments: [
              (JSONValue.number(1e19), false), (.number(-1e300), false), (.number(9.3e18), false), (.number(2.5), false),
              (.number(1), true), (.number(-0.0), false), (.string("1"), true),
          ])
    func keys(key: JSONValue, found: Bool) throws {
        let path = TestPaths.temporaryDirectory("observer").path + "/demo.db"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, tenant_id TEXT, name TEXT)")
            try db.execute(sql: "INSERT INTO items VALUES (1, 'acme', 'one'), (2, 'acme', 'two')")
        }
        try queue.close()
        let model = ModelPolicy(name: "Item", table: "items", key: "id", tenantField: "tenant_id",
                                fields: [FieldRule(name: "name", type: .string)])
        let rows = try StateObserver(sqlitePath: path).rows(model, keys: [key])
        #expect(rows.count == 1)
        #expect((rows[0]?["name"] == "one") == found, "\(key): \(String(describing: rows[0]))")
    }
}
