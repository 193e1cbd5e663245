"""Security review (issue 14) in Debian's chromium: every screen runs under the strict
Content-Security-Policy with no violation and no console error (finding 14); signing in
with a crafted `next` lands on our own page (finding 1); the shared JS sends the page's
token with a change made with the session cookie, and a bare fetch without it is refused
(finding 5)."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from console_support import sign_in
from helpers import KIOSK_TOKEN

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


class Watch:
    """Console errors, uncaught page errors and CSP violations of one browser context."""

    def __init__(self, context):
        self.problems: list[str] = []
        self.pages = []
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("page", self._watch)

    def _watch(self, page) -> None:
        self.pages.append(page)
        page.on("console", lambda m: self.problems.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: page error: {e}"))

    def check(self) -> None:
        for page in self.pages:
            if page.is_closed():
                continue
            for v in page.evaluate("window.__csp || []"):
                self.problems.append(f"{page.url}: CSP violation: {v}")
        assert not self.problems, "\n".join(self.problems)


def _screen(context, url: str, status: int = 200):
    page = context.new_page()
    resp = page.goto(url)
    assert resp is not None and resp.status == status, url
    csp = resp.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (url, csp)
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], csp
    assert resp.headers.get("x-frame-options") == "DENY", url
    return page


def test_every_screen_runs_under_the_policy_without_a_violation(server, context_factory):
    base = server.url
    ticket = requests.post(base + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=10,
                           headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}).json()

    public = context_factory()
    watch = Watch(public)
    kiosk = _screen(public, base + "/kiosk")
    expect(kiosk.get_by_role("button", name=re.compile("Đất đai"))).to_be_visible()
    display = _screen(public, base + "/display")
    expect(display.locator("#counters tbody tr")).to_have_count(4)
    rate = _screen(public, base + "/rate/1")
    expect(rate.get_by_test_id("rate-idle")).to_be_visible()
    phone = _screen(public, base + f"/t/{ticket['token']}")
    expect(phone.get_by_test_id("ticket-number")).to_have_text(str(ticket["number"]))
    expect(phone.get_by_test_id("ticket-state")).not_to_be_empty()
    admin = _screen(public, base + "/admin", 401)  # anonymous: the administrator's sign-in page
    expect(admin.locator("input[name=username]")).to_be_visible()
    login = _screen(public, base + "/counter")
    expect(login.locator("input[name=username]")).to_be_visible()
    missing = public.new_page()  # an error page (its own inline style) and a missing ticket
    assert missing.goto(base + "/khong-co-trang-nay").status == 404
    expect(missing.locator("h1")).to_have_text("Lỗi 404")
    assert missing.evaluate("getComputedStyle(document.body).display") == "flex", "the error page keeps its style"
    missing.goto(base + "/t/khong-co-phieu-nay")
    expect(missing.locator("main")).to_contain_text("Không tìm thấy phiếu")
    watch.problems = [p for p in watch.problems  # the two pages above, and /admin's sign-in page
                      if "404 (NOT FOUND)" not in p and "401 (UNAUTHORIZED)" not in p]
    watch.check()

    staff = context_factory()
    watch = Watch(staff)
    console = staff.new_page()
    console.goto(base + "/counter")
    console.fill("input[name=username]", "admin")
    console.fill("input[name=password]", "motcua-demo")
    console.click("button[type=submit]")
    expect(console).to_have_url(re.compile(r"/admin$"))  # an administrator lands on their own screens
    expect(console.locator("#queue tbody tr").first).to_be_visible()
    expect(console.locator("#devices tbody tr").first).not_to_have_text("Đang tải…")
    console.goto(base + "/counter")
    expect(console.locator("a[data-counter='1']")).to_be_visible()  # the counter picker
    console.locator("a[data-counter='1']").click()
    expect(console).to_have_url(re.compile(r"/counter/1$"))
    expect(console.get_by_test_id("offline-banner")).to_be_hidden()
    console.locator("#b-next").click()
    expect(console.get_by_test_id("current-number")).to_have_text(str(ticket["number"]))
    overview = _screen(staff, base + "/counter/overview")
    expect(overview.locator("#ov-counters [data-counter='1']")).to_be_visible()
    watch.check()


def test_signing_in_with_a_crafted_next_lands_on_our_own_page(server, page):
    page.goto(server.url + "/counter?next=/%09/evil.example/")
    page.fill("input[name=username]", "quay1")
    page.fill("input[name=password]", "motcua-demo")
    page.click("button[type=submit]")
    expect(page).to_have_url(server.url + "/counter/1")
    expect(page.get_by_test_id("current-number")).to_be_visible()


def test_the_shared_api_sends_the_page_token_and_a_bare_fetch_is_refused(server, context_factory):
    page = sign_in(context_factory, server.url, "quay2", 2)
    bare = page.evaluate("""() => fetch("/api/v1/counters/2/pause", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({reason: "Nghỉ giải lao"})})
        .then(r => r.json().then(b => [r.status, b.error, b.message]))""")
    assert bare[0] == 403 and bare[1] == "csrf" and "tải lại trang" in bare[2], bare
    done = page.evaluate("""() => new MotcuaApi().post("/api/v1/counters/2/pause", {reason: "Nghỉ giải lao"})
        .then(b => b, e => ({error: e.code, status: e.status}))""")
    assert "error" not in done, done
    expect(page.get_by_test_id("paused-banner")).to_contain_text("Nghỉ giải lao")
