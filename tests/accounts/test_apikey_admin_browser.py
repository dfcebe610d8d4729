"""The API key admin in a real browser: add a key, see it once, revoke it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import RequestFactory

from socdesk.accounts.keyauth import ApiAuthError, authenticate_key
from socdesk.accounts.models import ApiKey

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_admin_creates_shows_once_and_revokes(people, password, live_server, page, tmp_path):
    shots = Path(os.environ.get("SOCDESK_SCREENSHOTS", tmp_path))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")  # the admin's sign-in is the console's form
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/accounts/apikey/add/")
    page.fill("#id_name", "kibana")
    page.check("input[name=scopes][value='alerts:ingest']")
    page.fill("#id_allowed_cidrs", "10.0.0.0/8\n2001:db8::/32")
    page.select_option("#id_department", label="SOC")
    page.screenshot(path=str(shots / "apikey-add.png"), full_page=True)
    page.click("input[name=_save]")
    raw = page.input_value("#new-api-key")
    page.screenshot(path=str(shots / "apikey-created.png"), full_page=True)
    assert raw.startswith("sdk_")
    request = RequestFactory().post("/", REMOTE_ADDR="10.1.2.3")
    key, _ = authenticate_key(request, raw, scope="alerts:ingest")
    assert key.scopes == ["alerts:ingest", "tickets:create"]

    page.click("text=Back to API keys")
    page.check(f"input[name=_selected_action][value='{key.pk}']")
    page.select_option("select[name=action]", "revoke_keys")
    page.click("button[name=index]")
    page.wait_for_selector("text=Revoked 1 API key(s).")
    assert page.locator("td.field-state").inner_text() == "revoked"
    page.screenshot(path=str(shots / "apikey-list.png"), full_page=True)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    with pytest.raises(ApiAuthError):
        authenticate_key(request, raw, scope="alerts:ingest")
