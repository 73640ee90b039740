import Foundation
import RolloutCore

/// The rows of every call in the two machine formats, written the same way by `rollout report` and
/// read the same way by its tests: CSV (RFC 4180) for spreadsheets, JSON Lines for programs.
public enum ComplianceRowFormat {
    public static let columns = ["seq", "ts", "tenant", "actor", "tool", "operation", "targets", "row_count", "decision", "category",
                                 "reason", "approver", "idempotency_key", "message"]

    public static var csvHeader: String { columns.joined(separator: ",") + "\r\n" }

    /// One CSV record. Text an agent wrote that a spreadsheet would run as a formula (=, +, -, @ first)
    /// gets a leading apostrophe (OWASP's advice against CSV injection); JSON Lines has it unchanged.
    public static func csvLine(_ r: ComplianceRow) -> String {
        let cells: [String] = [
            String(r.seq), r.ts, r.tenant, r.actor, r.tool, r.operation ?? "", r.targets, String(r.rowCount), r.decision, r.category.rawValue,
            r.reason ?? "", r.approver ?? "", r.idempotencyKey ?? "", r.message ?? "",
        ]
        return cells.enumerated().map { i, cell in csvCell(cell, agentText: i >= 2 && i != 7) }.joined(separator: ",") + "\r\n"
    }

    static func csvCell(_ value: String, agentText: Bool) -> String {
        var v = value
        if agentText, let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    /// One canonical JSON line (with its newline): the form the rows digest is taken over.
    public static func jsonLine(_ r: ComplianceRow) -> String {
        json(r).canonicalText + "\n"
    }

    public static func json(_ r: ComplianceRow) -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return [
            "seq": .number(Double(r.seq)), "ts": .string(r.ts), "tenant": .string(r.tenant), "actor": .string(r.actor), "tool": .string(r.tool),
            "operation": opt(r.operation), "targets": (try? JSONValue.parse(r.targets)) ?? .string(r.targets),
            "row_count": .number(Double(r.rowCount)), "decision": .string(r.decision), "category": .string(r.category.rawValue),
            "reason": opt(r.reason), "approver": opt(r.approver), "idempotency_key": opt(r.idempotencyKey), "message": opt(r.message),
        ]
    }
}
