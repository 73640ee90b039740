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
        // Written into one string (a million calls make a million lines): no array of cells per line.
        var line = ""
        line.reserveCapacity(320)
        appendCell(String(r.seq), agentText: false, to: &line)
        for (cell, agentText) in [(r.ts, false), (r.tenant, true), (r.actor, true), (r.tool, true), (r.operation ?? "", true), (r.targets, true),
                                  (String(r.rowCount), false), (r.decision, true), (r.category.rawValue, true), (r.reason ?? "", true),
                                  (r.approver ?? "", true), (r.idempotencyKey ?? "", true), (r.message ?? "", true)] {
            line.append(",")
            appendCell(cell, agentText: agentText, to: &line)
        }
        line.append("\r\n")
        return line
    }

    /// Appends one cell: an apostrophe before agent text a spreadsheet would run, quotes (with every
    /// quote inside doubled) around a cell holding a comma, quote or line break.
    private static func appendCell(_ value: String, agentText: Bool, to line: inout String) {
        var value = value
        let (apostrophe, quoted, quotes) = value.withUTF8 { bytes in
            (agentText && bytes.first.map { [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains($0) } == true,
             bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }, bytes.contains(0x22))
        }
        if quoted { line.append("\"") }
        if apostrophe { line.append("'") }
        if quotes {
            for (i, part) in value.utf8.split(separator: 0x22, omittingEmptySubsequences: false).enumerated() {
                if i > 0 { line.append("\"\"") }
                line.append(String(Substring(part)))
            }
        } else {
            line.append(value)
        }
        if quoted { line.append("\"") }
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
