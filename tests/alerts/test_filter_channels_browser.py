"""The admin area's integrations page in a real Chromium shows how many alerts ticket filters refused."""

from __future__ import annotations

import pytest

from socdesk.alerts.ingest import delivery_process, delivery_receive
from tests.routing.test_apply import make_filter

from .conftest import sample
from .test_failed_deliveries_browser import _sign_in

pytestmark = pytest.mark.browser


def test_the_integrations_page_shows_alerts_refused_by_filters(
    live_server, page, people, make_integration, screenshots
):
    make_filter("Refuse web01", [("subject", "contains", "web01")], ["reject"])
    wazuh = make_integration("wazuh", name="Wazuh prod")
    make_integration("splunk", name="Splunk cloud")
    for _ in range(2):
        delivery = delivery_receive(adapter="wazuh", body=sample("wazuh_alert.json"), integration=wazuh)
        delivery_process(delivery_id=delivery.pk)
    _sign_in(page, live_server, people.admin)
    page.goto(f"{live_server.url}/admin-area/integrations")
    header = page.locator("th", has_text="Refused by filters")
    assert header.is_visible()
    row = page.locator("tr", has_text="Wazuh prod")
    assert row.locator("td").nth(6).inner_text() == "2"
    assert page.locator("tr", has_text="Splunk cloud").locator("td").nth(6).inner_text() == "0"
    page.screenshot(path=str(screenshots / "integrations_refused_by_filters.png"), full_page=True)
