/// The static files of `rollout serve`: its only style and its only script (the Content-Security-
/// Policy allows scripts and styles from the server itself, never inline ones).
enum Assets {
    static let css = """
        :root { --ink: #1d2733; --muted: #5b6878; --line: #d9dee5; --ok: #1f7a3f; --bad: #b3261e; --warn: #9a6700; --bg: #f7f8fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; letter-spacing: .02em; }
        nav { display: flex; align-items: center; gap: 18px; flex: 1; }
        nav a { color: var(--ink); text-decoration: none; font-weight: 600; }
        nav .who { margin-left: auto; color: var(--muted); }
        nav form { margin: 0; }
        main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 60px; }
        h1 { font-size: 22px; margin: 8px 0 16px; }
        h2 { font-size: 16px; margin: 0 0 8px; }
        .note, .meta { color: var(--muted); }
        .bad { color: var(--bad); font-weight: 600; }
        .flash { background: #eef6ff; border: 1px solid #b6d4fe; padding: 8px 12px; border-radius: 6px; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 13px; }
        th { background: #f0f2f5; }
        tr.refused td { background: #fff6f5; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
        pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow-x: auto; border-radius: 6px; }
        .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e8ebef; }
        .c-executed { background: #dcf3e3; } .c-refused { background: #fbe1df; } .c-pending { background: #fff1c7; }
        .c-shadow, .c-dry_run { background: #e6e4fb; } .c-rolled_back { background: #e1eefb; }
        form.search { display: flex; gap: 8px; margin-bottom: 16px; }
        form.search input#search { flex: 3; min-width: 280px; }
        form.search input[type=date] { flex: 0 0 auto; }
        input, select, button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        button { cursor: pointer; font-weight: 600; }
        button.approve { background: var(--ok); color: #fff; border-color: var(--ok); }
        button.deny { background: var(--bad); color: #fff; border-color: var(--bad); }
        section.approval { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 14px; }
        section.approval dl { display: grid; grid-template-columns: 180px 1fr; gap: 4px 12px; margin: 10px 0; }
        section.approval dt { color: var(--muted); }
        section.approval dd { margin: 0; }
        form.decide { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
        form.decide input { flex: 1; min-width: 260px; }
        form.login { display: flex; flex-direction: column; gap: 8px; max-width: 360px; }
        section.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 16px; }
        section.chart svg { width: 100%; height: auto; }
        p.more { text-align: right; }
        """

    /// The tab icon: a check mark in a rounded square.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f5f4a"/>\
        <path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="#fff" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/></svg>
        """

    static let js = """
        // The approvals page follows the queue: when the server says the set of pending writes changed,
        // the list is fetched again (only then), and notes being typed are kept.
        (function () {
          if (!document.getElementById('approvals') || !window.EventSource) return;
          var source = new EventSource('/approvals/events');
          source.onmessage = function (event) {
            var shown = document.getElementById('approvals');
            if (shown && shown.getAttribute('data-ids') === event.data) return;
            fetch('/approvals?fragment=1', { credentials: 'same-origin' })
              .then(function (response) { return response.ok ? response.text() : null; })
              .then(function (html) {
                if (!html) return;
                var current = document.getElementById('approvals');
                var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('approvals');
                if (!current || !fresh) return;
                current.querySelectorAll('input[name=note]').forEach(function (input) {
                  var twin = fresh.querySelector('#' + input.id);
                  if (twin) twin.value = input.value;
                });
                current.replaceWith(fresh);
                var link = document.getElementById('nav-approvals');
                if (link) link.textContent = 'Approvals (' + fresh.getAttribute('data-count') + ')';
              });
          };
        })();
        """
}
