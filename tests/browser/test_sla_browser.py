"""The SLA in a real Chromium: the At risk / Overdue queues with their SLA columns, and the ticket page's
clock counting down under the Content-Security-Policy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.routing.models import TicketSLA
from socdesk.routing.services.sla_scan import sla_scan
from tests.browser.conftest import sign_in
from tests.browser.test_csp_browser import PolicyWatch
from tests.routing.sla_fixtures import make_plans, open_ticket

pytestmark = pytest.mark.browser


def test_sla_queues_columns_and_live_clock(page, live_server, cast, screenshots):
    make_plans(cast)
    calm = open_ticket(cast, severity="high", subject="Beaconing from WS-042", assignee=cast.alice)
    risky = open_ticket(cast, severity="high", subject="Impossible travel for j.doe")
    late = open_ticket(cast, severity="critical", subject="Ransomware note on FS-01")
    now = timezone.now()
    TicketSLA.objects.filter(pk=risky.pk).update(
        response_at_risk_at=now - timedelta(minutes=5),
        response_due_at=now + timedelta(minutes=9),
        next_check_at=now,
    )
    TicketSLA.objects.filter(pk=late.pk).update(
        response_at_risk_at=now - timedelta(minutes=20),
        response_due_at=now - timedelta(minutes=3),
        next_check_at=now,
    )
    sla_scan()
    watch = PolicyWatch(page)
    sign_in(page, live_server.url, "alice", PERSONA_PASSWORD)

    # The landing page: the SLA queues among the others, and the SLA column on "My tickets" (the due
    # time, coloured by the state the tooltip names).
    watch.visit(f"{live_server.url}/", screenshots / "sla-home.png")
    expect(page.locator(f'tr:has-text("{calm.number}") td[data-col="sla"]')).to_have_attribute(
        "title", re.compile(r"^On track: response due")
    )
    expect(page.get_by_role("link", name="Overdue").first).to_be_visible()

    watch.visit(f"{live_server.url}/tickets/?queue=open", screenshots / "sla-queue-open.png")
    expect(page.locator(f'tr:has-text("{late.number}") td[data-col="sla"]')).to_have_attribute(
        "title", re.compile(r"^Overdue: response due")
    )
    expect(page.locator(f'tr:has-text("{risky.number}") td[data-col="sla"]')).to_have_attribute(
        "title", re.compile(r"^At risk: response due")
    )
    expect(page.locator(f'tr:has-text("{calm.number}") td[data-col="sla"]')).to_have_attribute(
        "title", re.compile(r"^On track: response due")
    )

    watch.visit(f"{live_server.url}/tickets/?queue=overdue", screenshots / "sla-queue-overdue.png")
    expect(page.locator("tbody tr[data-row]")).to_have_count(1)
    expect(page.locator("tbody tr[data-row]")).to_contain_text(late.number)

    watch.visit(f"{live_server.url}/tickets/{risky.number}/", screenshots / "sla-ticket-clock.png")
    clock = page.locator("[data-sla-clock]")
    expect(clock).to_contain_text("At risk")
    remaining = page.locator("[data-sla-remaining]")
    first = int(clock.get_attribute("data-remaining"))
    expect(remaining).to_contain_text("left")
    page.wait_for_timeout(2200)
    assert int(clock.get_attribute("data-remaining")) <= first - 2  # the script counts down
    watch.visit(f"{live_server.url}/tickets/{late.number}/", screenshots / "sla-ticket-overdue.png")
    expect(page.locator("[data-sla-remaining]")).to_contain_text("overdue by")
