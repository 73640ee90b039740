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

    @Test("an integer a JSON number would round (beyond 2^53) reads as its exact decimal text; smaller ones as numbers", arguments: [
        (Int64(1) << 53, JSONValue.number(9_007_199_254_740_992)), ((Int64(1) << 53) + 1, .string("9007199254740993")),
        (-(Int64(1) << 53) - 1, .string("-9007199254740993")), (Int64.max, .string("9223372036854775807")), (Int64.min, .string("-9223372036854775808")),
        (42, .number(42)),
    ])
    func bigIntegers(stored: Int64, reads: JSONValue) throws {
        let path = TestPaths.temporaryDirectory("observer").path + "/demo.db"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, tenant_id TEXT, amount INTEGER)")
            try db.execute(sql: "INSERT INTO items VALUES (1, 'acme', ?)", arguments: [stored])
        }
        try queue.close()
        let model = ModelPolicy(name: "Item", table: "items", key: "id", tenantField: "tenant_id", fields: [FieldRule(name: "amount", type: .integer)])
        let observer = StateObserver(sqlitePath: path)
        #expect(try observer.rows(model, keys: [1])[0]?["amount"] == reads)
        #expect(try observer.allRows(model: model)[1]?["amount"] == reads)
    }

    @Test("an object or list field stored as JSON text reads as what it holds (then redacted member by member); other text stays text", arguments: [
        (FieldRule.ValueType.object, #"{"api_key":"sk-live-1","plan":"pro"}"#, JSONValue.object(["api_key": "sk-live-1", "plan": "pro"])),
        (.list, #"["a","b"]"#, .array(["a", "b"])),
        (.object, #"["a","b"]"#, .string(#"["a","b"]"#)),
        (.list, "not json", .string("not json")),
        (.list, "[1234567890123456789]", .string("[1234567890123456789]")),
        (.string, #"{"api_key":"sk-live-1"}"#, .string(#"{"api_key":"sk-live-1"}"#)),
    ])
    func structuredText(type: FieldRule.ValueType, stored: String, reads: JSONValue) throws {
        let path = TestPaths.temporaryDirectory("observer").path + "/demo.db"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, tenant_id TEXT, config TEXT)")
            try db.execute(sql: "INSERT INTO items VALUES (1, 'acme', ?)", arguments: [stored])
        }
        try queue.close()
        var rule = FieldRule(name: "config", type: type)
        if type == .list { rule.items = FieldRule(name: "config", type: .string) }
        let model = ModelPolicy(name: "Item", table: "items", key: "id", tenantField: "tenant_id", fields: [rule])
        let observer = StateObserver(sqlitePath: path)
        #expect(try observer.rows(model, keys: [1])[0]?["config"] == reads)
        #expect(try observer.allRows(model: model)[1]?["config"] == reads)
        if type == .object, case .object = reads {
            let shown = Redactor(key: []).redact(RowChange(key: 1, fields: ["config": FieldChange(before: nil, after: reads)]))
            #expect(shown.fields["config"]?.after?["plan"] == "pro" && shown.fields["config"]?.after?["api_key"] != "sk-live-1")
        }
    }
}
