"""The admin area's agent pages: one form creates an agent with roles and teams (one audit event) and
shows a set-password link once; the link sets the password through the audited service and then stops
working; everyone but an admin gets a 404."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from tests.console_helpers import client_for

ADMIN_PAGES = [
    "/admin-area/",
    "/admin-area/agents",
    "/admin-area/agents/new",
    "/admin-area/departments",
    "/admin-area/teams",
    "/admin-area/roles",
    "/admin-area/integrations",
    "/admin-area/integrations/new",
    "/admin-area/api-keys",
    "/admin-area/api-keys/new",
]


def agent_form(people, **changes) -> dict:
    """The agent form as a browser posts it: dana, analyst in SOC, in Tier 1, active."""
    data = {
        "username": "dana",
        "first_name": "Dana",
        "last_name": "Reyes",
        "email": "dana@example.test",
        "is_active": "on",
        f"role_{people.soc.pk}": str(people.analyst.pk),
        f"role_{people.it.pk}": "",
        "teams": [str(people.tier1.pk)],
    } | changes
    return {k: v for k, v in data.items() if v is not None}


LEAD_PAGES = ["/admin-area/", "/admin-area/agents", "/admin-area/teams"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_every_page_is_there_for_admins_a_404_for_agents_who_manage_nothing(people, worker, url):
    assert client_for(worker).get(url).status_code == 404
    assert client_for(people.admin).get(url).status_code == 200
    # alice leads SOC (her role has `manage`): the overview, agents and teams only.
    assert client_for(people.alice).get(url).status_code == (200 if url in LEAD_PAGES else 404)


def test_signed_out_visitors_are_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get("/admin-area/agents")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_the_top_bar_links_to_the_admin_area_for_admins_and_leads_only(people, worker):
    assert 'href="/admin-area/"' in client_for(people.admin).get("/").content.decode()
    assert 'href="/admin-area/"' in client_for(people.alice).get("/").content.decode()
    assert "/admin-area/" not in client_for(worker).get("/").content.decode()


def test_creating_an_agent_writes_login_roles_and_teams_in_one_event_and_shows_the_link(people):
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post("/admin-area/agents/new", agent_form(people))
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["Cache-Control"] == "no-store"
    dana = Agent.objects.get(user__username="dana")
    assert dana.user.email == "dana@example.test" and dana.user.get_full_name() == "Dana Reyes"
    assert not dana.user.has_usable_password()
    assert {(a.department.name, a.role.name) for a in dana.accesses.all()} == {("SOC", "Analyst")}
    assert list(dana.teams.values_list("name", flat=True)) == ["Tier 1"]
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["agent.created", "agent.password_link_issued"]
    assert events[0].after["departments"] == {"SOC": "Analyst"} and events[0].after["teams"] == ["Tier 1"]
    page = response.content.decode()
    link = re.search(r'value="(http://testserver/account/set-password/[^"]+)"', page)
    assert link, page
    # The test settings' mail backend delivers (locmem): the link went to dana too.
    assert mail.outbox[-1].to == ["dana@example.test"] and link.group(1) in mail.outbox[-1].body
    assert "mailed to dana@example.test" in page


def test_a_taken_username_is_refused_next_to_the_field_and_nothing_is_written(people):
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post("/admin-area/agents/new", agent_form(people, username="ALICE"))
    assert response.status_code == 400
    assert "The username &#x27;ALICE&#x27; is taken." in response.content.decode()
    assert not get_user_model().objects.filter(username="ALICE").exists()
    assert AuditEvent.objects.count() == before


def test_a_bad_email_is_refused_and_nothing_is_written(people):
    response = client_for(people.admin).post(
        "/admin-area/agents/new", agent_form(people, email="not an address")
    )
    assert response.status_code == 400
    assert not Agent.objects.filter(user__username="dana").exists()


def test_editing_an_agent_changes_roles_teams_and_active(people):
    admin = client_for(people.admin)
    form = agent_form(
        people,
        username="bob",
        first_name="Bob",
        last_name="",
        email="bob@example.test",
        is_active=None,
        teams=[],
        **{f"role_{people.soc.pk}": "", f"role_{people.it.pk}": str(people.analyst.pk)},
    )
    response = admin.post(f"/admin-area/agents/{people.bob.pk}", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    bob = Agent.objects.select_related("user").get(pk=people.bob.pk)
    assert not bob.user.is_active
    assert {a.department.name for a in bob.accesses.all()} == {"IT Help Desk"}
    assert not bob.teams.exists()
    changed = AuditEvent.objects.filter(action="agent.memberships_changed").get()
    assert changed.before == {"departments": {"SOC": "Analyst"}, "teams": ["Tier 1"]}
    assert changed.after == {"departments": {"IT Help Desk": "Analyst"}, "teams": []}
    assert AuditEvent.objects.filter(action="user.flags_changed", after__is_active=False).exists()


def test_the_agents_list_takes_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    admin = client_for(people.admin)
    for n in range(8):
        admin.post("/admin-area/agents/new", agent_form(people, username=f"agent{n}", email=""))
    with django_assert_max_num_queries(12):
        response = admin.get("/admin-area/agents")
    assert response.content.decode().count("data-row") == 12


def test_the_set_password_link_sets_the_password_once(people, client):
    response = client_for(people.admin).post("/admin-area/agents/new", agent_form(people))
    url = re.search(r'value="http://testserver(/account/set-password/[^"]+)"', response.content.decode())[1]
    form_page = client.get(url, follow=True)
    assert "Choose your password" in form_page.content.decode()
    form_url = form_page.redirect_chain[-1][0]
    weak = client.post(form_url, {"new_password1": "abc", "new_password2": "abc"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    assert not get_user_model().objects.get(username="dana").has_usable_password()
    done = client.post(
        form_url, {"new_password1": "violet-otter-canyon-42", "new_password2": "violet-otter-canyon-42"}
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(username="dana").check_password("violet-otter-canyon-42")
    event = AuditEvent.objects.filter(action="user.password_changed").latest("id")
    assert event.actor_label == "dana" and event.after == {"usable": True}
    # Used once: the same link now explains itself instead of offering the form.
    again = client.get(url, follow=True).content.decode()
    assert "no longer valid" in again and "new_password1" not in again


def test_a_new_link_for_an_existing_agent(people):
    response = client_for(people.admin).post(f"/admin-area/agents/{people.bob.pk}/password-link")
    assert response.status_code == 200
    assert "/account/set-password/" in response.content.decode()
    refused = client_for(people.alice).post(f"/admin-area/agents/{people.bob.pk}/password-link")
    assert refused.status_code == 404


def test_an_inactive_new_agent_gets_no_link_until_made_active(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/agents/new", agent_form(people, is_active=None))
    dana = Agent.objects.get(user__username="dana")
    assert response.status_code == 302 and response["Location"] == f"/admin-area/agents/{dana.pk}"
    assert not dana.user.is_active
    assert not AuditEvent.objects.filter(action="agent.password_link_issued").exists()
    refused = admin.post(f"/admin-area/agents/{dana.pk}/password-link", follow=True)
    assert "dana is inactive; make the agent active" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="agent.password_link_issued").exists()
