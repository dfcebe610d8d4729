"""Merging a duplicate brings its tasks and playbook runs to the survivor, after the survivor's own tasks;
a playbook both tickets run stays on the duplicate (a playbook runs once per ticket); undo puts back."""

from __future__ import annotations

import pytest

from socdesk.cases.models import PlaybookRun, Task
from socdesk.cases.services import playbook_apply, task_create
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry
from tests.cases.helpers import make_playbook

pytestmark = pytest.mark.django_db


def checklist(ticket) -> list[str]:
    return list(Task.objects.filter(ticket=ticket).order_by("order", "pk").values_list("title", flat=True))


def test_tasks_and_runs_move_to_the_survivor_and_undo_puts_them_back(people, soc_ticket):
    actor = people.actor(people.alice)
    survivor = services.ticket_create(
        actor=actor, subject="Phishing campaign", department=people.soc, body="Tracking the campaign."
    )
    task_create(actor=actor, ticket=survivor, title="Survivor's own task")
    phishing = make_playbook()
    shared = make_playbook(name="Notify legal", tasks=(("Tell legal", 60, False),))
    playbook_apply(actor=actor, ticket=survivor, playbook=shared)
    run = playbook_apply(actor=actor, ticket=soc_ticket, playbook=phishing)
    kept = playbook_apply(actor=actor, ticket=soc_ticket, playbook=shared)
    task_create(actor=actor, ticket=soc_ticket, title="Ask the user for the original")
    source_before = checklist(soc_ticket)

    merge = services.ticket_merge(actor=actor, source=soc_ticket, target=survivor)

    moved_titles = [t for t in source_before if t != "Tell legal"]
    assert checklist(survivor) == ["Survivor's own task", "Tell legal", *moved_titles]
    assert checklist(soc_ticket) == ["Tell legal"]  # the playbook the survivor runs already stays
    assert PlaybookRun.objects.get(pk=run.pk).ticket_id == survivor.pk
    assert PlaybookRun.objects.get(pk=kept.pk).ticket_id == soc_ticket.pk
    assert f"{len(moved_titles)} tasks" in ThreadEntry.objects.get(pk=merge.target_entry_id).body

    services.ticket_merge_undo(actor=actor, source=soc_ticket)
    assert checklist(soc_ticket) == source_before
    assert checklist(survivor) == ["Survivor's own task", "Tell legal"]
    assert PlaybookRun.objects.get(pk=run.pk).ticket_id == soc_ticket.pk
