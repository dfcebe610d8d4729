"""Playbooks: versioned on edit (tickets keep the version applied), applied once per ticket, bad
definitions refused with nothing written, and the resolve block in the one status path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.cases.models import Playbook, PlaybookRun, PlaybookVersion, Task
from socdesk.cases.selectors import playbook_task_durations, ticket_tasks
from socdesk.cases.services import (
    PlaybookDefinition,
    TemplateDefinition,
    playbook_apply,
    playbook_delete,
    playbook_update,
    task_set_status,
)
from socdesk.core.errors import ServiceError
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.tickets.services import ticket_change_status
from socdesk.tickets.services.autoclose import tickets_autoclose
from tests.cases.helpers import PHISHING_TASKS, SETUP, make_playbook

pytestmark = pytest.mark.django_db


def test_applying_copies_the_current_version_with_due_times(people, soc_ticket):
    playbook = make_playbook()
    before = timezone.now()
    run = playbook_apply(actor=people.actor(people.alice), ticket=soc_ticket, playbook=playbook)
    tasks = list(ticket_tasks(soc_ticket))
    assert [(t.title, t.required, t.run_id) for t in tasks] == [
        (title, required, run.pk) for title, _m, required in PHISHING_TASKS
    ]
    assert before + timedelta(minutes=30) <= tasks[0].due_at <= timezone.now() + timedelta(minutes=30)
    event = AuditEvent.objects.get(action="playbook.applied")
    assert event.after == {"playbook": playbook.pk, "name": "Phishing triage", "version": 1, "tasks": 3}


def test_applying_twice_is_refused_and_adds_nothing(people, soc_ticket):
    playbook = make_playbook()
    alice = people.actor(people.alice)
    playbook_apply(actor=alice, ticket=soc_ticket, playbook=playbook)
    with pytest.raises(ServiceError, match=r"already applied to .* \(version 1, by alice\)"):
        playbook_apply(actor=alice, ticket=soc_ticket, playbook=playbook)
    assert Task.objects.count() == 3 and PlaybookRun.objects.count() == 1


def test_editing_the_tasks_makes_a_new_version_and_tickets_keep_theirs(people, soc_ticket):
    playbook = make_playbook()
    playbook_apply(actor=people.actor(people.alice), ticket=soc_ticket, playbook=playbook)
    definition = PlaybookDefinition(
        name="Phishing triage",
        templates=[
            TemplateDefinition(title="Collect the reported message"),
            TemplateDefinition(title="Close"),
        ],
    )
    playbook_update(actor=SETUP, playbook=playbook, definition=definition)
    assert list(playbook.versions.values_list("number", flat=True)) == [2, 1]
    # Saving the same content again (a new description only) makes no version.
    playbook_update(
        actor=SETUP,
        playbook=playbook,
        definition=PlaybookDefinition(**{**definition.__dict__, "description": "x"}),
    )
    assert playbook.versions.count() == 2
    assert PlaybookRun.objects.get().version.number == 1
    assert Task.objects.filter(ticket=soc_ticket).count() == 3
    event = AuditEvent.objects.filter(action="playbook.updated").order_by("id").first()
    assert (event.before["version"], event.after["version"]) == (1, 2)


def test_bad_definitions_are_refused_with_nothing_written(people):
    make_playbook()
    cases = [
        (PlaybookDefinition(name=" ", templates=[TemplateDefinition("a")]), "needs a name"),
        (PlaybookDefinition(name="phishing TRIAGE", templates=[TemplateDefinition("a")]), "already exists"),
        (PlaybookDefinition(name="Empty", templates=[]), "at least one task"),
        (
            PlaybookDefinition(name="X", templates=[TemplateDefinition("a"), TemplateDefinition(" ")]),
            "task 2: give it a title",
        ),
        (PlaybookDefinition(name="X", templates=[TemplateDefinition("a", due_minutes=0)]), "minutes from 1"),
        (
            PlaybookDefinition(name="X", templates=[TemplateDefinition("a", team_id=999)]),
            "no team with id 999",
        ),
        (
            PlaybookDefinition(name="X", templates=[TemplateDefinition("a")], required_fields=["verdict"]),
            "no custom field is named verdict",
        ),
        (
            PlaybookDefinition(name="X", templates=[TemplateDefinition("a")], topic_ids=[999]),
            "no help topic with id 999",
        ),
    ]
    from socdesk.cases.services import playbook_create

    for definition, message in cases:
        with pytest.raises(ServiceError, match=message):
            playbook_create(actor=SETUP, definition=definition)
    assert Playbook.objects.count() == 1 and PlaybookVersion.objects.count() == 1


def test_a_required_task_blocks_resolving_and_closing_with_a_sentence_naming_it(people, soc_ticket):
    alice = people.actor(people.alice)
    playbook_apply(actor=alice, ticket=soc_ticket, playbook=make_playbook())
    ticket = ticket_change_status(actor=alice, ticket=soc_ticket, status="in_progress")
    with pytest.raises(ServiceError) as refused:
        ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="true_positive")
    assert refused.value.message == (
        f"{ticket.number} cannot be resolved yet: the required tasks “Collect the reported message”, "
        "“Check sender authentication” are still open. First mark each task done or skip it with a reason."
    )
    first, second, _optional = ticket_tasks(ticket)
    task_set_status(actor=alice, task=first, status="done")
    task_set_status(actor=alice, task=second, status="skipped", reason="DMARC report already attached")
    # The optional third task stays open: it never blocks.
    resolved = ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="true_positive")
    assert resolved.status == "resolved"


def test_block_resolution_off_lets_the_ticket_resolve(people, soc_ticket):
    alice = people.actor(people.alice)
    playbook_apply(actor=alice, ticket=soc_ticket, playbook=make_playbook(block_resolution=False))
    ticket = ticket_change_status(actor=alice, ticket=soc_ticket, status="in_progress")
    assert ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="false_positive")


def test_required_custom_fields_block_until_filled(people, soc_ticket):
    from socdesk.routing.services.ticket_fields import ticket_set_custom_fields

    form = custom_form_create(actor=SETUP, name="Verdicts")
    custom_field_create(actor=SETUP, form=form, definition=FieldDefinition(name="verdict", label="Verdict"))
    alice = people.actor(people.alice)
    playbook = make_playbook(tasks=[("Decide", None, False)], required_fields=["verdict"])
    playbook_apply(actor=alice, ticket=soc_ticket, playbook=playbook)
    ticket = ticket_change_status(actor=alice, ticket=soc_ticket, status="in_progress")
    with pytest.raises(
        ServiceError, match=r"the required field verdict is empty\. First fill in the custom fields"
    ):
        ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="true_positive")
    ticket = ticket_set_custom_fields(actor=alice, ticket=ticket, values={"verdict": "malicious"})
    assert ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="true_positive")


def test_auto_close_leaves_a_ticket_with_a_required_task_reopened_since_resolving(people, soc_ticket):
    """A task opened again after resolving holds the ticket resolved: auto-close skips it."""
    from socdesk.accounts.models import Department

    alice = people.actor(people.alice)
    playbook_apply(actor=alice, ticket=soc_ticket, playbook=make_playbook(tasks=[("Decide", None, True)]))
    [task] = ticket_tasks(soc_ticket)
    task_set_status(actor=alice, task=task, status="done")
    ticket = ticket_change_status(actor=alice, ticket=soc_ticket, status="in_progress")
    ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="true_positive")
    task_set_status(actor=alice, task=task, status="open")
    Department.objects.filter(pk=people.soc.pk).update(autoclose_resolved_days=1)
    report = tickets_autoclose(now=timezone.now() + timedelta(days=2))
    assert report.closed == [] and report.skipped == [ticket.number]
    with pytest.raises(ServiceError, match="cannot be closed yet: the required task “Decide” is still open"):
        ticket_change_status(actor=alice, ticket=ticket, status="closed")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_a_playbook_applied_to_a_ticket_cannot_be_deleted(people, soc_ticket):
    playbook = make_playbook()
    playbook_apply(actor=people.actor(people.alice), ticket=soc_ticket, playbook=playbook)
    with pytest.raises(ServiceError, match="was applied to 1 ticket"):
        playbook_delete(actor=SETUP, playbook=playbook)
    unused = make_playbook(name="Lost laptop")
    from tests.routing.test_apply import make_filter

    rule = make_filter("Laptops", [("subject", "contains", "laptop")], [("apply_playbook", unused.pk)])
    with pytest.raises(ServiceError, match="applied by the ticket filter"):
        playbook_delete(actor=SETUP, playbook=unused)
    rule.delete()
    playbook_delete(actor=SETUP, playbook=unused)
    assert list(Playbook.objects.values_list("name", flat=True)) == ["Phishing triage"]


def test_median_time_per_task(people):
    from socdesk.tickets.services import ticket_create

    alice = people.actor(people.alice)
    playbook = make_playbook()
    start = timezone.now()
    for minutes in (10, 20, 60):
        ticket = ticket_create(actor=alice, subject=f"Report {minutes}", department=people.soc, body="x")
        playbook_apply(actor=alice, ticket=ticket, playbook=playbook)
        first = ticket_tasks(ticket)[0]
        task_set_status(actor=alice, task=first, status="done")
        Task.objects.filter(pk=first.pk).update(done_at=first.created_at + timedelta(minutes=minutes))
    figures = playbook_task_durations(playbook)
    assert [(f.title, f.done, f.median) for f in figures] == [
        ("Collect the reported message", 3, timedelta(minutes=20)),
        ("Check sender authentication", 0, None),
        ("Search for other recipients", 0, None),
    ]
    assert playbook_task_durations(playbook, department_ids=[people.it.pk])[0].done == 0
    assert playbook_task_durations(playbook, since=start + timedelta(minutes=15))[0].median == timedelta(
        minutes=40
    )
