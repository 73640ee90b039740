import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// The scorer reads `fields_changed` of money writes from the body with the member index; it must read
/// what `json_extract` read (the query it replaces), and fail where that query failed.
@Suite("Store: the scorer's reading of value fields")
struct ScoringChunkTests {
    static func store(bodies: [String]) throws -> AuditStore {
        let store = try TestStores.temporarySQLite()
        try store.append(bodies.indices.map { i in
            AuditEvent(ts: Date(timeIntervalSince1970: 1_790_000_000 + Double(i)), tenant: "acme", actor: "agent-1", tool: "refunds.issue",
                       operation: "create", targets: [.number(Double(i))], rowCount: 1,
                       changes: [RowChange(key: .number(Double(i)), fields: ["amount": FieldChange(before: nil, after: .number(10))])],
                       reason: "refund approved per policy", idempotencyKey: "k\(i)", decision: "executed")
        })
        // Bodies a person with write access could leave: the chain breaks, and the scorer must still
        // read them as SQLite does.
        try store.write { tx in
            for (i, body) in bodies.enumerated() where !body.isEmpty {
                try tx.sql.execute("UPDATE audit_events SET body = ? WHERE seq = ?", [.text(body), .int(Int64(i + 1))])
            }
        }
        return store
    }

    static func scan(_ store: AuditStore) throws -> [JSONValue?] {
        var fields: [JSONValue?] = []
        try store.scanScoring(tenant: "acme", from: .distantPast, to: .distantFuture, valueFields: FieldRule.moneyWords, chunkSize: 2) { chunk in
            for i in 0..<chunk.count { fields.append(chunk.fieldsChanged(i)) }
            return true
        }
        return fields
    }

    @Test("fields_changed reads as json_extract gives it, for bodies the member index takes and those it declines")
    func likeJSONExtract() throws {
        let bodies = [
            "",  // as written
            #"{"fields_changed":{"amount":{"after":99}},"fields_changed":{"amount":{"after":1}}}"#,  // repeated: SQLite takes the first
            #"{"fields\u005fchanged":{"amount":{"after":5}}}"#,  // an escaped name: not fields_changed to SQLite 3.40
            #"{"fields_changed":"{\"amount\":{\"after\":7}}"}"#,  // a string holding JSON: json_extract gives the text, which parses
            #"{"fields_changed":[1,2]}"#, #"{"fields_changed":null}"#, #"{"ünknown":1,"fields_changed":{"amount":{"after":3}}}"#,
        ]
        let store = try Self.store(bodies: bodies)
        let expected = try store.read { sql in
            try sql.query("SELECT json_extract(body, '$.fields_changed') FROM audit_events ORDER BY seq").map { row in
                row.optionalString(0).flatMap { try? JSONValue.parse($0) }
            }
        }
        #expect(try Self.scan(store) == expected)
        #expect(expected[1]?["amount"]?["after"]?.doubleValue == 99 && expected[3]?["amount"]?["after"]?.doubleValue == 7)
    }

    @Test("a money write whose body is not JSON fails the reading, as the query did")
    func malformedFails() throws {
        let store = try Self.store(bodies: ["", #"{"fields_changed":{"amount":"#])
        #expect(throws: (any Error).self) { try Self.scan(store) }
    }
}
