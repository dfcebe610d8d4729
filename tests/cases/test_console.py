"""The console's checklist panel and My tasks over HTTP (Django's client): each action, refusals shown
in the panel with nothing written, carol's 404, and the resolve block through the ticket page and the
bulk action."""

from __future__ import annotations

import pytest

from socdesk.cases.models import Task
from socdesk.cases.selectors import ticket_tasks
from socdesk.cases.services import playbook_apply, task_create, task_note_add
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_status
from tests.cases.helpers import make_playbook
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(ticket) -> str:
    return f"/tickets/{ticket.number}/tasks"


def test_the_panel_adds_ticks_skips_moves_and_notes(people, soc_ticket):
    alice = client_for(people.alice)
    playbook = make_playbook()
    html = alice.get(url(soc_ticket), headers=HTMX).content.decode()
    assert "No tasks yet." in html and "Apply playbook" in html
    html = alice.post(
        url(soc_ticket), {"action": "apply", "playbook": playbook.pk}, headers=HTMX
    ).content.decode()
    assert "Playbook Phishing triage (version 1) applied: 3 tasks added." in html
    assert "Apply playbook" not in html  # the only playbook is applied: nothing left to offer
    html = alice.post(
        url(soc_ticket),
        {"action": "add", "title": "Tell the requester", "assignee": people.bob.pk},
        headers=HTMX,
    ).content.decode()
    assert "Task “Tell the requester” added." in html
    first, second, third, mine = ticket_tasks(soc_ticket)
    assert (mine.assignee, mine.order) == (people.bob, 3)
    alice.post(url(soc_ticket), {"action": "status", "task": first.pk, "status": "done"}, headers=HTMX)
    html = alice.post(
        url(soc_ticket),
        {"action": "status", "task": second.pk, "status": "skipped", "reason": ""},
        headers=HTMX,
    ).content.decode()
    assert "Say why the task &#x27;Check sender authentication&#x27; is skipped." in html
    alice.post(
        url(soc_ticket),
        {"action": "status", "task": second.pk, "status": "skipped", "reason": "Headers already checked"},
        headers=HTMX,
    )
    html = alice.post(
        url(soc_ticket), {"action": "move", "task": mine.pk, "direction": "up"}, headers=HTMX
    ).content.decode()
    assert "moved up" in html
    html = alice.post(
        url(soc_ticket), {"action": "move", "task": first.pk, "direction": "up"}, headers=HTMX
    ).content.decode()
    assert "“Collect the reported message” is already first." in html
    alice.post(
        url(soc_ticket), {"action": "note", "task": third.pk, "body": "Two more recipients."}, headers=HTMX
    )
    html = alice.get(url(soc_ticket), headers=HTMX).content.decode()
    assert (
        "2 of 4 done" in html
        and "Skipped: Headers already checked" in html
        and "Two more recipients." in html
    )
    assert [t.title for t in ticket_tasks(soc_ticket)] == [
        "Collect the reported message",
        "Check sender authentication",
        "Tell the requester",
        "Search for other recipients",
    ]


def test_a_task_of_another_ticket_and_carols_visit_are_not_found(people, soc_ticket):
    other = Ticket.objects.get(pk=soc_ticket.pk)
    task = task_create(actor=people.actor(people.alice), ticket=other, title="Isolate")
    carol = client_for(people.carol)
    assert carol.get(url(soc_ticket)).status_code == 404
    response = carol.post(url(soc_ticket), {"action": "status", "task": task.pk, "status": "done"})
    assert response.status_code == 404 and Task.objects.get().status == "open"
    from socdesk.tickets.services import ticket_create

    mine = ticket_create(actor=people.actor(people.alice), subject="Other", department=people.soc, body="x")
    response = client_for(people.alice).post(
        url(mine), {"action": "status", "task": task.pk, "status": "done"}
    )
    assert response.status_code == 404 and Task.objects.get().status == "open"


def test_resolving_through_the_ticket_page_and_the_bulk_action_names_the_open_tasks(people, soc_ticket):
    alice_actor = people.actor(people.alice)
    playbook_apply(actor=alice_actor, ticket=soc_ticket, playbook=make_playbook())
    ticket = ticket_change_status(actor=alice_actor, ticket=soc_ticket, status="in_progress")
    alice = client_for(people.alice)
    response = alice.post(
        f"/tickets/{ticket.number}/status",
        {"version": ticket.version, "status": "resolved", "resolution": "true_positive"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        f"{ticket.number} cannot be resolved yet: the required tasks “Collect the reported message”" in html
    )
    html = alice.post(
        "/tickets/bulk",
        {"ticket": [ticket.number], "action": "status", "status": "resolved", "resolution": "true_positive"},
        follow=True,
    ).content.decode()
    assert "cannot be resolved yet" in html
    assert Ticket.objects.get(pk=ticket.pk).status == "in_progress"


def test_my_tasks_lists_mine_and_my_teams(people, soc_ticket):
    alice = people.actor(people.alice)
    task_create(actor=alice, ticket=soc_ticket, title="Pull proxy logs", assignee=people.alice)
    task_create(actor=alice, ticket=soc_ticket, title="Team job", team=people.tier1)
    task_create(actor=alice, ticket=soc_ticket, title="Nobody's")
    html = client_for(people.alice).get("/tasks/mine").content.decode()
    assert "Pull proxy logs" in html and "Team job" in html and "Nobody&#x27;s" not in html
    assert soc_ticket.number in html and 'href="/tasks/mine"' in html
    html = client_for(people.carol).get("/tasks/mine").content.decode()
    assert "Nothing to do" in html and "Pull proxy logs" not in html


def test_the_panel_and_my_tasks_cost_the_same_queries_for_3_or_12_tasks(people, soc_ticket):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alice = client_for(people.alice)
    actor = people.actor(people.alice)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as panel:
            alice.get(url(soc_ticket), headers=HTMX)
        with CaptureQueriesContext(connection) as mine:
            alice.get("/tasks/mine")
        return len(panel), len(mine)

    for index in range(3):
        task = task_create(actor=actor, ticket=soc_ticket, title=f"t{index}", assignee=people.alice)
        task_note_add(actor=actor, task=task, body="note")
    few = counts()
    for index in range(9):
        task_create(actor=actor, ticket=soc_ticket, title=f"u{index}", team=people.tier1)
    assert counts() == few
