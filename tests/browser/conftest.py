"""Playwright drives Debian's Chromium against pytest-django's live server (see docs/TESTING.md)."""

from __future__ import annotations

import os
import re
import shutil
from email import message_from_bytes
from email.policy import default

import pytest

from tests.conftest import CHROMIUM


@pytest.fixture
def cast(transactional_db):
    """The personas, in a database the live server thread can see."""
    from socdesk.accounts.testing import make_personas

    return make_personas()


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(autouse=True)
def _chromium_present():
    if not shutil.which(CHROMIUM) and os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI; .ci/run must install it (apt-get install -y chromium).")


def htmx_settled(page) -> None:
    """Wait until htmx has finished swapping and settling: content it swaps in gets its own triggers (an
    `hx-trigger="change"`) only when it settles, so a choice made before that would be lost."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture
def axe_check():
    """Run axe-core (from the axe-playwright-python package, a test dependency) on the current page and
    fail with its report on any violation."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        message = "axe-playwright-python is not installed (it is in requirements.lock: make install)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    axe = Axe()

    def check(page, name: str) -> None:
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, f"axe on the {name} page:\n{results.generate_report()}"

    return check


def mailed_link(smtp, address: str) -> str:
    [(_to, raw)] = [m for m in smtp.messages if address in m[0]]
    body = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
    return re.search(r"http://\S+/portal/sign-in/\S+", body)[0]
