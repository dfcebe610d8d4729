"""The admin area's scheduled-report pages: admins only (404 for everyone else), created and edited
through the audited services with refusals next to their field and nothing written, the PDF preview."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.reports.models import ReportSchedule
from socdesk.reports.schedules import ScheduleDefinition, schedule_create
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


def post_data(people, **changes) -> dict:
    data = {
        "name": "soc-weekly",
        "department": str(people.soc.pk),
        "team": "",
        "frequency": "weekly",
        "recipients": "lead@example.test\nciso@example.test",
        "enabled": "on",
    }
    return data | changes


def make(people) -> ReportSchedule:
    definition = ScheduleDefinition(
        name="soc-weekly", department=people.soc, recipients=["lead@example.test"]
    )
    return schedule_create(actor=Actor.system("test"), definition=definition)


def test_only_admins_reach_the_pages(people):
    schedule = make(people)
    base = "/admin-area/reports"
    pages = (base, f"{base}/new", f"{base}/{schedule.pk}", f"{base}/{schedule.pk}/preview.pdf")
    admin = client_for(people.admin)
    for url in pages:
        assert admin.get(url).status_code == 200, url
    before = AuditEvent.objects.count()
    for persona in (people.alice, people.bob, people.carol):
        client = client_for(persona)
        for url in pages:
            assert client.get(url).status_code == 404, (persona, url)
        assert client.post(f"{base}/new", post_data(people, name="sneaky")).status_code == 404
        assert (
            client.post(
                f"{base}/{schedule.pk}", post_data(people, recipients="evil@example.test")
            ).status_code
            == 404
        )
        assert client.post(f"{base}/{schedule.pk}/delete").status_code == 404
    assert list(ReportSchedule.objects.values_list("name", "recipients")) == [
        ("soc-weekly", ["lead@example.test"])
    ]
    assert AuditEvent.objects.count() == before
    assert 'href="/admin-area/reports"' in admin.get("/admin-area/").content.decode()


def test_created_edited_and_deleted(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/reports/new", post_data(people, team=str(people.tier1.pk)))
    schedule = ReportSchedule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin-area/reports/{schedule.pk}"
    assert (schedule.team, schedule.recipients) == (people.tier1, ["lead@example.test", "ciso@example.test"])
    page = admin.get(f"/admin-area/reports/{schedule.pk}").content.decode()
    assert "not yet: the worker sends the last whole period within the hour" in page
    assert "lead@example.test\nciso@example.test" in page

    response = admin.post(
        f"/admin-area/reports/{schedule.pk}",
        post_data(people, frequency="monthly", recipients="a@example.test, b@example.test"),
    )
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.frequency, schedule.recipients, schedule.team) == (
        "monthly",
        ["a@example.test", "b@example.test"],
        None,
    )

    preview = admin.get(f"/admin-area/reports/{schedule.pk}/preview.pdf")
    assert preview["Content-Type"] == "application/pdf" and preview.content.startswith(b"%PDF-")

    assert admin.post(f"/admin-area/reports/{schedule.pk}/delete").status_code == 302
    assert not ReportSchedule.objects.exists()
    actions = (
        AuditEvent.objects.filter(action__startswith="report_schedule.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert list(actions) == ["report_schedule.created", "report_schedule.updated", "report_schedule.deleted"]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"recipients": "lead@example.test, nope"}, "&#x27;nope&#x27; is not an e-mail address"),
        ({"name": "Weekly Report!"}, "lower-case letters"),
    ],
)
def test_refusals_are_shown_next_to_the_field_and_nothing_is_written(people, changes, says):
    admin = client_for(people.admin)
    before = AuditEvent.objects.count()
    response = admin.post("/admin-area/reports/new", post_data(people, **changes))
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not ReportSchedule.objects.exists() and AuditEvent.objects.count() == before


def test_a_team_of_another_department_is_refused(people):
    admin = client_for(people.admin)
    response = admin.post(
        "/admin-area/reports/new", post_data(people, department=str(people.it.pk), team=str(people.tier1.pk))
    )
    assert response.status_code == 400 and "Tier 1 is not in IT Help Desk" in response.content.decode()
    assert not ReportSchedule.objects.exists()
