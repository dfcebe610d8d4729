"""The department and team pages carry auto-assignment and (department) auto-close; only admins set them."""

from __future__ import annotations

from socdesk.accounts.models import Department
from socdesk.audit.models import AuditEvent
from socdesk.routing.models import AssignmentPolicy
from tests.console_helpers import client_for


def _department_form(department, **changes) -> dict:
    return {
        "name": department.name,
        "email": department.email,
        "description": department.description,
        "raw_payload_retention_days": "",
        "closed_ticket_retention_days": "",
        "assignment_mode": "none",
        "autoclose_resolved_days": "",
    } | changes


def test_an_admin_sets_a_departments_assignment_and_auto_close(people):
    admin = client_for(people.admin)
    page = admin.get(f"/admin-area/departments/{people.soc.pk}").content.decode()
    assert "Assign new tickets automatically" in page and "Close resolved tickets after (days)" in page
    form = _department_form(people.soc, assignment_mode="round_robin", autoclose_resolved_days="5")
    response = admin.post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 302
    assert AssignmentPolicy.objects.get(department=people.soc).mode == "round_robin"
    assert Department.objects.get(pk=people.soc.pk).autoclose_resolved_days == 5
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"assignment_policy.changed", "department.autoclose_changed"} <= actions
    page = admin.get(f"/admin-area/departments/{people.soc.pk}").content.decode()
    assert '<option value="round_robin" selected>' in page and 'value="5"' in page


def test_a_bad_auto_close_value_is_refused_and_nothing_is_saved(people):
    events = AuditEvent.objects.count()
    form = _department_form(
        people.soc, name="SOC renamed", assignment_mode="fewest_open", autoclose_resolved_days="0"
    )
    response = client_for(people.admin).post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert Department.objects.get(pk=people.soc.pk).name == "SOC"
    assert not AssignmentPolicy.objects.exists() and AuditEvent.objects.count() == events


def test_an_unknown_mode_is_named_and_nothing_is_saved(people):
    form = _department_form(people.soc, name="SOC renamed", assignment_mode="random")
    response = client_for(people.admin).post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    assert Department.objects.get(pk=people.soc.pk).name == "SOC"


def test_an_admin_sets_a_teams_policy(people):
    admin = client_for(people.admin)
    assert (
        "Assign the team&#x27;s new tickets automatically"
        in admin.get(f"/admin-area/teams/{people.tier1.pk}").content.decode()
    )
    form = {
        "name": "Tier 1",
        "department": people.soc.pk,
        "lead": people.alice.pk,
        "members": [people.alice.pk, people.bob.pk],
        "assignment_mode": "fewest_open",
    }
    assert admin.post(f"/admin-area/teams/{people.tier1.pk}", form).status_code == 302
    assert AssignmentPolicy.objects.get(team=people.tier1).mode == "fewest_open"


def test_a_department_lead_edits_the_team_but_not_its_policy(people):
    # alice leads SOC (the Analyst role has `manage`): she sees the team's page without the policy
    lead = client_for(people.alice)
    assert "Assign the team" not in lead.get(f"/admin-area/teams/{people.tier1.pk}").content.decode()
    form = {
        "name": "Tier 1",
        "department": people.soc.pk,
        "lead": people.alice.pk,
        "members": [people.alice.pk, people.bob.pk],
        "assignment_mode": "round_robin",
    }
    assert lead.post(f"/admin-area/teams/{people.tier1.pk}", form).status_code == 302
    assert not AssignmentPolicy.objects.exists()
    # and the department page is not theirs at all
    assert lead.get(f"/admin-area/departments/{people.soc.pk}").status_code == 404


def test_the_agents_list_says_who_is_away(people):
    from socdesk.accounts.services import agent_set_availability
    from socdesk.core.actor import Actor

    agent_set_availability(actor=Actor.for_agent(people.bob), agent=people.bob, available=False)
    page = client_for(people.admin).get("/admin-area/agents").content.decode()
    assert 'active · <span class="muted">away</span>' in page
    assert page.count("active · available") == 3  # alice, carol, admin
