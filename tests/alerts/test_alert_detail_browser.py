"""Alert detail in a real Chromium: header summary, alerts panel, raw payload on demand, queue columns."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create

from .conftest import sample

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


def _sign_in(page, live_server, agent) -> None:
    session = SessionStore()
    session[SESSION_KEY] = str(agent.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent.user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )


def _ingest(integration, body: bytes) -> None:
    delivery = delivery_receive(adapter="alertmanager", body=body, integration=integration)
    delivery_process(delivery_id=delivery.pk)


def test_an_analyst_reads_the_alerts_of_a_ticket_and_opens_a_payload(
    live_server, page, people, make_integration, screenshots
):
    integration = make_integration("alertmanager", name="prometheus-prod", grouping_key="labels.alertname")
    two = json.loads(sample("alertmanager_v4_two_alerts.json"))
    two["alerts"][1]["annotations"]["description"] = "</pre><script>document.title='owned'</script>"
    for _ in range(3):
        _ingest(integration, json.dumps(two).encode())
    _ingest(integration, sample("alertmanager_v4_resolved.json"))  # web01 resolves, web02 keeps firing
    ticket = Ticket.objects.get()
    firing = Alert.objects.get(ticket=ticket, status="firing")
    # Two more tickets for the queue: one acknowledged after 12 minutes, one also resolved.
    now = timezone.now()
    for subject, times in (
        ("Phishing report from finance", {"acknowledged_at": now - timedelta(minutes=48)}),
        ("Malware on WS-042", {"acknowledged_at": now - timedelta(minutes=48), "resolved_at": now,
                               "status": "resolved", "resolution": "true_positive"}),
    ):  # fmt: skip
        made = ticket_create(actor=Actor.for_agent(people.alice), subject=subject, department=people.soc)
        Ticket.objects.filter(pk=made.pk).update(created_at=now - timedelta(hours=1), **times)
    _sign_in(page, live_server, people.alice)

    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{ticket.number}/")
        summary = page.locator("[data-alert-summary]")
        assert "Alerts (2) \u00d76" in summary.inner_text() and "1 firing" in summary.inner_text()
        panel = page.locator("#alerts-panel")
        panel.wait_for()
        assert panel.locator(".alert-card").count() == 2
        card = panel.locator(f'[data-alert="{firing.pk}"]')
        assert "Firing" in card.inner_text() and "prometheus-prod" in card.inner_text()
        link = card.get_by_role("link", name="http://prometheus:9090/graph?g0.expr=...")
        assert link.get_attribute("rel") == "noopener noreferrer"
        # Not loaded until opened.
        assert card.locator("pre.payload").count() == 0
        card.locator("summary", has_text="Raw payload").click()
        payload = card.locator("pre.payload")
        payload.wait_for()
        assert "<script>document.title='owned'</script>" in payload.inner_text()
        assert page.title() != "owned"
        assert card.get_by_role("link", name="Download the payload").is_visible()
        overflow = panel.evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 1, f"the alerts panel overflows by {overflow}px at {width}px"
        page.screenshot(path=str(screenshots / f"alert-detail-ticket-{size}.png"), full_page=True)

        page.goto(f"{live_server.url}/tickets/?queue=all&sort=alerts")
        row = page.locator(f'tr[data-href="/tickets/{ticket.number}/"]')
        assert row.locator('[data-col="alerts"]').inner_text() == "\u00d76"
        resolved = page.locator("tr[data-row]", has_text="Malware on WS-042")
        assert resolved.locator('[data-col="tta"]').inner_text() == "12 min"
        assert resolved.locator('[data-col="ttr"]').inner_text() == "1 h"
        page.screenshot(path=str(screenshots / f"alert-detail-queue-{size}.png"), full_page=True)
