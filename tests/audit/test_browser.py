"""The admin audit browser and the audited Django admin."""

import pytest
from django.test import Client

from socdesk.accounts.models import Department
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import seal_pending
from tests.audit.test_chain import _tamper
from tests.console_helpers import client_for


@pytest.fixture
def admin(people):
    return client_for(people.admin)


def test_only_admins_see_the_audit_browser(people):
    for agent in (people.alice, people.bob, people.carol):
        assert client_for(agent).get("/audit/").status_code == 404
    assert client_for(people.admin).get("/audit/").status_code == 200


def test_browser_lists_newest_first_with_chain_note(admin, soc_ticket):
    seal_pending()
    html = admin.get("/audit/").content.decode()
    last = AuditEvent.objects.order_by("-seq").first()
    assert f"Chain verified up to seq {last.seq}." in html
    assert html.index("ticket.created") < html.index("agent.created")


def test_browser_filters(admin, people, soc_ticket):
    html = admin.get("/audit/?action=ticket.").content.decode()
    assert "ticket.created" in html and "agent.created" not in html
    html = admin.get("/audit/?actor=alice").content.decode()
    assert "ticket.created" in html and "department.created" not in html
    html = admin.get(f"/audit/?target={soc_ticket.number}").content.decode()
    assert "ticket.created" in html and "team.created" not in html
    html = admin.get("/audit/?since=2000-01-01&until=2000-01-02").content.decode()
    assert "No events match." in html
    html = admin.get("/audit/?since=last-week").content.decode()
    assert "From must be a date like" in html


def test_browser_pages_back_in_time(admin, people, settings, monkeypatch):
    monkeypatch.setattr("socdesk.audit.views.PAGE_SIZE", 3)
    first = admin.get("/audit/").content.decode()
    newest = list(AuditEvent.objects.order_by("-id")[:4])
    assert 'rel="next"' in first
    second = admin.get(f"/audit/?before={newest[2].id}").content.decode()
    assert second.count("<tr data-row>") == 3


def test_browser_names_a_broken_chain(admin, people):
    seal_pending()
    event = AuditEvent.objects.order_by("seq")[2]
    _tamper("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["mallory", event.pk])
    html = admin.get("/audit/").content.decode()
    assert f"The chain is broken at seq {event.seq}" in html


def test_admin_changes_are_audited(people):
    client = Client()
    assert client.login(username="admin", password=PERSONA_PASSWORD)
    response = client.post(
        f"/admin/accounts/department/{people.it.pk}/change/",
        {"name": "IT Service Desk", "slug": "it", "email": "it@example.test", "description": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="admin.department_changed")
    assert event.actor_label == "admin"
    assert event.before["name"] == "IT Help Desk" and event.after["name"] == "IT Service Desk"
    response = client.post(
        "/admin/accounts/department/add/", {"name": "CERT", "slug": "cert", "email": "", "description": ""}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="admin.department_added").after["name"] == "CERT"
    cert = Department.objects.get(name="CERT")
    client.post(f"/admin/accounts/department/{cert.pk}/delete/", {"post": "yes"})
    deleted = AuditEvent.objects.get(action="admin.department_deleted")
    assert deleted.before["name"] == "CERT" and deleted.target_id == str(cert.pk)


def test_admin_team_membership_change_is_audited(people):
    client = Client()
    client.force_login(people.admin.user)
    response = client.post(
        f"/admin/accounts/team/{people.tier1.pk}/change/",
        {
            "name": "Tier 1",
            "department": people.soc.pk,
            "lead": people.alice.pk,
            "members": [people.alice.pk],
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.team_changed")
    assert event.before["members"] == sorted([people.alice.pk, people.bob.pk])
    assert event.after["members"] == [people.alice.pk]


def test_admin_is_for_admins_only(people):
    people.alice.user.is_staff = True
    people.alice.user.save()
    client = client_for(people.alice)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_view_alone_answers_404(people, rf):
    """The URLconf wraps the browser in admin_view; served without it (a wiring mistake), it is a 404."""
    from django.http import Http404

    from socdesk.audit.views import audit_browser

    request = rf.get("/audit/")
    request.user = people.admin.user
    with pytest.raises(Http404):
        audit_browser(request)
