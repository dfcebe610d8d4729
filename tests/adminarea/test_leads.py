"""Department leads (a role with `manage`) in the admin area: they see the agents and teams of the
departments they manage, change those departments' roles and team memberships only, and add teams there;
an agent or a department outside is a 404 or a refusal that writes nothing."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Team
from socdesk.accounts.onboarding import agent_memberships_set
from socdesk.accounts.services import access_grant, team_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied
from tests.console_helpers import client_for


@pytest.fixture
def world(people):
    """bob also holds a role in IT (carol's department), and is in IT's team Service Desk."""
    setup = Actor.system("test-setup")
    access_grant(actor=setup, agent=people.bob, department=people.it, role=people.analyst)
    desk = team_create(
        actor=setup, name="Service Desk", department=people.it, members=[people.bob, people.carol]
    )
    return people, desk


def test_a_lead_lists_only_the_agents_and_teams_of_their_departments(world):
    people, _desk = world
    alice = client_for(people.alice)
    agents = alice.get("/admin-area/agents").content.decode()
    assert "bob" in agents and "carol" not in agents and "New agent" not in agents
    teams = alice.get("/admin-area/teams").content.decode()
    assert "Tier 1" in teams and "Service Desk" not in teams
    assert alice.get(f"/admin-area/agents/{people.carol.pk}").status_code == 404


def test_a_lead_changes_roles_and_teams_in_their_department_and_leaves_the_rest(world):
    people, desk = world
    alice = client_for(people.alice)
    form = alice.get(f"/admin-area/agents/{people.bob.pk}").content.decode()
    assert f'name="role_{people.soc.pk}"' in form and f'name="role_{people.it.pk}"' not in form
    assert 'name="username"' not in form and "set-password" not in form
    # bob loses his SOC role and Tier 1; an IT role named in the post is ignored (not a field for her).
    response = alice.post(
        f"/admin-area/agents/{people.bob.pk}", {f"role_{people.soc.pk}": "", f"role_{people.it.pk}": ""}
    )
    assert response.status_code == 302
    bob = people.bob
    assert {a.department.name for a in bob.accesses.all()} == {"IT Help Desk"}
    assert list(bob.teams.all()) == [desk]
    event = AuditEvent.objects.get(action="agent.memberships_changed")
    assert event.actor_label == "alice"
    assert event.before["departments"] == {"IT Help Desk": "Analyst", "SOC": "Analyst"}
    assert event.after == {"departments": {"IT Help Desk": "Analyst"}, "teams": ["Service Desk"]}


def test_the_service_refuses_a_lead_naming_another_department_and_writes_nothing(world):
    people, desk = world
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="not: IT Help Desk, Service Desk"):
        agent_memberships_set(
            actor=Actor.for_agent(people.alice),
            agent=people.bob,
            roles={people.soc: people.analyst, people.it: people.analyst},
            teams=[desk],
        )
    assert AuditEvent.objects.count() == before


def test_a_lead_adds_a_team_in_their_department_only(world):
    people, _desk = world
    alice = client_for(people.alice)
    made = alice.post(
        "/admin-area/teams", {"name": "Hunt", "department": people.soc.pk, "members": [people.bob.pk]}
    )
    assert made.status_code == 302
    assert AuditEvent.objects.filter(action="team.created", actor_label="alice").exists()
    refused = alice.post("/admin-area/teams", {"name": "Elsewhere", "department": people.it.pk})
    assert refused.status_code == 400 and not Team.objects.filter(name="Elsewhere").exists()
    with pytest.raises(PermissionDenied, match="only create teams in a department you manage"):
        team_create(actor=Actor.for_agent(people.alice), name="Elsewhere", department=people.it)
    assert not Team.objects.filter(name="Elsewhere").exists()


def test_a_lead_cannot_use_the_admin_only_writes(world):
    people, _desk = world
    alice = client_for(people.alice)
    assert alice.post(f"/admin-area/agents/{people.bob.pk}/password-link").status_code == 404
    assert alice.post("/admin-area/agents/new", {"username": "mallory"}).status_code == 404
