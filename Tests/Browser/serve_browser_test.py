#!/usr/bin/env python3
"""`rollout serve` in a real browser (Debian's headless Chromium through chromium-driver and PyPI selenium).

A guard in front of the tiny MCP server (tests/fixtures/mcp/tiny_server.py, bound by an upstreams.yaml
entry) queues three refunds for a person and executes a few item writes. Then, in the browser:
open the dashboard (signed out: sent to sign-in), sign in with an approver's token, search, choose a
period, watch a fourth queued write appear on the approvals page without a reload (server-sent events),
approve one write with a note and deny another. Afterwards, from outside the browser: both decisions are
in the audit log with their notes and approver, the approved refund reached the tiny server exactly once
and the denied one never, the chain verifies, and no page logged anything to the browser console.

Usage: serve_browser_test.py --rollout PATH/TO/rollout [--out DIR for screenshots]
Exit 0 when every check holds, 1 with the failed checks listed, 77 when selenium or Chromium is missing."""
import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "mcp")
TOKEN = "browser-test-token-maria-5f1c"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("serve-browser: selenium is not installed (pip install selenium); skipped")
    sys.exit(77)

failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def project(work):
    """The tiny server's policy with refunds waiting for a person, approvers, and the upstream entry."""
    folder = os.path.join(work, "rollout")
    shutil.copytree(os.path.join(FIXTURE, "policy"), folder)
    policy_path = os.path.join(folder, "policy.yaml")
    with open(policy_path) as f:
        policy = f.read()
    rule = ("    writable: [order_id, amount_cents]\n"
            "    rules:\n"
            "      big_refund:\n"
            "        when: {\">\": [{\"var\": \"after.amount_cents\"}, 50000]}\n"
            "        decision: approve\n"
            "        message: a refund above 500.00 moves real money, a person decides\n")
    assert "    writable: [order_id, amount_cents]\n" in policy
    with open(policy_path, "w") as f:
        f.write(policy.replace("    writable: [order_id, amount_cents]\n", rule))
    with open(os.path.join(folder, "tenants.yaml"), "w") as f:
        f.write("version: 1\ngates: {approvers: [maria.lopez, dev.patel]}\ntenants:\n  acme: {stage: broad}\n  globex: {stage: broad}\n")
    with open(os.path.join(folder, "approvers.yaml"), "w") as f:
        f.write("version: 1\napprovers:\n  maria.lopez:\n    token_sha256: %s\n    slack_user: U0MARIA\n"
                "  dev.patel:\n    token_sha256: %s\n" % (hashlib.sha256(TOKEN.encode()).hexdigest(),
                                                        hashlib.sha256(b"another-token-for-dev").hexdigest()))
    with open(os.path.join(folder, "upstreams.yaml"), "w") as f:
        f.write("version: 1\nupstreams:\n  tiny:\n    command: [python3, %s]\n    env: [TINY_DB]\n    call_timeout: 20s\n"
                % json.dumps(os.path.join(FIXTURE, "tiny_server.py")))
    return folder


class Guard:
    """`rollout guard --upstream tiny`, spoken to over stdio as an MCP host would."""

    def __init__(self, rollout, folder, store, env):
        self.proc = subprocess.Popen([rollout, "guard", "--dir", folder, "--store", store, "--upstream", "tiny",
                                      "--tenant", "acme", "--actor", "agent-1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        self.next = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "browser-test", "version": "1"}})
        self.notify("notifications/initialized")

    def notify(self, method):
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next += 1
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            message = json.loads(self.proc.stdout.readline())
            if message.get("id") == self.next:
                return message

    def call(self, tool, arguments):
        return self.request("tools/call", {"name": tool, "arguments": arguments})["result"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def refund(n, cents):
    return {"order_id": n, "amount_cents": cents, "reason": "parcel %d lost by the carrier" % n, "request_id": "refund-%d" % n}


def left(page):
    """Whether the browser has left the page `page` is the root of. Chromium sometimes answers a look at
    an element taken during the navigation with "Node with given id does not belong to the document"
    (a WebDriverException) instead of a stale-element error: that, too, means the page is gone."""
    def predicate(_driver):
        try:
            page.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return predicate


def click_and_load(driver, element_id):
    """Clicks a submit button and waits until the browser has left the page (the next one is loading)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 15).until(left(page))


def console_errors(driver, page):
    entries = driver.get_log("browser")
    for entry in entries:
        print("    console (%s): %s" % (page, entry.get("message")))
    return entries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rollout", required=True)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver") or ("/usr/lib/chromium/chromedriver" if os.path.exists("/usr/lib/chromium/chromedriver") else None)
    if not chromium or not chromedriver:
        print("serve-browser: Debian's chromium and chromium-driver are not installed; skipped")
        return 77

    work = tempfile.mkdtemp(prefix="serve-browser-")
    out = args.out or work
    os.makedirs(out, exist_ok=True)
    folder = project(work)
    store = os.path.join(work, "audit.sqlite")
    tiny_db = os.path.join(work, "tiny.db")
    env = dict(os.environ, TINY_DB=tiny_db)
    env.pop("ROLLOUT_SLACK_WEBHOOK_URL", None)
    env.pop("ROLLOUT_SLACK_SIGNING_SECRET", None)

    print("serve-browser: an agent's calls through the guard")
    guard = Guard(args.rollout, folder, store, env)
    for n in range(5):
        answer = guard.call("items.create", {"data": {"title": "item %d" % n}, "reason": "restock from the weekly order",
                                             "idempotency_key": "item-%d" % n})
        check(answer.get("isError") is False and "success" in answer["content"][0]["text"], "items.create %d executed: %s" % (n, json.dumps(answer)[:200]))
    for n in (1, 2, 3):
        answer = guard.call("refunds.issue", refund(n, 60000 + n))
        check(answer["structuredContent"]["decision"] == "pending_approval", "refund %d waits for a person" % n)
    text = answer["content"][0]["text"]
    print("    the agent is told: " + text)
    check("refunds.issue (amount_cents → 60003, order_id → 3)" in text and "a confirmation follows" in text, "the agent's answer names what was requested and that a confirmation follows")

    serve = subprocess.Popen([args.rollout, "serve", "--dir", folder, "--store", store, "--listen", "127.0.0.1:0"],
                             stderr=subprocess.PIPE, env=env, text=True)
    base = None
    for line in serve.stderr:
        if "listening on http://" in line:
            base = line.strip().split(" ")[-1]
            break
    if not base:
        print("serve-browser: serve did not start")
        return 1

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    wait = WebDriverWait(driver, 15)
    logged = []
    try:
        print("serve-browser: the browser, at " + base)
        driver.get(base + "/")
        check(driver.current_url.endswith("/login"), "signed out, the dashboard sends to sign-in")
        driver.save_screenshot(os.path.join(out, "serve-login.png"))
        logged += console_errors(driver, "login")
        driver.find_element(By.ID, "token").send_keys("not-a-token")
        click_and_load(driver, "sign-in")
        check("belongs to no approver" in driver.page_source, "a wrong token is refused with a message")
        logged += console_errors(driver, "refused sign-in")
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        click_and_load(driver, "sign-in")
        wait.until(EC.presence_of_element_located((By.ID, "writes")))
        check("signed in as" in driver.page_source and "maria.lopez" in driver.page_source, "signed in as maria.lopez")
        rows = driver.find_elements(By.CSS_SELECTOR, "#writes tbody tr")
        check(len(rows) == 8, "the dashboard lists the 8 calls of the last day, one row each (%d rows)" % len(rows))
        check(len(driver.find_elements(By.CSS_SELECTOR, ".chart svg rect")) > 0, "the chart of calls per day is drawn")
        logged += console_errors(driver, "dashboard")

        search = driver.find_element(By.ID, "search")
        search.send_keys("parcel 2")
        click_and_load(driver, "search-button")
        wait.until(EC.presence_of_element_located((By.ID, "writes")))
        rows = driver.find_elements(By.CSS_SELECTOR, "#writes tbody tr")
        check(len(rows) == 1 and "parcel 2 lost by the carrier" in rows[0].text, "searching 'parcel 2' finds its one write")
        driver.save_screenshot(os.path.join(out, "serve-dashboard-search.png"))
        logged += console_errors(driver, "search")
        driver.get(base + "/?range=week")
        driver.save_screenshot(os.path.join(out, "serve-dashboard.png"))
        first = driver.find_element(By.CSS_SELECTOR, "#writes tbody tr td a")
        page = driver.find_element(By.TAG_NAME, "html")
        first.click()
        wait.until(EC.staleness_of(page))
        check("Audit event #" in driver.page_source, "a row links to its audit event")
        logged += console_errors(driver, "event")

        driver.find_element(By.ID, "nav-approvals").click()
        wait.until(EC.presence_of_element_located((By.ID, "approval-1")))
        check(len(driver.find_elements(By.CSS_SELECTOR, "section.approval")) == 3, "three writes wait for a person")
        page = driver.page_source
        check("a refund above 500.00 moves real money" in page, "the rule that asked for a person, and its message, are shown")
        check("parcel 1 lost by the carrier" in page, "the reason is shown")
        # A fourth write is queued while the page is open: it appears without a reload.
        guard.call("refunds.issue", refund(4, 70000))
        guard.close()
        try:
            WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "approval-4")))
            check(True, "a write queued while the page is open appears without a reload (server-sent events)")
        except Exception:
            check(False, "a write queued while the page is open appears without a reload (server-sent events)")
        driver.save_screenshot(os.path.join(out, "serve-approvals.png"))
        logged += console_errors(driver, "approvals")

        # Approve #1 with a note; a decision without a note is stopped by the browser's own `required`.
        driver.find_element(By.ID, "approve-1").click()
        check(driver.find_elements(By.ID, "approval-1") != [], "without a note the form does not submit")
        driver.find_element(By.ID, "note-1").send_keys("matched the carrier's loss report")
        click_and_load(driver, "approve-1")
        flash = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))).text
        print("    flash: " + flash)
        check("#1: executed" in flash, "approving #1 executed it")
        driver.save_screenshot(os.path.join(out, "serve-approved.png"))
        driver.find_element(By.ID, "note-2").send_keys("duplicate of refund 1")
        click_and_load(driver, "deny-2")
        flash = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))).text
        print("    flash: " + flash)
        check("#2: approval_denied" in flash, "denying #2 recorded the denial")
        check(driver.find_elements(By.ID, "approval-1") == [] and driver.find_elements(By.ID, "approval-2") == [],
              "decided writes leave the list")
        logged += console_errors(driver, "decisions")
        driver.get(base + "/?range=hour&decision=executed")
        check("maria.lopez" in driver.find_element(By.ID, "writes").text, "the dashboard shows the approver of the executed refund")
        driver.save_screenshot(os.path.join(out, "serve-dashboard-after.png"))
        logged += console_errors(driver, "dashboard after")
    finally:
        driver.quit()
        serve.terminate()
        serve.wait(timeout=30)

    print("serve-browser: from outside the browser")
    check(logged == [], "no page logged anything to the console")
    export = subprocess.run([args.rollout, "audit", "export", "--dir", folder, "--store", store], capture_output=True, text=True, env=env)
    events = [json.loads(line) for line in export.stdout.splitlines() if line.strip()]
    refunds = [e for e in events if e.get("tool") == "refunds.issue"]
    executed = [e for e in refunds if e.get("decision") == "executed"]
    denied = [e for e in refunds if e.get("decision") == "approval_denied"]
    check(len(executed) == 1 and executed[0].get("approver") == "maria.lopez"
          and "matched the carrier's loss report" in json.dumps(executed[0]), "the approval is in the audit log with its note and approver")
    check(len(denied) == 1 and denied[0].get("approver") == "maria.lopez" and denied[0].get("reason") == "duplicate of refund 1",
          "the denial is in the audit log with its note and approver")
    db = sqlite3.connect(tiny_db)
    rows = db.execute("SELECT order_id FROM refunds").fetchall()
    calls = db.execute("SELECT count(*) FROM calls WHERE tool = 'refunds.issue'").fetchone()[0]
    check(rows == [(1,)] and calls == 1, "the approved refund reached the tiny server exactly once, the denied one never (%s, %d calls)" % (rows, calls))
    verify = subprocess.run([args.rollout, "audit", "verify", "--store", store], capture_output=True, text=True, env=env)
    check(verify.returncode == 0, "the audit chain verifies: " + (verify.stdout + verify.stderr).strip()[:200])
    print("serve-browser: screenshots in " + out)
    if failures:
        print("serve-browser: %d check(s) failed" % len(failures))
        return 1
    print("serve-browser: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
