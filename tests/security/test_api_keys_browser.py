"""The API key admin in a real browser: the list shows each key's last use and state, and rotating a key
shows its replacement once with the old key's grace period."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from socdesk.accounts.keyauth import authenticate_key
from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create
from socdesk.core.actor import Actor

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_admin_lists_last_use_and_rotates_a_key(people, password, live_server, page, screenshots):
    key, raw = apikey_create(actor=Actor.system("t"), name="wazuh-manager", scopes=["alerts:ingest"])
    authenticate_key(RequestFactory().post("/", REMOTE_ADDR="10.20.30.40"), raw, scope="alerts:ingest")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")  # the admin's sign-in is the console's form
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/accounts/apikey/")
    assert "from 10.20.30.40" in page.locator("td.field-last_used").inner_text()
    page.check(f"input[name=_selected_action][value='{key.pk}']")
    page.select_option("select[name=action]", "rotate_key")
    page.click("button[name=index]")
    new_raw = page.input_value("#new-api-key")
    assert new_raw.startswith("sdk_") and new_raw != raw
    assert key.prefix in page.locator("#rotation-grace").inner_text()
    page.screenshot(path=str(screenshots / "apikey-rotated.png"), full_page=True)
    page.set_viewport_size({"width": 1600, "height": 720})  # the admin's list scrolls sideways below that
    page.click("text=Back to API keys")
    page.wait_for_selector("td.field-state")
    states = page.locator("td.field-state").all_inner_texts()
    new = ApiKey.objects.get(replaces=key)
    assert f"rotated to {new.prefix}" in states and "active" in states
    page.screenshot(path=str(screenshots / "apikey-list-rotated.png"), full_page=True)
