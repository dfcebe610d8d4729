"""A demo ticket as an analyst sees it: its History shows the same days and times as its thread."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_demo_ticket_history_matches_its_thread(page, live_server, cast, screenshots):
    call_command("demo", tickets=30, no_alerts=True, stdout=StringIO())
    ticket = (
        Ticket.objects.filter(entries__kind="reply", status="closed").order_by("created_at").first()
        or Ticket.objects.filter(entries__kind="reply").order_by("created_at").first()
    )
    assert ticket is not None
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "admin", PERSONA_PASSWORD)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    history = page.get_by_role("list", name="History")
    expect(history).to_contain_text("replied")
    # "Nov 3, 14:05" in the thread's heads and events, "Nov 3, 14:05:27" in the history.
    minute = re.compile(r"[A-Z][a-z]{2} \d{1,2}, (?:\d{4} )?\d\d:\d\d")
    thread_times = {re.sub(r", \d{4}", ",", t) for t in minute.findall(page.locator(".thread").inner_text())}
    history_times = set(minute.findall(history.inner_text()))
    assert thread_times and thread_times <= history_times, (thread_times, history_times)
    page.screenshot(path=screenshots / "demo-ticket.png", full_page=True)
