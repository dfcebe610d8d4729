"""Tasks on a ticket through the services: each change audited and moving the ticket's activity,
permissions as for editing the ticket (carol in another department gets a not-found), bad input refused
with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.accounts.services import team_create
from socdesk.audit.models import AuditEvent
from socdesk.cases.models import Task, TaskNote
from socdesk.cases.selectors import tasks_mine, ticket_tasks
from socdesk.cases.services import (
    task_create,
    task_delete,
    task_note_add,
    task_reorder,
    task_set_status,
    task_update,
)
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets.models import Ticket
from tests.cases.helpers import SETUP

pytestmark = pytest.mark.django_db


def test_create_update_and_finish_a_task_each_audited_and_touching_the_ticket(people, soc_ticket):
    alice = people.actor(people.alice)
    old_activity = soc_ticket.last_activity_at
    due = timezone.now() + timedelta(hours=2)
    task = task_create(
        actor=alice, ticket=soc_ticket, title="  Isolate WS-042 ", assignee=people.bob, due_at=due
    )
    assert (task.title, task.assignee, task.status, task.order) == ("Isolate WS-042", people.bob, "open", 0)
    ticket = Ticket.objects.get(pk=soc_ticket.pk)
    assert ticket.last_activity_at > old_activity
    assert ticket.version == soc_ticket.version  # the ticket's own fields did not change

    task_update(actor=alice, task=task, team=people.tier1, due_at=None)
    task_set_status(actor=alice, task=task, status="in_progress")
    done = task_set_status(actor=alice, task=task, status="done")
    assert done.done_at is not None
    actions = list(
        AuditEvent.objects.filter(target_id=str(soc_ticket.pk), action__startswith="task.")
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("task.created", "alice"),
        ("task.updated", "alice"),
        ("task.status_changed", "alice"),
        ("task.status_changed", "alice"),
    ]
    last = AuditEvent.objects.filter(action="task.status_changed").order_by("-id").first()
    assert last.before["status"] == "in_progress" and last.after["status"] == "done"


def test_skipping_needs_a_reason_and_keeps_it(people, soc_ticket):
    alice = people.actor(people.alice)
    task = task_create(actor=alice, ticket=soc_ticket, title="Reset the password")
    with pytest.raises(ServiceError, match="Say why the task 'Reset the password' is skipped"):
        task_set_status(actor=alice, task=task, status="skipped", reason="   ")
    assert Task.objects.get(pk=task.pk).status == "open"
    skipped = task_set_status(actor=alice, task=task, status="skipped", reason="No credentials were entered")
    assert (skipped.status, skipped.skip_reason) == ("skipped", "No credentials were entered")
    reopened = task_set_status(actor=alice, task=task, status="open")
    assert reopened.skip_reason == "" and reopened.done_at is None


def test_bad_input_is_refused_with_nothing_written(people, soc_ticket):
    alice = people.actor(people.alice)
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError, match="A task needs a title"):
        task_create(actor=alice, ticket=soc_ticket, title=" \x00 ")
    with pytest.raises(ServiceError, match="belongs to another department"):
        other = team_create(actor=SETUP, name="Desk", department=people.it)
        task_create(actor=alice, ticket=soc_ticket, title="x", team=other)
    with pytest.raises(ServiceError, match="Carol cannot see tickets of SOC"):
        task_create(actor=alice, ticket=soc_ticket, title="x", assignee=people.carol)
    task = task_create(actor=alice, ticket=soc_ticket, title="Pull the proxy logs")
    with pytest.raises(ServiceError, match="status is one of"):
        task_set_status(actor=alice, task=task, status="finished")
    with pytest.raises(ServiceError, match="only given when skipping"):
        task_set_status(actor=alice, task=task, status="done", reason="because")
    with pytest.raises(ServiceError, match="Write the note first"):
        task_note_add(actor=alice, task=task, body="  ")
    assert Task.objects.count() == 1 and TaskNote.objects.count() == 0
    assert AuditEvent.objects.count() == events + 2  # the team, the one task


def test_reorder_takes_every_task_once(people, soc_ticket):
    alice = people.actor(people.alice)
    a, b, c = (task_create(actor=alice, ticket=soc_ticket, title=t) for t in "abc")
    with pytest.raises(ServiceError, match=r"Give every task of .* once"):
        task_reorder(actor=alice, ticket=soc_ticket, order=[c.pk, a.pk])
    with pytest.raises(ServiceError, match="Give every task"):
        task_reorder(actor=alice, ticket=soc_ticket, order=[c.pk, a.pk, a.pk])
    assert [t.title for t in ticket_tasks(soc_ticket)] == ["a", "b", "c"]
    task_reorder(actor=alice, ticket=soc_ticket, order=[c.pk, a.pk, b.pk])
    assert [t.title for t in ticket_tasks(soc_ticket)] == ["c", "a", "b"]
    event = AuditEvent.objects.get(action="task.reordered")
    assert event.after["order"] == [c.pk, a.pk, b.pk]


def test_notes_and_delete(people, soc_ticket):
    alice, bob = people.actor(people.alice), people.actor(people.bob)
    task = task_create(actor=alice, ticket=soc_ticket, title="Block the URL")
    task_note_add(actor=bob, task=task, body="Blocked on the proxy at 10:12.")
    [note] = ticket_tasks(soc_ticket)[0].notes.all()
    assert (note.author, note.body) == (people.bob, "Blocked on the proxy at 10:12.")
    task_delete(actor=alice, task=task)
    assert not Task.objects.exists() and not TaskNote.objects.exists()
    assert AuditEvent.objects.get(action="task.deleted").before["title"] == "Block the URL"


def test_carol_in_another_department_is_told_the_ticket_does_not_exist(people, soc_ticket):
    carol = people.actor(people.carol)
    task = task_create(actor=people.actor(people.alice), ticket=soc_ticket, title="Check sender")
    for call in (
        lambda: task_create(actor=carol, ticket=soc_ticket, title="mine now"),
        lambda: task_set_status(actor=carol, task=task, status="done"),
        lambda: task_note_add(actor=carol, task=task, body="hello"),
        lambda: task_delete(actor=carol, task=task),
    ):
        with pytest.raises(NotFound):
            call()
    assert Task.objects.get().status == "open"


def test_an_agent_without_the_edit_permission_is_refused(people, soc_ticket):
    from socdesk.accounts.services import access_grant, role_create

    viewer = role_create(actor=SETUP, name="Viewer", permissions=["view"])
    access_grant(actor=SETUP, agent=people.carol, department=people.soc, role=viewer)
    carol = Actor.for_agent(type(people.carol).objects.get(pk=people.carol.pk))
    with pytest.raises(PermissionDenied, match="edit tickets permission in SOC"):
        task_create(actor=carol, ticket=soc_ticket, title="x")


def test_my_tasks_is_mine_and_my_teams_pending_by_due_time_in_one_query(
    people, soc_ticket, django_assert_num_queries
):
    alice = people.actor(people.alice)
    now = timezone.now()
    late = task_create(
        actor=alice, ticket=soc_ticket, title="late", assignee=people.alice, due_at=now + timedelta(hours=5)
    )
    soon = task_create(
        actor=alice, ticket=soc_ticket, title="soon", team=people.tier1, due_at=now + timedelta(hours=1)
    )
    undated = task_create(actor=alice, ticket=soc_ticket, title="undated", assignee=people.alice)
    task_create(actor=alice, ticket=soc_ticket, title="bob's", assignee=people.bob)
    finished = task_create(actor=alice, ticket=soc_ticket, title="done", assignee=people.alice)
    task_set_status(actor=alice, task=finished, status="done")
    agent = type(people.alice).objects.get(pk=people.alice.pk)
    with django_assert_num_queries(3):  # the agent's roles, teams, then the tasks with tickets and owners
        rows = list(tasks_mine(agent))
        labels = [(t.title, t.ticket.number, t.team.name if t.team else None) for t in rows]
    assert [t.pk for t in rows] == [soon.pk, late.pk, undated.pk]
    assert labels[0] == ("soon", soc_ticket.number, "Tier 1")
    # Carol sees none of them, even when given none.
    assert list(tasks_mine(people.carol)) == []
