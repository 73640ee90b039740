import Foundation
import RolloutCore
import RolloutGuard
import RolloutReports
import RolloutStore

/// The pages of `rollout serve`, as HTML text. Every value that came from an agent, a store or a user
/// is escaped; no page carries inline script or style (the Content-Security-Policy allows neither):
/// the look is /static/app.css, the live update /static/app.js.
enum Pages {
    static func e(_ text: String?) -> String { HTMLText.escape(text ?? "") }

    /// A page with the navigation of a signed-in approver (or none, for the sign-in page).
    static func layout(title: String, approver: String?, csrf: String?, pending: Int? = nil, body: String) -> String {
        var nav = ""
        if let approver {
            nav = """
                <nav><a href="/">Writes</a><a href="/approvals" id="nav-approvals">Approvals\(pending.map { " (\($0))" } ?? "")</a>
                <span class="who">signed in as <b>\(e(approver))</b></span>
                <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(e(csrf))"><button type="submit">Sign out</button></form></nav>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title)) · rollout</title><link rel="icon" href="/static/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
            <body><header><span class="brand">rollout</span>\(nav)</header><main>\(body)</main></body></html>
            """
    }

    static func login(message: String?) -> String {
        layout(title: "Sign in", approver: nil, csrf: nil, body: """
            <h1>Sign in</h1>
            \(message.map { "<p class=\"bad\">\(e($0))</p>" } ?? "")
            <form method="post" action="/login" class="login">
            <input type="text" name="username" autocomplete="username" hidden aria-hidden="true">
            <label for="token">Approver token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit" id="sign-in">Sign in</button>
            </form>
            <p class="note">Tokens are listed by their SHA-256 in rollout/approvers.yaml (<code>rollout serve --new-token</code> makes one).</p>
            """)
    }

    /// The table of pending writes, also served alone for the live update.
    /// `data-ids` is the set the server's events name, so the page refreshes only when it changed.
    /// The list the page's script replaces as the queue changes: the approved writes whose outcome is not
    /// known first, so the live update shows them too, then the writes waiting.
    static func approvalsList(_ items: [ApprovalView], csrf: String, unsettled: [PendingApproval] = []) -> String {
        let ids = queueState(pending: items.map(\.approval.id), unsettled: unsettled)
        var h = "<div id=\"approvals\" data-count=\"\(items.count)\" data-ids=\"\(ids)\">" + unsettledList(unsettled)
        if items.isEmpty { h += "<p class=\"note\">No write is waiting for a person.</p>" }
        for item in items {
            let a = item.approval
            h += """
                <section class="approval" id="approval-\(a.id)">
                <h2>#\(a.id) <code>\(e(a.tool))</code> for <b>\(e(a.tenant))</b>, asked by <b>\(e(a.actor))</b></h2>
                <p class="meta">queued \(e(Timestamp.formatSeconds(a.createdAt))), expires \(e(Timestamp.formatSeconds(a.expiresAt)))\(a.subject.map { " · for user \(e($0))" } ?? "") · backend <code>\(e(a.backend))</code></p>
                <dl><dt>Reason</dt><dd>\(e(item.reason ?? "—"))</dd>
                <dt>Why a person decides</dt><dd>\(e(item.rule ?? "—"))</dd>
                <dt>Arguments</dt><dd><pre>\(e(item.arguments.prettyText()))</pre></dd>
                <dt>Before → after</dt><dd>\(item.changes.isEmpty ? "—" : "<ul>" + item.changes.map { "<li>\(e($0))</li>" }.joined() + "</ul>")</dd></dl>
                <form method="post" action="/approvals/\(a.id)/decide" class="decide">
                <input type="hidden" name="csrf" value="\(e(csrf))">
                <label for="note-\(a.id)">Note (required)</label>
                <input id="note-\(a.id)" name="note" maxlength="300" required placeholder="what you checked">
                <button type="submit" name="decision" value="approve" class="approve" id="approve-\(a.id)">Approve</button>
                <button type="submit" name="decision" value="deny" class="deny" id="deny-\(a.id)">Deny</button>
                </form></section>
                """
        }
        return h + "</div>"
    }

    static func approvals(_ items: [ApprovalView], approver: String, csrf: String, flash: String?, unsettled: [PendingApproval] = []) -> String {
        layout(title: "Approvals", approver: approver, csrf: csrf, pending: items.count, body: """
            <h1>Writes waiting for a person</h1>
            <p class="note">A decision runs the write on the backend it was asked for, once; you cannot approve your own request.
            This list updates itself.</p>
            \(flash.map { "<p class=\"flash\">\(e($0))</p>" } ?? "")
            \(approvalsList(items, csrf: csrf, unsettled: unsettled))
            """)
    }

    /// What the approvals page shows, as the event stream sends it and the list carries it (`data-ids`): the
    /// waiting writes' ids, then the unsettled ones with their status, so the page updates when either changes.
    static func queueState(pending: [Int64], unsettled: [PendingApproval]) -> String {
        let waiting = pending.isEmpty ? "none" : pending.map(String.init).joined(separator: ",")
        return unsettled.isEmpty ? waiting : waiting + ";" + unsettled.map { "\($0.id):\($0.status.rawValue)" }.joined(separator: ",")
    }

    /// Approved writes whose outcome is not known: running now, or forwarded with the answer lost or not
    /// recorded. None runs again; a person checks the upstream.
    static func unsettledList(_ items: [PendingApproval]) -> String {
        guard !items.isEmpty else { return "" }
        let rows = items.map { a in
            "<li id=\"unsettled-\(a.id)\">#\(a.id) <code>\(e(a.tool))</code> for \(e(a.tenant)), asked by \(e(a.actor)): \(a.status == .inDoubt ? "in doubt" : "approved, outcome not recorded")</li>"
        }.joined()
        return """
            <section class="unsettled" id="unsettled"><h2>Approved, outcome not known</h2>
            <p class="note">These writes were approved and may have run; none runs again. Check the upstream's state (`rollout approvals --all`).</p>
            <ul>\(rows)</ul></section>
            """
    }

    /// The dashboard: a page of writes, the search form, and the counts per day.
    static func dashboard(page: DashboardPage, query: DashboardQuery, range: String, chosen: (from: String, to: String), days: [ComplianceReport.Day], approver: String, csrf: String,
                          pending: Int) -> String {
        let q = e(query.search)
        func option(_ value: String, _ label: String, _ selected: Bool) -> String {
            "<option value=\"\(value)\"\(selected ? " selected" : "")>\(label)</option>"
        }
        let category = query.categories.first?.rawValue ?? ""
        var h = """
            <h1>Every write of the agents</h1>
            <form method="get" action="/" class="search" role="search">
            <input name="q" value="\(q)" placeholder="reason, tool, actor, tenant, arguments" aria-label="Search" id="search">
            <select name="range" aria-label="Period">\(option("hour", "last hour", range == "hour"))\(option("day", "last day", range == "day"))\(option("week", "last week", range == "week"))\(option("month", "last 30 days", range == "month"))\(option("custom", "from – to", range == "custom"))</select>
            <input type="date" name="from" value="\(e(chosen.from))" aria-label="From (a day)" id="from"><input type="date" name="to" value="\(e(chosen.to))" aria-label="To (a day, included)" id="to">
            <select name="decision" aria-label="Decision"><option value="">every decision</option>\(DecisionCategory.allCases.map { option($0.rawValue, $0.rawValue, category == $0.rawValue) }.joined())</select>
            <button type="submit" id="search-button">Search</button>
            </form>
            <section class="chart"><h2>Calls per day</h2>\(SVGChart.dailyBars(days, width: 860, height: 180))</section>
            <table id="writes"><thead><tr><th>#</th><th>Time</th><th>Tenant</th><th>Actor</th><th>Tool</th><th>Decision</th><th>Reason</th><th>Approver</th><th>Rows</th></tr></thead><tbody>
            """
        for row in page.rows {
            h += """
                <tr class="\(e(row.category.rawValue))"><td><a href="/events/\(row.seq)">\(row.seq)</a></td><td>\(e(row.ts.replacingOccurrences(of: "T", with: " ").prefix(19).description))</td>
                <td>\(e(row.tenant))</td><td>\(e(row.actor))</td><td><code>\(e(row.tool))</code></td><td><span class="chip c-\(e(row.category.rawValue))">\(e(row.decision))</span></td>
                <td>\(e(row.reason))</td><td>\(e(row.approver))</td><td>\(row.rowCount)</td></tr>
                """
        }
        if page.rows.isEmpty { h += "<tr><td colspan=\"9\" class=\"note\">No write matches.</td></tr>" }
        h += "</tbody></table>"
        if let next = page.next {
            var params = ["range=\(range)", "before=\(next)"]
            for (name, value) in [("from", chosen.from), ("to", chosen.to)] where !value.isEmpty {
                params.append(name + "=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
            if let s = query.search, !s.isEmpty { params.append("q=" + (s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
            if !category.isEmpty { params.append("decision=\(category)") }
            h += "<p class=\"more\"><a href=\"/?\(params.joined(separator: "&amp;"))\" id=\"older\">Older writes →</a></p>"
        }
        return layout(title: "Writes", approver: approver, csrf: csrf, pending: pending, body: h)
    }

    /// What the store says of an event's rollback: the event that rolled it back, or one the rollbacks table names
    /// that the audit log does not hold as this write's rollback.
    enum Rollback: Equatable {
        case by(Int64, decision: String)
        case unproven(Int64)
    }

    /// One audit event: what it holds, and its rollback.
    static func event(_ event: AuditEvent, body: JSONValue, rollback: Rollback?, approver: String, csrf: String, flash: String?, pending: Int) -> String {
        var h = "<h1>Audit event #\(event.seq)</h1>"
        if let flash { h += "<p class=\"flash\">\(e(flash))</p>" }
        h += "<p class=\"meta\">\(e(Timestamp.formatSeconds(event.ts))) · \(e(event.tenant)) · \(e(event.actor)) · <code>\(e(event.tool))</code> · <span class=\"chip c-\(e(event.category.rawValue))\">\(e(event.decision))</span></p>"
        h += "<pre>\(e(body.prettyText()))</pre>"
        if case .by(let rollbackOf, let decision)? = rollback {
            h += decision == DecisionCode.rolledBack.rawValue
                ? "<p class=\"note\">Rolled back by <a href=\"/events/\(rollbackOf)\">event #\(rollbackOf)</a>.</p>"
                : "<p class=\"note\">Its rollback is <a href=\"/events/\(rollbackOf)\">event #\(rollbackOf)</a> (\(e(decision))): a write is rolled back once; if that one is in doubt, check the upstream.</p>"
        } else if case .unproven(let named)? = rollback {
            h += "<p class=\"flash\">The store's rollbacks table names <a href=\"/events/\(named)\">event #\(named)</a> as this write's rollback, but the audit log does not hold it as one: the store was changed outside rollout (run <code>rollout audit verify</code>). A rollback from here is refused while the table says so.</p>"
        } else if event.decision == DecisionCode.executed.rawValue, event.isImported {
            h += "<p class=\"note\">Imported from \(e(event.details["imported"]?.stringValue ?? "a file")): no guard ran this write, so it is not rolled back from here; undo it in the system it came from.</p>"
        } else if event.decision == DecisionCode.executed.rawValue {
            h += """
                <form method="post" action="/events/\(event.seq)/rollback" class="decide">
                <input type="hidden" name="csrf" value="\(e(csrf))">
                <label for="note-rollback">Why roll it back (required)</label>
                <input id="note-rollback" name="note" maxlength="300" required>
                <button type="submit" class="deny" id="rollback">Roll back</button></form>
                """
        }
        return layout(title: "Event #\(event.seq)", approver: approver, csrf: csrf, pending: pending, body: h)
    }

    static func message(_ title: String, _ text: String, status: String = "note") -> String {
        layout(title: title, approver: nil, csrf: nil, body: "<h1>\(e(title))</h1><p class=\"\(status)\">\(e(text))</p><p><a href=\"/\">Back</a></p>")
    }
}

/// What the approvals page shows of one queued write: the approval, and what its pending audit event
/// says (the reason, the rule that asked for a person, the values before and after), secrets redacted.
struct ApprovalView {
    var approval: PendingApproval
    var reason: String?
    var rule: String?
    var arguments: JSONValue
    var changes: [String]
}
