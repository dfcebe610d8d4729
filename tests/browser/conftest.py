"""Playwright drives Debian's Chromium against pytest-django's live server (see docs/TESTING.md)."""

from __future__ import annotations

import os
import shutil

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
