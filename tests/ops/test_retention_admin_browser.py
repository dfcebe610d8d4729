"""A department's retention in the admin, in a real browser: the fields explain themselves, and a change
is audited and honoured by the next retention pass."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Department
from socdesk.alerts.retention import retention_policies
from socdesk.audit.models import AuditEvent

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_admin_sets_a_departments_retention(people, password, live_server, page, screenshots):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")  # the admin's sign-in is the console's form
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/accounts/department/{people.soc.pk}/change/")
    assert "Empty: the SOCDESK_CLOSED_TICKET_RETENTION_DAYS default" in page.inner_text("body")
    page.fill("#id_closed_ticket_retention_days", "90")
    page.fill("#id_raw_payload_retention_days", "30")
    page.screenshot(path=str(screenshots / "department-retention.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector("text=was changed successfully")

    soc = Department.objects.get(pk=people.soc.pk)
    assert (soc.raw_payload_retention_days, soc.closed_ticket_retention_days) == (30, 90)
    event = AuditEvent.objects.filter(action="admin.department_changed", target_id=str(soc.pk)).get()
    assert event.before["closed_ticket_retention_days"] is None
    assert event.after["closed_ticket_retention_days"] == 90
    policy = next(p for p in retention_policies() if p.department == soc)
    assert (policy.raw_payload_days, policy.closed_ticket_days) == (30, 90)

    page.goto(f"{live_server.url}/admin/accounts/department/{people.soc.pk}/change/")
    page.fill("#id_closed_ticket_retention_days", "0")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "greater than or equal to 1" in page.inner_text(".errorlist")
    assert Department.objects.get(pk=soc.pk).closed_ticket_retention_days == 90
