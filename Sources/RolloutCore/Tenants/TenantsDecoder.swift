import Foundation

/// Turns `tenants.yaml` into a `TenantsFile`, checking keys, stages, dates and (given the policy)
/// that every tool it names is a write tool of the policy.
public enum TenantsDecoder {
    static let topKeys = ["version", "gates", "tenants", "history"]
    static let gateKeys = ["soak", "min_coverage_days", "min_events", "fuzz_report", "approvers", "imported_evidence"]
    static let tenantKeys = ["name", "stage", "since", "tools", "paused"]
    static let historyKeys = ["at", "tenant", "tool", "action", "from", "to", "by", "automated", "reason", "evidence"]

    /// Parses and decodes `text`; throws `UnreadableInputError` or `DiagnosticsError` (with file, line
    /// and field) when it is not a valid tenants file. Empty text is an empty tenant list.
    public static func load(text: String, file: String, policy: Policy?) throws -> TenantsFile {
        guard let root = try SourceDocument.parse(text, file: file) else { return TenantsFile(tenants: [], file: file) }
        let (tenants, diagnostics) = decode(root, file: file, policy: policy)
        if let tenants, !diagnostics.contains(where: { $0.severity == .error }) { return tenants }
        throw DiagnosticsError(diagnostics)
    }

    public static func decode(_ root: SourceNode, file: String, policy: Policy?) -> (TenantsFile?, [Diagnostic]) {
        var reader = SourceReader(file: file)
        guard reader.mapping(root, "", allowed: topKeys) != nil else { return (nil, reader.diagnostics) }
        var result = TenantsFile(tenants: [], file: file)
        let stages = Stage.allCases.map(\.rawValue)
        let toolNames = policy.map { Set($0.tools.map(\.name)) }

        if let entry = root["version"] {
            if let v = reader.int(entry.value, "version"), v != 1 {
                reader.report(entry.value, "version", "version \(v) is not supported", expected: "1")
            }
        } else {
            reader.report(line: root.line, column: root.column, "version", "is missing", expected: "version: 1")
        }

        if let entry = root["gates"], let items = reader.mapping(entry.value, "gates", allowed: gateKeys) {
            for item in items {
                let p = "gates.\(item.key)"
                switch item.key {
                case "soak": if let s = reader.timeSpan(item.value, p) { result.gates.soak = s }
                case "min_coverage_days": if let n = reader.int(item.value, p, min: 0) { result.gates.minCoverageDays = n }
                case "min_events": if let n = reader.int(item.value, p, min: 0) { result.gates.minEvents = n }
                case "fuzz_report": if let s = reader.string(item.value, p) { result.gates.fuzzReport = s }
                case "approvers": if let list = reader.stringList(item.value, p) { result.gates.approvers = list }
                case "imported_evidence": if let b = reader.bool(item.value, p) { result.gates.importedEvidence = b }
                default: break
                }
            }
            // Settings that weaken the gates are allowed (a test folder may want them), never silently.
            if result.gates.soak.seconds < 86_400, let n = entry.value["soak"] {
                reader.report(n.value, "gates.soak", "a soak of \(result.gates.soak) is shorter than a day: a tenant can be promoted before a day of traffic was judged",
                              expected: "a soak of at least 1d (7d is the default)", severity: .warning)
            }
            for key in ["min_events", "min_coverage_days"] where (key == "min_events" ? result.gates.minEvents : result.gates.minCoverageDays) == 0 {
                if let n = entry.value[key] {
                    reader.report(n.value, "gates.\(key)", "\(key) 0 asks for no traffic to judge: the anomaly gate passes a tenant on a single event",
                                  expected: "at least 1", severity: .warning)
                }
            }
            if result.gates.importedEvidence, let n = entry.value["imported_evidence"] {
                reader.report(n.value, "gates.imported_evidence",
                              "imported_evidence counts lines brought in by `rollout audit import` as traffic a guard recorded: anyone who can import can supply a tenant's evidence",
                              expected: "false (the default) once guards write the log", severity: .warning)
            }
            if result.gates.minCoverageDays > result.gates.soak.seconds / 86_400, let n = entry.value["min_coverage_days"] {
                reader.report(n.value, "gates.min_coverage_days",
                              "\(result.gates.minCoverageDays) days of traffic can never fit in a soak of \(result.gates.soak)")
            }
        }

        if let entry = root["tenants"], let items = reader.mapping(entry.value, "tenants") {
            for item in items {
                let path = "tenants.\(item.key)"
                // A runtime that sends an empty or padded tenant would match it (flags export targets it).
                let shown = Self.showingInvisibles(item.key)
                if item.key.isEmpty || item.key != item.key.trimmingCharacters(in: .whitespacesAndNewlines) || shown.any {
                    reader.report(line: item.line, column: item.column, path,
                                  "'\(shown.text)' is not a tenant id: it is empty, has spaces around it, or holds an invisible character",
                                  expected: "the tenant's id as the host sends it, e.g. acme")
                }
                guard let fields = reader.mapping(item.value, path, allowed: tenantKeys) else { continue }
                var tenant = TenantConfig(id: item.key, stage: .off)
                for field in fields {
                    let p = "\(path).\(field.key)"
                    switch field.key {
                    case "name": tenant.displayName = reader.string(field.value, p)
                    case "stage": if let s = reader.choice(field.value, p, stages) { tenant.stage = Stage(rawValue: s)! }
                    case "since": tenant.since = date(field.value, p, &reader)
                    case "paused": if let b = reader.bool(field.value, p) { tenant.paused = b }
                    case "tools":
                        guard let toolEntries = reader.mapping(field.value, p) else { break }
                        for toolEntry in toolEntries {
                            let tp = "\(p).\(toolEntry.key)"
                            if let known = toolNames, !known.contains(toolEntry.key) {
                                let suggestion = SourceReader.closest(to: toolEntry.key, in: Array(known)).map { "; did you mean '\($0)'?" } ?? ""
                                reader.report(toolEntry, tp, "'\(toolEntry.key)' is not a write tool of the policy\(suggestion)")
                            }
                            if let s = reader.choice(toolEntry.value, tp, stages) { tenant.tools[toolEntry.key] = Stage(rawValue: s)! }
                        }
                    default: break
                    }
                }
                if item.value["stage"] == nil {
                    reader.report(item.value, "\(path).stage", "is missing", expected: "one of \(stages.joined(separator: ", "))")
                }
                result.tenants.append(tenant)
            }
        } else if root["tenants"] == nil {
            reader.report(line: root.line, column: root.column, "tenants", "is missing", expected: "a mapping of tenants")
        }

        if let entry = root["history"] {
            if case .sequence(let items) = entry.value.kind {
                for (i, item) in items.enumerated() {
                    if let change = decodeChange(item, "history[\(i)]", tenants: result.tenants, &reader) {
                        result.history.append(change)
                    }
                }
                for i in result.history.indices.dropFirst() where result.history[i].at < result.history[i - 1].at {
                    reader.report(items[i], "history[\(i)].at", "is earlier than the entry before it", expected: "history oldest first")
                }
            } else if case .scalar(.null) = entry.value.kind {
                // `history:` with nothing under it: no changes yet.
            } else {
                reader.report(entry.value, "history", "is \(entry.value.typeNameWithArticle)", expected: "a list of changes")
            }
        }
        return (result, reader.diagnostics)
    }

    static func date(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> Date? {
        guard let text = reader.string(node, path) else { return nil }
        guard let date = Timestamp.parse(text) else {
            reader.report(node, path, "'\(text)' is not a timestamp", expected: "RFC 3339, e.g. 2026-11-01T09:00:00Z")
            return nil
        }
        return date
    }

    static func decodeChange(_ node: SourceNode, _ path: String, tenants: [TenantConfig], _ reader: inout SourceReader) -> StageChange? {
        guard let items = reader.mapping(node, path, allowed: historyKeys) else { return nil }
        var at: Date?, tenant: String?, tool: String?, action: StageChange.Action?, from: Stage?, to: Stage?
        var by: String?, reason: String?, automated = false
        var evidence: [String: String] = [:]
        let stages = Stage.allCases.map(\.rawValue)
        for item in items {
            let p = "\(path).\(item.key)"
            switch item.key {
            case "at": at = date(item.value, p, &reader)
            case "tenant":
                tenant = reader.string(item.value, p)
                if let t = tenant, !tenants.contains(where: { $0.id == t }) {
                    reader.report(item.value, p, "'\(t)' is not a tenant of this file", severity: .warning)
                }
            case "tool": tool = reader.string(item.value, p)
            case "action":
                action = reader.choice(item.value, p, StageChange.Action.allCases.map(\.rawValue)).flatMap(StageChange.Action.init)
            case "from": from = reader.choice(item.value, p, stages).flatMap(Stage.init)
            case "to": to = reader.choice(item.value, p, stages).flatMap(Stage.init)
            case "by": by = reader.string(item.value, p)
            case "automated": automated = reader.bool(item.value, p) ?? false
            case "reason": reason = reader.string(item.value, p, nonEmpty: false)
            case "evidence":
                if let entries = reader.mapping(item.value, p) {
                    for e in entries { if let s = reader.string(e.value, "\(p).\(e.key)") { evidence[e.key] = s } }
                }
            default: break
            }
        }
        for required in ["at", "tenant", "action", "by"] where node[required] == nil {
            reader.report(node, "\(path).\(required)", "is missing")
        }
        guard let at, let tenant, let action, let by else { return nil }
        return StageChange(at: at, tenant: tenant, tool: tool, action: action, from: from, to: to, by: by, automated: automated, reason: reason, evidence: evidence)
    }

    /// `text` with each control or format character written as `\u{…}`, and whether it holds one.
    static func showingInvisibles(_ text: String) -> (text: String, any: Bool) {
        var any = false
        let shown = text.unicodeScalars.map { scalar -> String in
            guard [.control, .format].contains(scalar.properties.generalCategory) else { return String(scalar) }
            any = true
            return "\\u{\(String(scalar.value, radix: 16))}"
        }.joined()
        return (shown, any)
    }
}
