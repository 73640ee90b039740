import Crypto
import Foundation
import RolloutCore

/// The compliance report as one self-contained HTML file: inline CSS, SVG charts and a small script
/// for searching and paging the table of calls; no network; A4 pages when printed. The first page
/// carries the chain verdict (red when the log was tampered with), the period, the tenants and their
/// stages, and the digests a later reader checks.
public enum ComplianceHTML {
    public static func render(_ report: ComplianceReport, digest: String, rows: [ComplianceRow], title: String = "Agent write compliance report") -> String {
        var h = HTMLBuilder()
        let period = "\(Timestamp.formatSeconds(report.from)) to \(Timestamp.formatSeconds(report.to))"
        h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        // Nothing runs or loads but the report's own script and style: agent text cannot become markup,
        // and if it ever did, the browser would refuse to run it.
        h.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"\(Self.contentSecurityPolicy)\">")
        h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.raw("<meta name=\"rollout-report-digest\" content=\"\(HTMLText.escape(digest))\">")
        h.raw("<title>\(HTMLText.escape(title)) — \(HTMLText.escape(period))</title><style>\(css)</style></head><body>")

        // Page 1: can the log be trusted, what period, which tenants at which stage.
        h.raw("<section class=\"page first\"><h1>\(HTMLText.escape(title))</h1>")
        h.raw("<p class=\"period\">Period <b>\(HTMLText.escape(period))</b> (UTC, end excluded) · tenants: \(HTMLText.escape(report.scope.isEmpty ? "all" : report.scope.joined(separator: ", ")))</p>")
        let c = report.chain
        if c.ok {
            h.raw("<div class=\"verdict ok\" id=\"verdict\"><b>Audit chain verified.</b> All \(c.checked) events hash-link from the first to the head, #\(c.headSeq) <code>\(HTMLText.escape(String(c.headHash.prefix(16))))…</code>; no event was edited, removed or reordered.</div>")
        } else {
            h.raw("<div class=\"verdict tampered\" id=\"verdict\"><b>AUDIT LOG TAMPERED.</b> The hash chain breaks at event #\(c.breakSeq.map(String.init) ?? "?") (\(HTMLText.escape(c.problem ?? "?"))): \(HTMLText.escape(c.detail ?? "")). Nothing in this report after that point can be trusted until the log is restored from a copy.</div>")
        }
        h.raw("<table class=\"facts\">")
        h.row(["Report digest", "<code>\(HTMLText.escape(digest))</code>"], header: true)
        h.row(["Chain head covered", "#\(c.headSeq) <code>\(HTMLText.escape(c.headHash))</code>"], header: true)
        h.row(["Calls listed", "\(report.rows) (rows SHA-256 <code>\(HTMLText.escape(report.rowsDigest))</code>)"], header: true)
        h.row(["Policy", report.policyDigest.map { "<code>\(HTMLText.escape($0))</code>" } ?? "not given"], header: true)
        h.row(["Generated", "\(HTMLText.escape(Timestamp.formatSeconds(report.generatedAt))) by rollout \(HTMLText.escape(report.rolloutVersion))"], header: true)
        h.raw("</table>")
        let totals = report.totals
        h.raw("<div class=\"totals\">")
        for category in DecisionCategory.allCases where (totals[category] ?? 0) > 0 {
            h.raw("<span class=\"chip\"><i class=\"c-\(category.rawValue)\"></i>\(category.rawValue) <b>\(totals[category]!)</b></span>")
        }
        if totals.isEmpty { h.raw("<span class=\"chip\">no calls in the period</span>") }
        h.raw("</div><h2>Tenants and their stages</h2>")
        h.raw("<table><thead><tr><th>Tenant</th><th>Name</th><th>Stage</th><th>Tools at their own stage</th></tr></thead><tbody>")
        for t in report.tenants {
            let stage = t.paused ? "<span class=\"bad\">paused</span> (\(HTMLText.escape(t.stage)))" : HTMLText.escape(t.stage)
            let tools = t.tools.sorted { $0.key < $1.key }.map { "\(HTMLText.escape($0.key)): \(HTMLText.escape($0.value))" }.joined(separator: ", ")
            h.raw("<tr><td>\(HTMLText.escape(t.id))</td><td>\(HTMLText.escape(t.name ?? ""))</td><td>\(stage)</td><td>\(tools)</td></tr>")
        }
        if report.tenants.isEmpty { h.raw("<tr><td colspan=\"4\">no tenants file</td></tr>") }
        h.raw("</tbody></table>")
        if let gates = report.gates?.objectValue {
            // The bar every promotion had to clear: a soak weakened to minutes shows here.
            let text = ["soak", "min_coverage_days", "min_events", "approvers", "fuzz_report", "digest"].compactMap { key -> String? in
                guard let value = gates[key] else { return nil }
                let shown = value.arrayValue.map { $0.compactMap(\.stringValue).joined(separator: ", ") } ?? value.stringValue ?? value.canonicalText
                return "\(key.replacingOccurrences(of: "_", with: " ")): <b>\(HTMLText.escape(shown.isEmpty ? "none" : shown))</b>"
            }.joined(separator: "; ")
            h.raw("<p class=\"note\">Gate settings: \(text)</p>")
        }
        h.raw("</section>")

        h.raw("<section class=\"page\"><h2>Calls per day by decision</h2>")
        h.raw(SVGChart.dailyBars(Self.calendar(report)))
        h.raw("<h2>Anomalies and stage changes</h2>")
        if report.anomaliesScored {
            h.raw("<p class=\"note\">\(report.anomalies.count) anomal\(report.anomalies.count == 1 ? "y" : "ies"); dots: red rate, orange rule, purple rarity, blue value; triangles: stage changes.</p>")
        } else {
            h.raw("<p class=\"note\">Anomalies were not scored for this report (--no-anomalies); triangles: stage changes.</p>")
        }
        let timelineTenants = report.tenants.map(\.id).filter { id in report.scope.isEmpty || report.scope.contains(id) }
        let extra = Set(report.anomalies.map(\.tenant) + report.stageChanges.map(\.tenant)).subtracting(timelineTenants).sorted()
        h.raw(SVGChart.timeline(from: report.from, to: report.to, tenants: timelineTenants + extra, anomalies: report.anomalies, stages: report.stageChanges))
        if !report.anomalies.isEmpty {
            h.raw("<table><thead><tr><th>Start</th><th>Tenant</th><th>Signal</th><th>Explanation</th><th>Events</th></tr></thead><tbody>")
            for a in report.anomalies.prefix(report.listLimit) {
                h.raw("<tr><td class=\"t\">\(Self.short(a.start))</td><td>\(HTMLText.escape(a.tenant))</td><td>\(HTMLText.escape("\(a.family)/\(a.signal)"))</td><td>\(HTMLText.escape(a.message))</td><td>\(a.events.prefix(5).map { "#\($0)" }.joined(separator: " "))\(a.events.count > 5 ? " …" : "")</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        h.raw("</section>")

        h.raw("<section><h2>Stage changes</h2>")
        entries(&h, report.stageChanges, limit: report.listLimit, empty: "No stage changes in the period.",
                columns: ["#", "At", "Tenant", "Change", "By", "Reason", "Evidence"]) { e in
            let d = e.details
            let subject = d["tool"]?.stringValue.map { " \($0)" } ?? ""
            let change = "\(d["action"]?.stringValue ?? e.decision)\(subject) \(d["from"]?.stringValue ?? "")→\(d["to"]?.stringValue ?? "")"
            let evidence = (d["evidence"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                .map { "\(HTMLText.escape($0.key)) <code>\(HTMLText.escape(String(($0.value.stringValue ?? "").prefix(23))))</code>" }.joined(separator: "<br>")
            let by = HTMLText.escape(e.actor) + (d["automated"] == .bool(true) ? " (automated)" : "")
            return [String(e.seq), Self.short(e.ts), HTMLText.escape(e.tenant), HTMLText.escape(change), by, HTMLText.escape(e.reason ?? ""), evidence]
        }
        h.raw("<h2>Approvals</h2>")
        entries(&h, report.approvals, limit: report.listLimit, empty: "No approvals in the period.",
                columns: ["#", "At", "Tenant", "Tool", "Asked by", "Approver", "Outcome", "Reasons"]) { e in
            let approverReason = e.details["approval_reason"]?.stringValue ?? (e.approver == nil ? "(waiting for a person)" : "(none given)")
            return [String(e.seq), Self.short(e.ts), HTMLText.escape(e.tenant), HTMLText.escape(e.tool), HTMLText.escape(e.actor),
                    HTMLText.escape(e.approver ?? "—"), HTMLText.escape(e.decision),
                    "agent: \(HTMLText.escape(e.reason ?? ""))<br>approver: \(HTMLText.escape(approverReason))"]
        }
        h.raw("<h2>Refusals by code</h2>")
        if report.refusals.isEmpty {
            h.raw("<p class=\"note\">No refusals in the period.</p>")
        } else {
            h.raw("<table><thead><tr><th>Code</th><th>Count</th><th>Example</th></tr></thead><tbody>")
            for r in report.refusals { h.raw("<tr><td>\(HTMLText.escape(r.code))</td><td class=\"num\">\(r.count)</td><td>\(HTMLText.escape(r.example ?? ""))</td></tr>") }
            h.raw("</tbody></table>")
        }
        h.raw("<h2>Rollbacks</h2>")
        entries(&h, report.rollbacks, limit: report.listLimit, empty: "No rollbacks in the period.",
                columns: ["#", "At", "Tenant", "Tool", "By", "Of write", "Outcome", "Reason"]) { e in
            [String(e.seq), Self.short(e.ts), HTMLText.escape(e.tenant), HTMLText.escape(e.tool), HTMLText.escape(e.actor),
             e.details["rollback_of"].map { HTMLText.escape("#\($0.stringValue ?? $0.canonicalText)") } ?? "", HTMLText.escape(e.decision),
             HTMLText.escape(e.reason ?? e.message ?? "")]
        }
        h.raw("</section>")

        h.raw("<section class=\"calls\"><h2>Every call</h2>")
        let shown = rows.count < report.rows ? "the first \(rows.count) of \(report.rows) calls; every call is in writes.csv and writes.jsonl" : "all \(report.rows) calls"
        h.raw("<p class=\"note\">In chain order: \(HTMLText.escape(shown)).</p>")
        h.raw("<div class=\"controls\"><input id=\"search\" type=\"search\" placeholder=\"Search calls (tenant, actor, tool, decision, reason…)\" aria-label=\"Search calls\"> <button id=\"prev\" type=\"button\">‹ Previous</button> <span id=\"page\"></span> <button id=\"next\" type=\"button\">Next ›</button></div>")
        h.raw("<table id=\"calls\"><thead><tr><th>#</th><th>At</th><th>Tenant</th><th>Actor</th><th>Tool</th><th>Rows</th><th>Decision</th><th>Reason</th><th>Approver</th></tr></thead><tbody>")
        for r in rows {
            let cls = r.category == .refused ? " class=\"refused\"" : ""
            h.raw("<tr\(cls)><td>\(r.seq)</td><td class=\"t\">\(HTMLText.escape(r.ts))</td><td>\(HTMLText.escape(r.tenant))</td><td>\(HTMLText.escape(r.actor))</td><td>\(HTMLText.escape(r.tool))</td><td class=\"num\">\(r.rowCount)</td><td title=\"\(HTMLText.escape(r.message ?? ""))\">\(HTMLText.escape(r.decision))</td><td>\(HTMLText.escape(r.reason ?? ""))</td><td>\(HTMLText.escape(r.approver ?? ""))</td></tr>")
        }
        h.raw("</tbody></table></section>")
        h.raw("<footer><p>To check this report later: <code>rollout report --verify DIR</code> recomputes the digest above from report.json and the rows files, and, given the store, checks that event #\(c.headSeq) still has hash <code>\(HTMLText.escape(String(c.headHash.prefix(16))))…</code>.</p></footer>")
        h.raw("<script>\(script)</script></body></html>\n")
        return h.text
    }

    /// Every day of the period, with or without calls, so that the bars keep the calendar's shape
    /// (a long period falls back to the days that had calls).
    static func calendar(_ report: ComplianceReport) -> [ComplianceReport.Day] {
        let known = Dictionary(report.days.map { ($0.day, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [ComplianceReport.Day] = []
        var day = report.from
        while day < report.to, out.count <= 400 {
            let key = Timestamp.day(day)
            out.append(known[key] ?? ComplianceReport.Day(day: key, counts: [:]))
            day = day.addingTimeInterval(86_400)
        }
        return out.count > 400 ? report.days : out
    }

    /// "2026-11-20 13:05": tables stay narrow enough for A4.
    static func short(_ d: Date) -> String {
        let s = Timestamp.formatSeconds(d)
        return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(5))
    }

    static func entries(_ h: inout HTMLBuilder, _ list: [ComplianceReport.Entry], limit: Int, empty: String, columns: [String],
                        cells: (ComplianceReport.Entry) -> [String]) {
        guard !list.isEmpty else {
            h.raw("<p class=\"note\">\(HTMLText.escape(empty))</p>")
            return
        }
        h.raw("<table><thead><tr>" + columns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>")
        for e in list.prefix(limit) {
            h.raw("<tr>" + cells(e).enumerated().map { i, c in i == 1 ? "<td class=\"t\">\(c)</td>" : "<td>\(c)</td>" }.joined() + "</tr>")
        }
        h.raw("</tbody></table>")
        if list.count >= limit { h.raw("<p class=\"note\">Only the first \(limit) are listed; report.json has the same limit, the rows files have every call.</p>") }
    }

    /// Only this page's own inline style and script (by their SHA-256), nothing from anywhere, no plugins,
    /// no forms: the policy a report opened from an auditor's mailbox needs. (`frame-ancestors` has no
    /// effect in a <meta> policy, and browsers log a warning for it: a static file cannot forbid framing.)
    static let contentSecurityPolicy: String = {
        func hash(_ text: String) -> String { "'sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() + "'" }
        return "default-src 'none'; script-src \(hash(script)); style-src \(hash(css)); img-src data:; base-uri 'none'; form-action 'none'"
    }()

    /// The stylesheet, chip colours by decision category included (classes, not style attributes, which
    /// the content security policy would block).
    static let css = baseCSS + DecisionCategory.allCases.map { ".c-\($0.rawValue){background:\(SVGChart.colour($0))}" }.joined()

    static let baseCSS = """
        @page{size:A4;margin:14mm}
        body{font:12px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#212121;max-width:190mm;margin:0 auto;padding:12px}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 6px;border-bottom:1px solid #ccc;padding-bottom:2px}
        .period{margin:0 0 10px;color:#424242}
        .verdict{padding:10px 12px;border-radius:4px;margin:10px 0;font-size:13px}
        .verdict.ok{background:#e8f5e9;border:2px solid #2e7d32;color:#1b5e20}
        .verdict.tampered{background:#c62828;border:2px solid #8e0000;color:#fff;font-size:15px}
        table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:11px}
        th,td{border:1px solid #ddd;padding:3px 5px;text-align:left;vertical-align:top;overflow-wrap:break-word}
        th{white-space:nowrap}td.t{white-space:nowrap}
        thead th{background:#f5f5f5}table.facts th{width:28%;background:#fafafa}
        td.num{text-align:right}tr.refused td{background:#fff5f5}
        code{font:10.5px ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
        .totals{margin:8px 0}.chip{display:inline-block;margin:2px 8px 2px 0}.chip i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
        .bad{color:#c62828;font-weight:bold}.note{color:#555;margin:2px 0 6px}
        .chart{width:100%;height:auto;display:block;margin:4px 0}
        .controls{margin:6px 0}.controls input{width:55%;padding:3px}
        footer{margin-top:16px;color:#555;font-size:10.5px}
        .page.first{break-after:page}
        @media print{body{padding:0}.controls{display:none}h2{break-after:avoid}tr{break-inside:avoid}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """

    /// Searching and paging the calls table; without script every listed row shows.
    static let script = """
        (function () {
          var table = document.getElementById('calls');
          if (!table) { return; }
          var rows = Array.prototype.slice.call(table.tBodies[0].rows);
          var search = document.getElementById('search');
          var label = document.getElementById('page');
          var size = 50, page = 0, matching = rows;
          function show() {
            var pages = Math.max(1, Math.ceil(matching.length / size));
            page = Math.min(Math.max(page, 0), pages - 1);
            rows.forEach(function (r) { r.style.display = 'none'; });
            matching.slice(page * size, page * size + size).forEach(function (r) { r.style.display = ''; });
            label.textContent = 'page ' + (page + 1) + ' of ' + pages + ' (' + matching.length + ' calls)';
          }
          search.addEventListener('input', function () {
            var q = search.value.toLowerCase();
            matching = q ? rows.filter(function (r) { return r.textContent.toLowerCase().indexOf(q) >= 0; }) : rows;
            page = 0;
            show();
          });
          document.getElementById('prev').addEventListener('click', function () { page -= 1; show(); });
          document.getElementById('next').addEventListener('click', function () { page += 1; show(); });
          show();
        })();
        """
}

/// Appends HTML text.
struct HTMLBuilder {
    var text = ""

    mutating func raw(_ s: String) { text += s }

    /// A table row whose first cell is a header cell when `header` is set; cells are HTML already.
    mutating func row(_ cells: [String], header: Bool = false) {
        text += "<tr>" + cells.enumerated().map { i, c in header && i == 0 ? "<th>\(c)</th>" : "<td>\(c)</td>" }.joined() + "</tr>"
    }
}
