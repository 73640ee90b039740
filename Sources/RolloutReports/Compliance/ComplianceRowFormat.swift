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
        var out: [UInt8] = []
        appendCSV(r, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `csvLine(r)`'s bytes to `out`: the report writes a million calls this way, with no string
    /// or array of cells made per line.
    public static func appendCSV(_ r: ComplianceRow, to out: inout [UInt8]) {
        func cell(_ value: String, agentText: Bool = true) {
            out.append(0x2C)
            appendCell(value, agentText: agentText, to: &out)
        }
        appendCell(String(r.seq), agentText: false, to: &out)
        cell(r.ts, agentText: false)
        cell(r.tenant)
        cell(r.actor)
        cell(r.tool)
        cell(r.operation ?? "")
        cell(r.targets)
        cell(String(r.rowCount), agentText: false)
        cell(r.decision)
        cell(r.category.rawValue)
        cell(r.reason ?? "")
        cell(r.approver ?? "")
        cell(r.idempotencyKey ?? "")
        cell(r.message ?? "")
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// Appends one cell: an apostrophe before agent text a spreadsheet would run, quotes (with every
    /// quote inside doubled) around a cell holding a comma, quote or line break.
    private static func appendCell(_ value: String, agentText: Bool, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            let apostrophe = agentText && bytes.first.map { [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains($0) } == true
            let quoted = bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            if quoted { out.append(0x22) }
            if apostrophe { out.append(0x27) }
            if quoted {
                for byte in bytes {
                    out.append(byte)
                    if byte == 0x22 { out.append(0x22) }
                }
                out.append(0x22)
            } else {
                out.append(contentsOf: bytes)
            }
        }
    }

    /// One canonical JSON line (with its newline): the form the rows digest is taken over. Written
    /// member by member in canonical key order: the same bytes as `json(r).canonicalText`, without
    /// building the object for every call of the period.
    public static func jsonLine(_ r: ComplianceRow) -> String {
        var out: [UInt8] = []
        appendJSON(r, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `jsonLine(r)`'s bytes to `out`.
    public static func appendJSON(_ r: ComplianceRow, to out: inout [UInt8]) {
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
        w.finish(appendingTo: &out)
        out.append(0x0A)
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
