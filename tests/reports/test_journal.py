"""Marking tickets for the fold: in the transaction that changed them (a rolled-back change leaves no
mark), once per ingest batch, and the worker's jobs and the CLI fold them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import AlertsPerMinute
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.reports.models import DayCount, DirtyTicket, TicketFact
from socdesk.reports.tasks import fold_periodic, fold_task
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create
from tests.alerts.conftest import sample

pytestmark = pytest.mark.django_db


def journalled() -> list[int]:
    return list(DirtyTicket.objects.order_by("id").values_list("ticket_id", flat=True))


def test_console_ticket_and_change_are_marked(people, soc_ticket):
    assert journalled() == [soc_ticket.pk]
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=soc_ticket, severity="critical")
    assert journalled() == [soc_ticket.pk, soc_ticket.pk]


def test_a_refused_change_leaves_no_mark(people, soc_ticket):
    DirtyTicket.objects.all().delete()
    with pytest.raises(ServiceError, match="Severity must be one of"):
        ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=soc_ticket, severity="apocalyptic")
    assert journalled() == []
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_create(
            actor=Actor.for_agent(people.alice), subject="Rolled back", department=people.soc, body="x"
        )
        raise RuntimeError("the caller's transaction fails after the ticket was written")
    assert journalled() == [] and not Ticket.objects.filter(subject="Rolled back").exists()


def test_an_ingest_batch_marks_its_tickets_in_one_insert(people):
    from socdesk.alerts.models import Integration

    integration = Integration.objects.create(adapter="suricata", name="ids", department=people.soc)

    def ingest_marks() -> list[str]:
        delivery = delivery_receive(
            adapter="suricata",
            body=sample("suricata_eve.ndjson"),
            integration=integration,
            client_ip="192.0.2.1",
        )
        with CaptureQueriesContext(connection) as queries:
            delivery_process(delivery_id=delivery.pk)
        return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "reports_dirtyticket"')]

    assert len(ingest_marks()) == 1  # the two tickets opened
    tickets = sorted(Ticket.objects.values_list("pk", flat=True))
    assert len(tickets) == 2 and journalled() == tickets
    DirtyTicket.objects.all().delete()
    assert len(ingest_marks()) == 1  # the same two alerts again: repeats on the open tickets
    assert journalled() == tickets and Ticket.objects.count() == 2
    assert set(Ticket.objects.values_list("alert_occurrences", flat=True)) == {2}
    assert sum(AlertsPerMinute.objects.values_list("alerts", flat=True)) == 4


def test_the_worker_jobs_and_the_cli_fold_the_journal(people, soc_ticket, huey_immediate):
    fold_task()
    assert not DirtyTicket.objects.exists() and TicketFact.objects.get().ticket_id == soc_ticket.pk
    assert DayCount.objects.get().opened == 1
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=soc_ticket, severity="low")
    fold_periodic.call_local()
    assert not DirtyTicket.objects.exists()
    assert {(row.severity, row.opened) for row in DayCount.objects.all()} == {("high", 0), ("low", 1)}
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=soc_ticket, severity="medium")
    call_command("reports", "fold")
    assert not DirtyTicket.objects.exists()
    assert DayCount.objects.get(severity="medium").opened == 1


def test_cli_refuses_a_bad_batch(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("reports", "rebuild", "--batch", "0")
