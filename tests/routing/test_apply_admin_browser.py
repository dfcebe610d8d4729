"""The filter webhooks' delivery log in the Django admin, in a real browser: shown, never edited."""

from __future__ import annotations

import socket

import pytest

from socdesk.routing.models import FilterWebhookDelivery
from socdesk.routing.webhooks import webhooks_retry_due

from .test_apply import make_filter, open_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_delivery_log_shows_each_call_read_only(people, password, live_server, page, screenshots):
    url = f"http://127.0.0.1:{closed_port()}/soar"
    make_filter("Phishing to SOAR", [("subject", "contains", "phishing")], [("webhook", url)])
    ticket = open_ticket(people)
    webhooks_retry_due()  # the one attempt fails: nobody listens there
    delivery = FilterWebhookDelivery.objects.get()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/routing/filterwebhookdelivery/")
    row = page.locator("#result_list tbody tr")
    assert row.count() == 1
    text = row.inner_text()
    assert "Phishing to SOAR" in text and ticket.number in text and "Pending" in text
    assert f"Could not reach {url}" in text
    assert page.locator("text=Add filter webhook delivery").count() == 0
    page.screenshot(path=str(screenshots / "routing-admin-webhook-log.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/routing/filterwebhookdelivery/{delivery.pk}/change/")
    assert page.locator("input[type=submit][name=_save]").count() == 0
    assert page.locator("text=ticket.created").count() >= 1
