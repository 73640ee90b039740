import Foundation

/// Writes `tenants.yaml` back after a stage change: the comment block at the top of the old file is
/// kept, the rest is regenerated in one stable layout, so diffs in pull requests show only what changed.
public enum TenantsWriter {
    public static func yaml(_ file: TenantsFile, header: String) -> String {
        var out = header.isEmpty ? "" : header + (header.hasSuffix("\n") ? "" : "\n")
        out += "version: \(file.version)\n\n"
        let g = file.gates
        out += "gates:\n"
        out += "  soak: \(g.soak)\n"
        out += "  min_coverage_days: \(g.minCoverageDays)\n"
        out += "  min_events: \(g.minEvents)\n"
        out += "  fuzz_report: \(scalar(g.fuzzReport))\n"
        out += "  approvers: [\(g.approvers.map(scalar).joined(separator: ", "))]\n\n"
        out += "tenants:\n"
        if file.tenants.isEmpty { out += "  {}\n" }
        for t in file.tenants {
            out += "  \(scalar(t.id)):\n"
            if let name = t.displayName { out += "    name: \(scalar(name))\n" }
            out += "    stage: \(t.stage.rawValue)\n"
            if let since = t.since { out += "    since: \(Timestamp.formatSeconds(since))\n" }
            if t.paused { out += "    paused: true\n" }
            if !t.tools.isEmpty {
                out += "    tools:\n"
                for tool in t.tools.keys.sorted() { out += "      \(scalar(tool)): \(t.tools[tool]!.rawValue)\n" }
            }
        }
        out += "\nhistory:"
        if file.history.isEmpty { out += " []\n" } else { out += "\n" }
        for c in file.history { out += entry(c).map { $0 + "\n" }.joined() }
        return out
    }

    /// One history entry as block-sequence lines, indented two spaces.
    public static func entry(_ c: StageChange) -> [String] {
        var out = ["  - at: \(Timestamp.formatSeconds(c.at))", "    tenant: \(scalar(c.tenant))"]
        if let tool = c.tool { out.append("    tool: \(scalar(tool))") }
        out.append("    action: \(c.action.rawValue)")
        if let from = c.from { out.append("    from: \(from.rawValue)") }
        if let to = c.to { out.append("    to: \(to.rawValue)") }
        out.append("    by: \(scalar(c.by))")
        if c.automated { out.append("    automated: true") }
        if let reason = c.reason { out.append("    reason: \(scalar(reason))") }
        if !c.evidence.isEmpty {
            out.append("    evidence:")
            for key in c.evidence.keys.sorted() { out.append("      \(scalar(key)): \(scalar(c.evidence[key]!))") }
        }
        return out
    }

    /// The comment lines at the top of an existing file (kept across rewrites).
    public static func header(of text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { lines.append(line) } else { break }
        }
        return lines.joined(separator: "\n")
    }

    /// A plain scalar when it reads back as the same string under any YAML parser (1.1 or 1.2), else
    /// JSON-quoted: plain text may hold spaces, but no indicator first, no ": " or " #", nothing a
    /// parser would take for a boolean, null, number or date.
    public static func scalar(_ s: String) -> String {
        let reserved: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]
        guard let first = s.first, let last = s.last, first.isLetter, last != " ", last != ":" else { return quoted(s) }
        let allowed = s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || " ._@/:+-,()'!?;=".contains($0)) }
        let plain = allowed && !s.contains(": ") && !s.contains(" #") && !reserved.contains(s.lowercased())
        return plain ? s : quoted(s)
    }

    static func quoted(_ s: String) -> String {
        JSONValue.string(s).canonicalText
    }
}
