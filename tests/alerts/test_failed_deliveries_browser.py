"""The failed-deliveries page in a real Chromium: reached from the navigation, escaped, retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import WebhookDelivery
from socdesk.audit.models import AuditEvent

from .conftest import sample

pytestmark = pytest.mark.browser

HOSTILE = (
    b'{"event": {"name": "<img src=x onerror=alert(1)>", "key": "k"}, '
    b'"note": "</pre><script>document.title=\'owned\'</script>"}'
)


def _sign_in(page, live_server, agent) -> None:
    session = SessionStore()
    session[SESSION_KEY] = str(agent.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent.user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )


def _shot(page, tmp_path: Path, name: str) -> None:
    where = Path(os.environ.get("SOCDESK_SCREENSHOT_DIR", tmp_path))
    where.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(where / name), full_page=True)


def test_a_lead_finds_failed_deliveries_from_the_navigation_and_retries_one(
    live_server, page, people, make_integration, tmp_path
):
    broken = make_integration("generic", name="soc-siem", field_map={"title": "nothing.here"})
    failed = []
    for body in (HOSTILE, sample("generic_custom.json")):
        delivery = delivery_receive(adapter="generic", body=body, integration=broken, client_ip="192.0.2.10")
        delivery_process(delivery_id=delivery.pk)
        failed.append(delivery.pk)
    _sign_in(page, live_server, people.alice)  # alice's role in SOC grants `manage`: a lead

    page.goto(f"{live_server.url}/")
    link = page.get_by_role("link", name="Failed deliveries (2)")
    assert link.is_visible()
    link.click()
    page.wait_for_url(f"{live_server.url}/deliveries/failed")
    assert page.title() == "Failed deliveries · SOCdesk"  # the hostile payload ran no script
    row = page.locator("tr[data-row]").filter(has_text="<img src=x onerror=alert(1)>")
    assert row.is_visible() and "no title" in row.inner_text()
    _shot(page, tmp_path, "failed-deliveries.png")

    row.get_by_role("button", name=f"Retry delivery {failed[0]}").click()
    page.wait_for_selector("text=1 delivery queued again")
    _shot(page, tmp_path, "failed-deliveries-retried.png")
    assert WebhookDelivery.objects.get(pk=failed[0]).status == "pending"
    assert WebhookDelivery.objects.get(pk=failed[1]).status == "failed"
    assert AuditEvent.objects.filter(action="delivery.requeued", target_id=str(failed[0])).exists()
    assert page.get_by_role("link", name="Failed deliveries (1)").is_visible()
