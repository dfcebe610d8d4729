"""/api/v1/tickets/{number}/tasks, /api/v1/tasks?mine=1 and /api/v1/playbooks: CRUD through the
services, carol's 404, bad input as a 400 with nothing written, and resolving refused over PATCH."""

from __future__ import annotations

import pytest

from socdesk.cases.models import Playbook, PlaybookVersion, Task
from tests.api.conftest import ApiClient, make_key
from tests.cases.helpers import make_playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(people):
    return ApiClient(make_key(["admin"], agent=people.admin, name="adm"))


def test_task_crud_notes_and_order(alice_api, people, soc_ticket):
    base = f"tickets/{soc_ticket.number}/tasks"
    created = alice_api.post(
        base, {"title": "Pull proxy logs", "assignee": "bob", "due_at": "2026-12-01T10:00:00Z"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["title"], body["assignee"], body["status"], body["playbook"]) == (
        "Pull proxy logs",
        "bob",
        "open",
        None,
    )
    second = alice_api.post(base, {"title": "Block the URL", "team": "Tier 1"}).json()
    assert alice_api.post(f"{base}/{body['id']}/notes", {"body": "Proxy: 3 hits"}).status_code == 201
    patched = alice_api.patch(f"{base}/{body['id']}", {"status": "done", "title": "Pulled proxy logs"})
    assert patched.status_code == 200 and patched.json()["status"] == "done"
    assert patched.json()["notes"][0]["body"] == "Proxy: 3 hits" and patched.json()["done_at"]
    order = alice_api.call("PUT", f"{base}/order", {"order": [second["id"], body["id"]]})
    assert [t["title"] for t in order.json()["items"]] == ["Block the URL", "Pulled proxy logs"]
    assert alice_api.delete(f"{base}/{second['id']}").status_code == 204
    assert [t["id"] for t in alice_api.get(base).json()["items"]] == [body["id"]]


def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(alice_api, people, soc_ticket):
    base = f"tickets/{soc_ticket.number}/tasks"
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x", "assignee": "nobody"}, "There is no agent 'nobody'"),
        ({"title": "x", "assignee": "carol"}, "Carol cannot see tickets of SOC"),
        ({"title": "x", "surprise": 1}, "surprise"),
    ]
    for body, message in cases:
        response = alice_api.post(base, body)
        assert response.status_code == 400 and message in response.json()["error"]["message"], (
            response.content
        )
    task = alice_api.post(base, {"title": "Reset password"}).json()
    response = alice_api.patch(f"{base}/{task['id']}", {"status": "skipped"})
    assert response.status_code == 400 and "Say why" in response.json()["error"]["message"]
    assert Task.objects.get().status == "open" and Task.objects.count() == 1


def test_carol_gets_404_everywhere(alice_api, carol_api, people, soc_ticket):
    base = f"tickets/{soc_ticket.number}/tasks"
    task = alice_api.post(base, {"title": "Isolate"}).json()
    assert carol_api.get(base).status_code == 404
    assert carol_api.post(base, {"title": "mine"}).status_code == 404
    assert carol_api.patch(f"{base}/{task['id']}", {"status": "done"}).status_code == 404
    assert carol_api.delete(f"{base}/{task['id']}").status_code == 404
    assert carol_api.get("tasks").json()["items"] == []
    assert alice_api.get(f"{base}/999999").status_code == 404
    assert Task.objects.get().status == "open"


def test_applying_a_playbook_and_the_resolve_block_over_patch(alice_api, people, soc_ticket):
    make_playbook()
    applied = alice_api.post(f"tickets/{soc_ticket.number}/playbooks", {"playbook": "Phishing triage"})
    assert applied.status_code == 201 and len(applied.json()["tasks"]) == 3
    again = alice_api.post(f"tickets/{soc_ticket.number}/playbooks", {"playbook": "Phishing triage"})
    assert again.status_code == 400 and "already applied" in again.json()["error"]["message"]
    version = alice_api.get(f"tickets/{soc_ticket.number}").json()["version"]
    alice_api.patch(f"tickets/{soc_ticket.number}", {"version": version, "status": "in_progress"})
    version += 1
    refused = alice_api.patch(
        f"tickets/{soc_ticket.number}",
        {"version": version, "status": "resolved", "resolution": "true_positive"},
    )
    assert refused.status_code == 400
    assert (
        "cannot be resolved yet: the required tasks “Collect the reported message”"
        in refused.json()["error"]["message"]
    )
    assert alice_api.get(f"tickets/{soc_ticket.number}").json()["status"] == "in_progress"


def test_my_tasks(alice_api, tool, people, soc_ticket):
    base = f"tickets/{soc_ticket.number}/tasks"
    alice_api.post(base, {"title": "Mine", "assignee": "alice"})
    alice_api.post(base, {"title": "Team's", "team": "Tier 1"})
    alice_api.post(base, {"title": "Bob's", "assignee": "bob"})
    mine = alice_api.get("tasks?mine=1").json()["items"]
    assert sorted(t["title"] for t in mine) == ["Mine", "Team's"]
    assert len(tool.get("tasks").json()["items"]) == 3
    refused = tool.get("tasks?mine=1")
    assert refused.status_code == 400 and "personal token" in refused.json()["error"]["message"]


def test_playbooks_are_written_by_admins_and_versioned(admin_api, alice_api, people):
    body = {"name": "Lost device", "tasks": [{"title": "Wipe it", "due_minutes": 60}]}
    assert alice_api.post("playbooks", body).status_code == 403
    created = admin_api.post("playbooks", body)
    assert created.status_code == 201 and created.json()["current"]["number"] == 1
    pid = created.json()["id"]
    body["tasks"].append({"title": "Report to insurance", "required": False})
    updated = admin_api.call("PUT", f"playbooks/{pid}", body).json()
    assert updated["versions"] == [2, 1] and len(updated["current"]["tasks"]) == 2
    assert len(alice_api.get(f"playbooks/{pid}/versions/1").json()["tasks"]) == 1
    bad = admin_api.post("playbooks", {"name": "X", "tasks": [{"title": "a", "team": 999}]})
    assert bad.status_code == 400 and "no team with id 999" in bad.json()["error"]["message"]
    assert Playbook.objects.count() == 1 and PlaybookVersion.objects.count() == 2
    stats = admin_api.get(f"playbooks/{pid}/stats").json()
    assert [(t["title"], t["done"], t["median_seconds"]) for t in stats["tasks"]] == [
        ("Wipe it", 0, None),
        ("Report to insurance", 0, None),
    ]


def test_a_tools_key_works_tasks_and_a_key_of_another_department_gets_404(tool, people, soc_ticket):
    from socdesk.accounts.services import apikey_create
    from tests.cases.helpers import SETUP

    base = f"tickets/{soc_ticket.number}/tasks"
    created = tool.post(base, {"title": "Enrich the IOCs", "team": "Tier 1"})
    assert created.status_code == 201
    event_actor = Task.objects.get().created_by
    assert event_actor == "key:soar"
    _key, raw = apikey_create(
        actor=SETUP, name="it-tool", scopes=["tickets:read", "tickets:write"], department=people.it
    )
    it_tool = ApiClient(raw)
    assert it_tool.get(base).status_code == 404
    assert it_tool.patch(f"{base}/{created.json()['id']}", {"status": "done"}).status_code == 404
    assert Task.objects.get().status == "open"
