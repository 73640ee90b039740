import Foundation
import RolloutCore
import RolloutReports
import Testing

/// The rows digest of a compliance report is taken over each call's canonical JSON line; the line is
/// written member by member for speed and must be byte for byte the canonical text of its object.
@Suite("Compliance rows: the JSON line is the canonical form")
struct ComplianceRowFormatTests {
    static let rows: [ComplianceRow] = [
        ComplianceRow(seq: 1, ts: "2026-11-01T00:00:00.000Z", tenant: "acme", actor: "agent-1", tool: "orders.update", operation: "update",
                      targets: "[42]", rowCount: 1, decision: "executed", reason: "carrier update", approver: nil, idempotencyKey: "k-1", message: nil),
        ComplianceRow(seq: 9_007_199_254_740_991, ts: "2026-11-01T00:00:00Z", tenant: "t\u{0}\"\\", actor: "ünïcødé 😀", tool: "a.b", operation: nil,
                      targets: "[\"a-3\",1.5e300,{\"z\":1,\"a\":[true,null]}]", rowCount: 0, decision: "cap_exceeded", reason: "=cmd|' /C calc'!A0",
                      approver: "maria", idempotencyKey: nil, message: "line\nbreak\ttab \u{2028}"),
        ComplianceRow(seq: 3, ts: "x", tenant: "", actor: "", tool: "", operation: "", targets: "not json", rowCount: 1_000_000_000,
                      decision: "rolled_back", reason: "", approver: "", idempotencyKey: "", message: ""),
    ]

    @Test("jsonLine is json(row).canonicalText and a newline", arguments: rows)
    func canonical(_ row: ComplianceRow) {
        #expect(ComplianceRowFormat.jsonLine(row) == ComplianceRowFormat.json(row).canonicalText + "\n")
    }
}
