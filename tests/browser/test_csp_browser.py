"""Every console page under the Content-Security-Policy in a real Chromium: the header is there, nothing
is refused (no inline script or style left anywhere), and htmx still works under it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.accounts.twofactor import totp_enrollment_confirm, totp_enrollment_start
from socdesk.core.actor import Actor
from socdesk.tickets.services import ticket_create
from tests.accounts.test_twofactor import code_for
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# Records what the browser refused; an init script runs before any of the page's own scripts.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
                    (e.sourceFile || document.location.pathname) + ":" + e.lineNumber + " " +
                    (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : ""));
});
"""


class PolicyWatch:
    """Collects CSP violations, console errors and each HTML page's Content-Security-Policy header."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.headers: dict[str, str | None] = {}
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", lambda m: m.type in ("error", "warning") and self.console.append(m.text))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.request.resource_type == "document":
            self.headers[response.url] = response.headers.get("content-security-policy")

    def visit(self, url: str, shot=None, ready: str | None = None) -> None:
        self.page.goto(url)
        self.check(shot, ready)

    def check(self, shot=None, ready: str | None = None) -> None:
        if ready:
            self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__csp")
        assert violations == [], f"{self.page.url}: {violations}"
        refused = [m for m in self.console if "Content Security Policy" in m or "Refused" in m]
        assert refused == [], f"{self.page.url}: {refused}"
        if shot:
            self.page.screenshot(path=shot, full_page=True)


def test_console_pages_run_under_the_policy(page, live_server, cast, screenshots):
    base = live_server.url
    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice, ip="127.0.0.1"),
        subject="Beacon to 203.0.113.7 from WS-042",
        department=cast.soc,
        body="EDR saw beaconing to 203.0.113.7 and evil.example.test every 60 s.",
        requester_email="dana@example.test",
        severity="high",
    )
    watch = PolicyWatch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    watch.visit(f"{base}/login", screenshots / "csp-login.png")
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    watch.check(ready="h1")
    watch.visit(f"{base}/tickets/?queue=all", screenshots / "csp-queue.png")
    # The ticket page loads its observables (alerts) panel and presence through htmx.
    watch.visit(f"{base}/tickets/{ticket.number}/", ready="#observables-panel h2")
    watch.check(screenshots / "csp-ticket.png")
    # An htmx form swap under the policy: an internal note.
    page.get_by_label("Message").fill("Blocked at the proxy.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".entry.note").last).to_contain_text("Blocked at the proxy.")
    watch.check()
    watch.visit(f"{base}/tickets/new", screenshots / "csp-new-ticket.png")
    watch.visit(f"{base}/audit/", screenshots / "csp-audit.png")
    watch.visit(f"{base}/dashboard", screenshots / "csp-dashboard.png")  # inline SVG charts, no style
    watch.visit(f"{base}/admin/", screenshots / "csp-admin.png")
    watch.visit(f"{base}/admin/accounts/apikey/add/", screenshots / "csp-admin-apikey.png")
    watch.visit(f"{base}/account/security", screenshots / "csp-security.png")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    watch.check(screenshots / "csp-enroll.png", ready="figure.qr svg")

    # The theme toggle (a file, no inline script) still works and survives a reload.
    page.get_by_role("button", name="Toggle dark theme").click()
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    watch.check()

    # The second sign-in step, as alice with an authenticator.
    actor = Actor.for_agent(cast.alice, ip="127.0.0.1")
    device = totp_enrollment_start(actor=actor, agent=cast.alice)
    totp_enrollment_confirm(actor=actor, agent=cast.alice, code=code_for(device))
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PERSONA_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    watch.check(screenshots / "csp-verify.png", ready="text=Two-factor sign-in")

    policies = set(watch.headers.values())
    assert len(watch.headers) >= 10
    assert None not in policies, [url for url, policy in watch.headers.items() if policy is None]
    (policy,) = policies
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
