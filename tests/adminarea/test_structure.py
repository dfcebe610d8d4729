"""The admin area's departments, teams and roles: listed, created through the audited services, and a
refused name leaves nothing behind."""

from __future__ import annotations

from socdesk.accounts.models import Department, Role, Team
from socdesk.audit.models import AuditEvent
from tests.console_helpers import client_for


def test_a_department_is_created_and_listed(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/departments", {"name": "Threat Intel", "email": "ti@example.test"})
    assert response.status_code == 302
    department = Department.objects.get(name="Threat Intel")
    assert AuditEvent.objects.filter(action="department.created", target_id=str(department.pk)).exists()
    assert "Threat Intel created." in admin.get("/admin-area/departments").content.decode()


def test_a_taken_department_name_is_refused(people):
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post("/admin-area/departments", {"name": "soc"})
    assert response.status_code == 400
    assert "A department named &#x27;soc&#x27; already exists." in response.content.decode()
    assert Department.objects.count() == 2 and AuditEvent.objects.count() == before


def test_a_team_is_created_with_lead_and_members(people):
    form = {
        "name": "Tier 2",
        "department": people.soc.pk,
        "lead": people.bob.pk,
        "members": [people.alice.pk, people.bob.pk],
    }
    assert client_for(people.admin).post("/admin-area/teams", form).status_code == 302
    team = Team.objects.get(name="Tier 2")
    assert team.lead == people.bob and set(team.members.all()) == {people.alice, people.bob}
    assert AuditEvent.objects.filter(action="team.created", target_id=str(team.pk)).exists()


def test_a_taken_team_name_is_refused(people):
    response = client_for(people.admin).post("/admin-area/teams", {"name": "tier 1"})
    assert response.status_code == 400 and "A team named" in response.content.decode()
    assert Team.objects.count() == 1


def test_a_role_is_created_with_its_permissions(people):
    form = {"name": "Triage", "permissions": ["view", "close"]}
    assert client_for(people.admin).post("/admin-area/roles", form).status_code == 302
    role = Role.objects.get(name="Triage")
    assert role.permissions == ["close", "view"]
    assert AuditEvent.objects.filter(action="role.created", target_id=str(role.pk)).exists()


def test_a_taken_role_name_is_refused(people):
    response = client_for(people.admin).post("/admin-area/roles", {"name": "analyst"})
    assert response.status_code == 400 and "A role named" in response.content.decode()
    assert Role.objects.count() == 1


def test_agents_who_manage_nothing_cannot_create_anything_here(people, worker):
    alice = client_for(worker)
    assert alice.post("/admin-area/departments", {"name": "Mine"}).status_code == 404
    assert alice.post("/admin-area/teams", {"name": "Mine"}).status_code == 404
    assert alice.post("/admin-area/roles", {"name": "Mine", "permissions": ["delete"]}).status_code == 404
    assert not Department.objects.filter(name="Mine").exists()
    assert not Team.objects.filter(name="Mine").exists() and not Role.objects.filter(name="Mine").exists()


def test_lists_take_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    admin = client_for(people.admin)
    for n in range(6):
        admin.post(
            "/admin-area/teams", {"name": f"T{n}", "department": people.soc.pk, "members": [people.bob.pk]}
        )
        admin.post("/admin-area/departments", {"name": f"D{n}"})
        admin.post("/admin-area/roles", {"name": f"R{n}", "permissions": ["view"]})
    for url in ("/admin-area/teams", "/admin-area/departments", "/admin-area/roles"):
        # The sign-in, the top bar (with the notification bell's count) and the add form's choices take
        # 12; the rows add no query each.
        with django_assert_max_num_queries(13):
            assert admin.get(url).status_code == 200


def test_a_role_is_edited_and_only_what_changed_is_recorded(people):
    form = {"name": "Analyst", "permissions": ["view", "reply"], "requires_two_factor": "on"}
    response = client_for(people.admin).post(f"/admin-area/roles/{people.analyst.pk}", form)
    assert response.status_code == 302
    role = Role.objects.get(pk=people.analyst.pk)
    assert role.permissions == ["reply", "view"] and role.requires_two_factor
    event = AuditEvent.objects.get(action="role.changed")
    assert set(event.after) == {"permissions", "requires_two_factor"}


def test_a_role_rename_to_a_taken_name_is_refused_and_nothing_changes(people):
    other = Role.objects.create(name="Triage", permissions=["view"])
    response = client_for(people.admin).post(f"/admin-area/roles/{other.pk}", {"name": "ANALYST"})
    assert response.status_code == 400 and "A role named" in response.content.decode()
    assert Role.objects.get(pk=other.pk).name == "Triage"
    assert not AuditEvent.objects.filter(action="role.changed").exists()


def test_a_team_is_edited_by_an_admin(people):
    form = {"name": "Tier 1", "department": people.soc.pk, "lead": people.bob.pk, "members": [people.bob.pk]}
    response = client_for(people.admin).post(f"/admin-area/teams/{people.tier1.pk}", form)
    assert response.status_code == 302
    team = Team.objects.get(pk=people.tier1.pk)
    assert team.lead == people.bob and list(team.members.all()) == [people.bob]
    event = AuditEvent.objects.get(action="team.changed")
    assert event.before == {"lead": "alice", "members": ["alice", "bob"]}
    assert event.after == {"lead": "bob", "members": ["bob"]}


def test_a_lead_edits_their_departments_team_but_cannot_move_it_out(people):
    alice = client_for(people.alice)  # leads SOC
    moved = alice.post(f"/admin-area/teams/{people.tier1.pk}", {"name": "Tier 1", "department": people.it.pk})
    assert moved.status_code == 400
    assert Team.objects.get(pk=people.tier1.pk).department == people.soc
    renamed = alice.post(
        f"/admin-area/teams/{people.tier1.pk}", {"name": "Tier One", "department": people.soc.pk}
    )
    assert renamed.status_code == 302 and Team.objects.get(pk=people.tier1.pk).name == "Tier One"
    it_team = Team.objects.create(name="Desk", department=people.it)
    assert alice.get(f"/admin-area/teams/{it_team.pk}").status_code == 404
    assert alice.get(f"/admin-area/roles/{people.analyst.pk}").status_code == 404


def test_role_and_team_edit_pages_are_404_for_agents_who_manage_nothing(people, worker):
    erin = client_for(worker)
    assert erin.get(f"/admin-area/roles/{people.analyst.pk}").status_code == 404
    assert erin.get(f"/admin-area/teams/{people.tier1.pk}").status_code == 404


def test_a_department_is_edited_with_its_retention(people):
    form = {
        "name": "Security Operations",
        "email": "soc@example.test",
        "description": "",
        "raw_payload_retention_days": "30",
        "closed_ticket_retention_days": "",
    }
    response = client_for(people.admin).post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 302
    soc = Department.objects.get(pk=people.soc.pk)
    assert soc.name == "Security Operations" and soc.slug == "soc" and soc.raw_payload_retention_days == 30
    changed = AuditEvent.objects.get(action="department.changed")
    assert changed.before == {"name": "SOC"} and changed.after == {"name": "Security Operations"}
    assert AuditEvent.objects.filter(action="department.retention_changed").exists()


def test_a_department_rename_to_a_taken_name_changes_nothing(people):
    form = {"name": "it help desk", "email": "", "description": "", "raw_payload_retention_days": "7"}
    response = client_for(people.admin).post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 400 and "A department named" in response.content.decode()
    soc = Department.objects.get(pk=people.soc.pk)
    assert soc.name == "SOC" and soc.raw_payload_retention_days is None
    assert not AuditEvent.objects.filter(action__startswith="department.", actor_label="admin").exists()


def test_department_edit_is_for_admins_only(people):
    assert client_for(people.alice).get(f"/admin-area/departments/{people.soc.pk}").status_code == 404
    assert client_for(people.admin).get(f"/admin-area/departments/{people.soc.pk}").status_code == 200
