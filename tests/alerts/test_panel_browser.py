"""The observables panel in a real Chromium: it renders, flags an IOC and adds a defanged URL."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import TicketObservable
from socdesk.tickets.models import Ticket

from .conftest import sample

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(live_server, page, people):
    user = people.alice.user
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )
    return page


def test_panel_flags_and_adds_in_a_browser(live_server, signed_in, make_integration, tmp_path):
    integration = make_integration("wazuh")
    delivery_process(
        delivery_id=delivery_receive(
            adapter="wazuh", body=sample("wazuh_alert.json"), integration=integration
        ).pk
    )
    ticket = Ticket.objects.get()
    page = signed_in
    page.goto(f"{live_server.url}/tickets/{ticket.number}/observables")
    row = page.locator('tr[data-observable="ip:203.0.113.7"]')
    assert row.is_visible() and "documentation" in row.inner_text()
    page.screenshot(path=str(tmp_path / "observables-panel.png"), full_page=True)
    row.get_by_role("button", name="mark IOC").click()
    page.wait_for_selector('tr[data-observable="ip:203.0.113.7"] button.flag.on')
    assert TicketObservable.objects.get(ticket=ticket, observable__value="203.0.113.7").ioc
    page.fill('[name="value"]', "hxxps://evil[.]example/payload")
    page.get_by_role("button", name="Add").click()
    page.wait_for_selector('tr[data-observable="url:https://evil.example/payload"]')
    page.screenshot(path=str(os.environ.get("SOCDESK_SCREENSHOT", tmp_path / "after.png")), full_page=True)
