"""GET /api/v1/tickets/export: the list's filters, every matching ticket, as CSV or JSON, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


def _ticket(people, subject, *, severity="medium", department=None):
    return services.ticket_create(
        actor=people.actor(people.admin),
        subject=subject,
        department=department or people.soc,
        severity=severity,
    )


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_export_csv_and_json_with_the_lists_filters(people, alice_api):
    crit = _ticket(people, "Beacon", severity="critical")
    _ticket(people, "Printer jam", severity="low")
    _ticket(people, "Wi-Fi down", department=people.it, severity="critical")
    response = alice_api.get("tickets/export?severity=critical&format=csv&limit=1&cursor=x")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["number"] for row in rows] == [crit.number]
    items = json.loads(_body(alice_api.get("tickets/export?format=json&sort=-number")))
    assert [item["subject"] for item in items] == ["Beacon", "Printer jam"]
    event = AuditEvent.objects.filter(action="tickets.exported").order_by("-id").first()
    assert event.after == {"format": "json", "query": "sort=-number", "via": "api"}


def test_a_tools_key_exports_all_departments_it_may_read(people, tool):
    _ticket(people, "Beacon")
    _ticket(people, "Wi-Fi down", department=people.it)
    rows = list(csv.DictReader(io.StringIO(_body(tool.get("tickets/export")))))
    assert sorted(row["subject"] for row in rows) == ["Beacon", "Wi-Fi down"]


def test_another_departments_agent_exports_none_of_ours(people, carol_api):
    _ticket(people, "Beacon")
    assert json.loads(_body(carol_api.get("tickets/export?format=json"))) == []


def test_wrong_filters_scope_or_format_are_clear_errors_and_record_nothing(people, alice_api, tool):
    before = AuditEvent.objects.count()
    response = alice_api.get("tickets/export?severity=urgent")
    assert response.status_code == 400 and "severity" in response.json()["error"]["message"]
    response = alice_api.get("tickets/export?created_from=yesterday")
    assert response.status_code == 400 and "Check the filters" in response.json()["error"]["message"]
    response = alice_api.get("tickets/export?format=xml")
    assert response.status_code == 400
    response = tool.get("tickets/export?queue=mine")
    assert response.status_code == 400 and "needs an agent" in response.json()["error"]["message"]
    reader = ApiClient(make_key(["tickets:create"], name="creator"))
    assert reader.get("tickets/export").status_code == 403
    assert ApiClient().get("tickets/export").status_code == 401
    assert AuditEvent.objects.filter(action="tickets.exported").count() == 0
    assert AuditEvent.objects.count() == before + 1  # the key made above


def test_export_is_not_taken_for_a_ticket_number(people, alice_api):
    assert alice_api.get("tickets/export").status_code == 200
    assert alice_api.get("tickets/SOC-404").status_code == 404
