"""In a real Chromium: the observables panel's "seen in N other tickets" link opens the queue filtered to
the tickets that carry that observable."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Integration
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

WAZUH = Path(__file__).parent.parent / "alerts" / "fixtures" / "wazuh_alert.json"


def test_seen_in_other_tickets_opens_the_filtered_queue(page, live_server, cast, screenshots):
    integration = Integration.objects.create(adapter="wazuh", name="wazuh", department=cast.soc)
    body = WAZUH.read_bytes()
    for variant in (
        body,
        body.replace(b'"id":"001"', b'"id":"002"').replace(b'"name":"web01"', b'"name":"web02"'),
    ):
        delivery_process(
            delivery_id=delivery_receive(adapter="wazuh", body=variant, integration=integration).pk
        )
    first, second = Ticket.objects.order_by("id")
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    page.goto(f"{base}/tickets/{first.number}/observables")
    row = page.get_by_role("row").filter(has_text="203.0.113.7")
    row.get_by_role("link", name="seen in 1 other ticket").click()
    page.wait_for_url("**/tickets/?queue=all&observable=*")
    expect(page.get_by_text(first.number)).to_be_visible()
    expect(page.get_by_text(second.number)).to_be_visible()
    expect(page.get_by_text("Observable: ip:203.0.113.7")).to_be_visible()
    page.screenshot(path=screenshots / "queue-filtered-by-observable.png", full_page=True)
