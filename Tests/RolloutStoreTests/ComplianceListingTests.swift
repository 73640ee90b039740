import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// The compliance listing reads `targets` and `message` from the body itself on SQLite; it must give
/// what SQLite's `json_extract` gave, value by value, and the same rows as the query that used it.
@Suite("Store: the compliance listing reads members as json_extract does")
struct ComplianceListingTests {
    static let values = [
        "[1,2]", "[]", "{}", "[\"a\\\"b\",\"c\\\\d\"]", "[\"é\",\"日本\"]", "[{\"id\":1,\"k\":\"v\"}]", "[1.5,-2,1e+21,0.1]", "[null,true]",
        "[\"\\u0001\\u2028 😀\"]", "\"plain\"", "\"quote \\\" and \\\\ and \\n\"", "\"\"", "\"\\u00e9\"", "42", "-0", "3.5", "1e300", "1E5",
        "12345678901234567890", "-9223372036854775808", "true", "false", "null", "{\"a\":[1,\"x\\\"y\"]}",
    ]

    @Test("a member's value reads as json_extract returns it", arguments: values)
    func extractedLikeSQLite(value: String) throws {
        let store = try TestStores.temporarySQLite()
        let body = "{\"message\":\(value),\"targets\":\(value)}"
        let sqlite = try store.read { sql in try sql.queryOne("SELECT json_extract(?, '$.targets')", [.text(body)])?.optionalString(0) }
        let ours = try #require(Array(body.utf8).withUnsafeBufferPointer { JSONMembers($0)?.raw("targets").map(JSONExtract.value) })
        #expect(ours == sqlite)
    }

    @Test("rows listed from the body equal those of json_extract, also for bodies the member index declines")
    func listingMatchesQuery() throws {
        let store = try TestStores.temporarySQLite()
        var events: [AuditEvent] = []
        for (i, value) in Self.values.enumerated() {
            let targets = (try? JSONValue.parse(value)).flatMap { $0.arrayValue } ?? [.number(Double(i))]
            let message = (try? JSONValue.parse(value))?.stringValue
            // Every third event carries an unknown member whose name is not plain ASCII: the index declines it.
            let extra: [String: JSONValue] = i % 3 == 0 ? ["ünknown": .string("x")] : i % 3 == 1 ? ["we\\ird": .number(1)] : [:]
            events.append(AuditEvent(ts: Date(timeIntervalSince1970: 1_790_000_000 + Double(i)), tenant: "acme", actor: "agent-1", tool: "orders.update",
                                     operation: "update", targets: targets, rowCount: 1, reason: "customer asked by email", idempotencyKey: "k\(i)",
                                     decision: "denied", message: message, extra: extra))
        }
        try store.append(events)
        let scope = ComplianceScope(from: Date(timeIntervalSince1970: 1_780_000_000), to: Date(timeIntervalSince1970: 1_800_000_000))
        var listed: [ComplianceRow] = []
        var details: [AuditEvent] = []
        try store.scanCompliance(scope, details: ComplianceDetails(decisions: ["denied"])) { row, event in
            listed.append(row)
            if let event = try event() { details.append(event) }
        }
        let expected = try store.read { sql in
            try sql.query("SELECT json_extract(body, '$.targets'), json_extract(body, '$.message') FROM audit_events ORDER BY seq")
        }
        #expect(listed.count == events.count)
        #expect(listed.map(\.targets) == expected.map { $0.optionalString(0) ?? "[]" })
        #expect(listed.map(\.message) == expected.map { $0.optionalString(1) })
        #expect(listed.contains { $0.message?.contains("\n") == true } && listed.contains { $0.targets.contains("日本") })
        // The rows asked for in detail come whole, as the store reads each event.
        #expect(details.count == events.count)
        #expect(try details.map(\.seq) == listed.map(\.seq) && details.map { try store.event(seq: $0.seq) } == details)
    }
}

@Suite("Control events are rollout's own stage changes, not any call to a tool named rollout.*")
struct ControlEventTests {
    @Test("an agent's refused call to a tool it names rollout.stage is listed, shown and scored as agent traffic; a stage change is not")
    func agentCallsNamedLikeControl() throws {
        let store = try TestStores.temporarySQLite()
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        func event(_ i: Int, tool: String, decision: String) -> AuditEvent {
            AuditEvent(ts: start.addingTimeInterval(Double(i)), tenant: "acme", actor: "agent-1", tool: tool, reason: "r", decision: decision)
        }
        try store.append([
            event(0, tool: "orders.update", decision: "executed"),
            event(1, tool: "rollout.stage", decision: "stage_promote"),
            event(2, tool: "rollout.stage", decision: "tool_unknown"),
            event(3, tool: "rollout.refunds", decision: "executed"),
        ])
        let scope = ComplianceScope(from: start.addingTimeInterval(-60), to: start.addingTimeInterval(60))
        var calls: [Int64] = [], control: [Int64] = []
        try store.scanCompliance(scope, control: { control.append($0.seq) }) { row, _ in calls.append(row.seq) }
        #expect(calls == [1, 3, 4] && control == [2])
        let page = try store.dashboard(DashboardQuery(from: scope.from, to: scope.to))
        #expect(page.rows.map(\.seq).sorted() == [1, 3, 4])
        var scored: [Int64] = []
        try store.scanScoring(tenant: "acme", from: scope.from, to: scope.to) { chunk in
            scored += chunk.seqs
            return true
        }
        #expect(scored == [1, 3, 4])
    }
}

@Suite("report --verify: a call a report should have listed, past where it says it stopped")
struct FirstCallTests {
    @Test("the first call of the period and scope after an event, imported ones included; control events and other tenants do not count")
    func firstCall() throws {
        let store = try TestStores.temporarySQLite()
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        func event(_ minutes: Double, tool: String = "orders.update", decision: String = "executed", imported: Bool = false) -> AuditEvent {
            AuditEvent(ts: start.addingTimeInterval(minutes * 60), tenant: "acme", actor: "agent-1", tool: tool, reason: "r", decision: decision,
                       details: imported ? ["imported": "old.jsonl"] : [:])
        }
        // 1, 2: listed; 3: a stage change; 4: imported later with a time in the period; 5: a call at minute 30; 6: after the period.
        try store.append([event(1), event(2), event(20, tool: "rollout.stage", decision: "stage_promote"), event(10, imported: true), event(30), event(90)])
        let scope = ComplianceScope(from: start, to: start.addingTimeInterval(3600))
        #expect(try store.firstCall(scope, after: 2) == 4, "an imported call of the period is not listed either")
        #expect(try store.firstCall(scope, after: 4) == 5)
        #expect(try store.firstCall(scope, after: 5) == nil, "a call after the period is not the report's")
        #expect(try store.firstCall(ComplianceScope(from: start, to: start.addingTimeInterval(3600), tenants: ["globex"]), after: 0) == nil, "another tenant's scope")
    }
}
