import Foundation
import RolloutCore
import RolloutReports
import Testing

/// The rows digest of a compliance report is taken over each call's canonical JSON line; the line is
/// written member by member for speed and must be byte for byte the canonical text of its object. The
/// CSV record is written as bytes for speed too, and must still quote as RFC 4180 says and defuse what a
/// spreadsheet would run.
@Suite("Compliance rows: the JSON line is the canonical form, the CSV record quotes and defuses")
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

    /// Formula-like agent text in several cells: an apostrophe first, inside the quotes when the cell needs them.
    static let formulas = ComplianceRow(seq: 4, ts: "t", tenant: "acme", actor: "@SUM(A1)", tool: "\tfoo", operation: "update", targets: "[]",
                                        rowCount: 1, decision: "executed", reason: "-1,\"x\"", approver: "+1", idempotencyKey: nil, message: "\rX")

    @Test("csvLine quotes cells with a comma, quote or line break, doubles their quotes, and puts an apostrophe before formulas",
          arguments: zip(rows + [formulas], [
              "1,2026-11-01T00:00:00.000Z,acme,agent-1,orders.update,update,[42],1,executed,executed,carrier update,,k-1,\r\n",
              "9007199254740991,2026-11-01T00:00:00Z,\"t\u{0}\"\"\\\",ünïcødé 😀,a.b,,\"[\"\"a-3\"\",1.5e300,{\"\"z\"\":1,\"\"a\"\":[true,null]}]\",0,"
                  + "cap_exceeded,refused,'=cmd|' /C calc'!A0,maria,,\"line\nbreak\ttab \u{2028}\"\r\n",
              "3,x,,,,,not json,1000000000,rolled_back,rolled_back,,,,\r\n",
              "4,t,acme,'@SUM(A1),'\tfoo,update,[],1,executed,executed,\"'-1,\"\"x\"\"\",'+1,,\"'\rX\"\r\n",
          ]))
    func csv(_ row: ComplianceRow, expected: String) {
        #expect(Array(ComplianceRowFormat.csvLine(row).utf8) == Array(expected.utf8))
    }

    @Test("appendCSV and appendJSON add the record's bytes after what the buffer holds", arguments: rows + [formulas])
    func appending(_ row: ComplianceRow) {
        var csv = Array("before\r\n".utf8), json = Array("{}\n".utf8)
        ComplianceRowFormat.appendCSV(row, to: &csv)
        ComplianceRowFormat.appendJSON(row, to: &json)
        #expect(csv == Array(("before\r\n" + ComplianceRowFormat.csvLine(row)).utf8))
        #expect(json == Array(("{}\n" + ComplianceRowFormat.json(row).canonicalText + "\n").utf8))
    }
}
