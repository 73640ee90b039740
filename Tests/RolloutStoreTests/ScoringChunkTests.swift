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

@Suite("Store: one scan for several tenants")
struct ScoringScanTogetherTests {
    /// Each tenant's events as a scan reads them: sequence, time, tool, actor and fields, in order.
    struct Seen: Equatable {
        var seq: Int64, ms: Int64, tool: String, actor: String, fields: JSONValue?
    }

    @Test("each tenant's events come in the order of its own scan, ties by tool, actor and sequence, in chunks of any size",
          arguments: [1, 3, 4_096])
    func sameOrderAsAlone(chunkSize: Int) throws {
        // Four tenants (two of them one name in two Unicode forms: two tenants to SQL), interleaved, with
        // many events at one millisecond within a tenant and across tenants, in an order that is neither
        // the ties' nor the sequence's; rollout's own events among them.
        let tenants = ["acme", "globex", "caf\u{E9}", "cafe\u{301}"]
        let tools = ["orders.update", "refunds.issue", "b.tool", "a.tool", "rollout.stage"]
        let actors = ["zed", "agent-2", "agent-10", "Agent-1"]
        var random = SeededRandom(seed: 3)
        let events = (0..<900).map { i in
            let tool = tools.randomElement(using: &random)!
            let at = Date(timeIntervalSince1970: 1_790_000_000 + Double(i / 7) * (i % 3 == 0 ? 0 : 0.001))
            return AuditEvent(ts: at, tenant: tenants.randomElement(using: &random)!, actor: actors.randomElement(using: &random)!, tool: tool,
                              operation: "create", targets: [.number(Double(i))], rowCount: 1,
                              changes: [RowChange(key: .number(Double(i)), fields: ["amount": FieldChange(before: nil, after: .number(Double(i)))])],
                              reason: "refund approved per policy", idempotencyKey: "k\(i)",
                              decision: tool == "rollout.stage" ? "stage_promote" : i % 5 == 0 ? "denied" : "executed")
        }
        let store = try TestStores.temporarySQLite()
        try store.append(events)
        // Rows changed by hand: times made reals between the integers (equal among themselves: ties),
        // and tenants made blobs of the same bytes (not the tenant to `tenant = ?`).
        try store.write { tx in
            try tx.sql.execute("UPDATE audit_events SET ts_ms = ts_ms + 0.5 WHERE seq % 11 = 0")
            try tx.sql.execute("UPDATE audit_events SET tenant = CAST(tenant AS BLOB) WHERE seq % 13 = 0")
        }
        func seen(_ chunk: ScoringChunk, _ i: Int) -> Seen {
            chunk.bytes.withUnsafeBytes { all in
                func text(_ column: ScoringChunk.Text) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: all[chunk.span(column, i)!]), as: UTF8.self) }
                return Seen(seq: chunk.seqs[i], ms: chunk.times[i], tool: text(.tool), actor: text(.actor), fields: chunk.fieldsChanged(i))
            }
        }
        var together = [[Seen]](repeating: [], count: tenants.count)
        try store.scanScoring(tenants: tenants, from: .distantPast, to: .distantFuture, valueFields: FieldRule.moneyWords, chunkSize: chunkSize) { chunk in
            #expect(chunk.tenants.count == chunk.count)
            for i in 0..<chunk.count { together[Int(chunk.tenants[i])].append(seen(chunk, i)) }
            return true
        }
        for (index, tenant) in tenants.enumerated() {
            var alone: [Seen] = []
            try store.scanScoring(tenant: tenant, from: .distantPast, to: .distantFuture, valueFields: FieldRule.moneyWords) { chunk in
                for i in 0..<chunk.count { alone.append(seen(chunk, i)) }
                return true
            }
            #expect(!alone.isEmpty && together[index] == alone, "\(tenant.debugDescription)")
        }
        // The ties are there to be ordered, and the control events are left out.
        let all = together.flatMap { $0 }
        #expect(Dictionary(grouping: all, by: \.ms).values.contains { $0.count > 5 })
        #expect(!all.contains { $0.tool.hasPrefix("rollout.") })
        #expect(all.count == events.indices.filter { !events[$0].tool.hasPrefix("rollout.") && ($0 + 1) % 13 != 0 }.count)
        // A tenant not asked for is not read.
        var some = 0
        try store.scanScoring(tenants: ["globex"], from: .distantPast, to: .distantFuture) { chunk in
            some += chunk.count
            return true
        }
        #expect(some == together[1].count)
    }
}
