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
        if v.withUTF8({ $0.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D } }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    /// One canonical JSON line (with its newline): the form the rows digest is taken over. Written
    /// member by member in canonical key order: the same bytes as `json(r).canonicalText`, without
    /// building the object for every call of the period.
    public static func jsonLine(_ r: ComplianceRow) -> String {
        var w = CanonicalObjectWriter()
        w.member("actor", .string(r.actor))
        w.member("approver", r.approver)
        w.member("category", .string(r.category.rawValue))
        w.member("decision", .string(r.decision))
        w.member("idempotency_key", r.idempotencyKey)
        w.member("message", r.message)
        w.member("operation", r.operation)
        w.member("reason", r.reason)
        w.member("row_count", .number(Double(r.rowCount)))
        w.member("seq", .number(Double(r.seq)))
        w.member("targets", (try? JSONValue.parse(r.targets)) ?? .string(r.targets))
        w.member("tenant", .string(r.tenant))
        w.member("tool", .string(r.tool))
        w.member("ts", .string(r.ts))
        return w.finish() + "\n"
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
