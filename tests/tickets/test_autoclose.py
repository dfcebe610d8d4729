"""Auto-close: resolved tickets close after their department's quiet days, as the system, once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from socdesk.accounts.services import department_set_autoclose
from socdesk.accounts.testing import make_personas
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import (
    ticket_add_message,
    ticket_change_status,
    ticket_create,
    tickets_autoclose,
)
from socdesk.tickets.tasks import autoclose_task

SETUP = Actor.system("test-setup")


def _resolved(people, department=None, subject="Phishing report"):
    ticket = ticket_create(
        actor=SETUP,
        subject=subject,
        department=department or people.soc,
        body="Is this mail real?",
        requester_email="dana@example.test",
    )
    return ticket_change_status(
        actor=Actor.for_agent(people.alice if department is None else people.carol),
        ticket=ticket,
        status=Status.RESOLVED,
        resolution="false_positive",
    )


def _age(ticket, days: int) -> None:
    """Move a ticket's resolution and thread `days` into the past (the worker runs at the real time)."""
    shift = timedelta(days=days)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=ticket.resolved_at - shift)
    for entry in ticket.entries.all():
        ThreadEntry.objects.filter(pk=entry.pk).update(created_at=entry.created_at - shift)


def _requester(ticket):
    return Actor(kind="user", label=str(ticket.requester), obj=ticket.requester)


def test_a_resolved_ticket_closes_once_its_quiet_days_have_passed(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=3)
    ticket = _resolved(people)
    resolved_at = ticket.resolved_at
    assert tickets_autoclose(now=resolved_at + timedelta(days=3) - timedelta(minutes=1)).closed == []
    report = tickets_autoclose(now=resolved_at + timedelta(days=3))
    assert report.closed == [ticket.number]
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.resolution == "false_positive"
    event = AuditEvent.objects.get(
        action="ticket.status_changed", target_id=str(ticket.pk), after__status="closed"
    )
    assert (event.actor_type, event.actor_label) == ("system", "auto-close")
    assert "without a reply from the requester" in event.after["comment"]
    line = ticket.entries.order_by("-pk").first()
    assert line.body.startswith("auto-close changed the status from Resolved to Closed")


def test_running_again_closes_nothing_more(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=1)
    ticket = _resolved(people)
    later = timezone.now() + timedelta(days=2)
    assert tickets_autoclose(now=later).closed == [ticket.number]
    events = AuditEvent.objects.count()
    assert tickets_autoclose(now=later).closed == []
    assert AuditEvent.objects.count() == events


def test_a_requester_reply_resets_the_clock(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=3)
    ticket = _resolved(people)
    ticket_add_message(actor=_requester(ticket), ticket=ticket, body="It happened again.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # reopened
    assert tickets_autoclose(now=timezone.now() + timedelta(days=10)).closed == []
    ticket = ticket_change_status(
        actor=Actor.for_agent(people.alice), ticket=ticket, status=Status.RESOLVED, resolution="true_positive"
    )
    assert tickets_autoclose(now=ticket.resolved_at + timedelta(days=2)).closed == []
    assert tickets_autoclose(now=ticket.resolved_at + timedelta(days=3)).closed == [ticket.number]


def test_a_requester_message_after_resolving_holds_it_open_even_when_still_resolved(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=1)
    ticket = _resolved(people)
    ticket_add_message(actor=_requester(ticket), ticket=ticket, body="Thanks, but one more thing.")
    # An agent puts it back to resolved by the state machine's other road: it was resolved before the
    # message, so the resolved time is the old one; the message still counts.
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED)
    assert tickets_autoclose(now=timezone.now() + timedelta(days=5)).closed == []


def test_departments_without_auto_close_and_other_statuses_are_left_alone(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=1)
    it_ticket = _resolved(people, department=people.it)
    open_ticket = ticket_create(actor=SETUP, subject="Still open", department=people.soc)
    assert tickets_autoclose(now=timezone.now() + timedelta(days=30)).closed == []
    for ticket in (it_ticket, open_ticket):
        before = ticket.status
        ticket.refresh_from_db()
        assert ticket.status == before


def test_the_periodic_task_and_the_cli_close_through_the_same_service(people):
    department_set_autoclose(actor=SETUP, department=people.soc, days=1)
    first, second = _resolved(people, subject="one"), _resolved(people, subject="two")
    _age(first, 2)
    assert autoclose_task.call_local() == 1
    out = StringIO()
    call_command("tickets", "autoclose", "--dry-run", stdout=out)
    assert "0 resolved tickets would be closed." in out.getvalue()
    _age(second, 2)
    out = StringIO()
    call_command("tickets", "autoclose", "--dry-run", stdout=out)
    assert f"would close {second.number}" in out.getvalue()
    second.refresh_from_db()
    assert second.status == Status.RESOLVED
    out = StringIO()
    call_command("tickets", "autoclose", stdout=out)
    assert f"closed {second.number}" in out.getvalue() and "1 resolved tickets closed." in out.getvalue()
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.CLOSED}


def test_auto_close_days_are_checked_and_audited(people):
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError, match="at least 1 day"):
        department_set_autoclose(actor=SETUP, department=people.soc, days=0)
    people.soc.refresh_from_db()
    assert people.soc.autoclose_resolved_days is None and AuditEvent.objects.count() == events
    department_set_autoclose(actor=SETUP, department=people.soc, days=7)
    event = AuditEvent.objects.get(action="department.autoclose_changed")
    assert (event.before, event.after) == ({"autoclose_resolved_days": None}, {"autoclose_resolved_days": 7})


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_close_each_ticket_once():
    people = make_personas()
    department_set_autoclose(actor=SETUP, department=people.soc, days=1)
    tickets = [_resolved(people, subject=f"t{i}") for i in range(6)]
    later = timezone.now() + timedelta(days=2)
    start = threading.Barrier(2)
    closed: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            closed.append(tickets_autoclose(now=later).closed)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    all_closed = closed[0] + closed[1]
    assert sorted(all_closed) == sorted(t.number for t in tickets)
    assert AuditEvent.objects.filter(action="ticket.status_changed", after__status="closed").count() == 6


def test_the_worker_runs_auto_close_every_five_minutes():
    task = autoclose_task.s()
    start = datetime(2026, 1, 1, 0, 0)
    due = [m for m in range(30) if task.validate_datetime(start + timedelta(minutes=m))]
    assert due == [0, 5, 10, 15, 20, 25]
