"""Retention: raw payloads and closed tickets by age per department, audit events through a checkpoint."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, AlertRaw, WebhookDelivery
from socdesk.alerts.retention import retention_run
from socdesk.alerts.tasks import retention_task
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record, seal_pending
from socdesk.audit.verify import verify_chain
from socdesk.core.actor import Actor
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from socdesk.tickets.services import ticket_change_status, ticket_note

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


class Clock:
    """The time every service reads (django.utils.timezone.now), set by the test."""

    def __init__(self, monkeypatch):
        self.at = NOW
        monkeypatch.setattr(timezone, "now", lambda: self.at)

    def days_ago(self, days: int) -> None:
        self.at = NOW - dt.timedelta(days=days)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def alert_ticket(integration, fingerprint: str) -> Ticket:
    body = json.dumps({"title": f"alert {fingerprint}", "fingerprint": fingerprint}).encode()
    delivery = delivery_receive(adapter="generic", body=body, integration=integration, client_ip="192.0.2.10")
    delivery_process(delivery_id=delivery.pk)
    return Alert.objects.get(fingerprint=fingerprint).ticket


def close(ticket: Ticket, agent) -> Ticket:
    actor = Actor.for_agent(agent)
    ticket.refresh_from_db()
    if ticket.status != Status.IN_PROGRESS:
        ticket = ticket_change_status(actor=actor, ticket=ticket, status=Status.IN_PROGRESS)
    ticket = ticket_change_status(
        actor=actor, ticket=ticket, status=Status.RESOLVED, resolution="true_positive"
    )
    return ticket_change_status(actor=actor, ticket=ticket, status=Status.CLOSED)


def set_retention(slug: str, raw: str | None = None, closed: str | None = None) -> str:
    out = StringIO()
    args = ["retention", "set", slug]
    if raw is not None:
        args += ["--raw-payload-days", raw]
    if closed is not None:
        args += ["--closed-ticket-days", closed]
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def aged(people, clock, make_integration):
    """In SOC: ticket `old` closed 100 days ago with an attachment, `recent` closed 10 days ago, `open` opened
    100 days ago and still open. In IT (no retention): `it_old` closed 100 days ago."""
    soc = make_integration("generic", department=people.soc)
    it = make_integration("generic", department=people.it)
    clock.days_ago(100)
    old = alert_ticket(soc, "old")
    ticket_note(
        actor=Actor.for_agent(people.alice),
        ticket=old,
        body="memory dump",
        attachments=[IncomingFile(name="dump.bin", content=b"only on the old ticket")],
    )
    ticket_note(
        actor=Actor.for_agent(people.alice),
        ticket=old,
        body="shared file",
        attachments=[IncomingFile(name="shared.txt", content=b"on old and recent")],
    )
    old = close(old, people.alice)
    opened = alert_ticket(soc, "open")
    it_old = close(alert_ticket(it, "it-old"), people.carol)
    clock.days_ago(10)
    recent = alert_ticket(soc, "recent")
    ticket_note(
        actor=Actor.for_agent(people.alice),
        ticket=recent,
        body="same file again",
        attachments=[IncomingFile(name="shared.txt", content=b"on old and recent")],
    )
    recent = close(recent, people.alice)
    clock.at = NOW
    return {"old": old, "recent": recent, "open": opened, "it_old": it_old}


def test_closed_tickets_past_retention_go_with_thread_alerts_and_files(
    aged, people, django_capture_on_commit_callbacks
):
    set_retention("soc", raw="30", closed="30")
    files = {a.filename: a.file.name for a in Attachment.objects.filter(entry__ticket=aged["old"])}
    assert all(default_storage.exists(name) for name in files.values())

    with django_capture_on_commit_callbacks(execute=True):
        report = retention_run()

    soc = next(d for d in report.departments if d.department == people.soc)
    assert (soc.tickets, soc.alerts, soc.attachments) == (1, 1, 2)
    assert soc.ticket_numbers == [aged["old"].number]
    assert not Ticket.objects.filter(pk=aged["old"].pk).exists()
    assert not ThreadEntry.objects.filter(ticket_id=aged["old"].pk).exists()
    assert not Alert.objects.filter(fingerprint="old").exists()
    # The recent closed ticket, the old open one and the other department (no retention) stay.
    assert Ticket.objects.filter(pk__in=[aged["recent"].pk, aged["open"].pk, aged["it_old"].pk]).count() == 3
    # A file only the purged ticket used is gone; one shared with a kept ticket stays.
    assert not default_storage.exists(files["dump.bin"])
    assert default_storage.exists(files["shared.txt"])
    # The old open ticket's alert lost its raw payload (last seen 100 days ago); the alert and ticket stay.
    assert soc.raw_payloads == 1
    # The request bodies as received go too (the old ticket's and the open one's), pending ones never.
    assert soc.deliveries == 2
    assert set(WebhookDelivery.objects.values_list("alerts__fingerprint", flat=True)) == {"recent", "it-old"}
    assert Alert.objects.filter(fingerprint="open", ticket=aged["open"]).exists()
    assert not AlertRaw.objects.filter(alert__fingerprint="open").exists()
    assert AlertRaw.objects.filter(alert__fingerprint="recent").exists()

    event = AuditEvent.objects.get(action="retention.purged")
    assert event.actor_label == "retention" and event.target_id == str(people.soc.pk)
    assert event.after["tickets"] == 1 and event.after["raw_payloads"] == 1
    assert event.after["deliveries"] == 2
    assert event.after["ticket_numbers"] == [aged["old"].number]
    assert event.after["closed_ticket_cutoff"] == (NOW - dt.timedelta(days=30)).isoformat()
    seal_pending()
    assert verify_chain().ok
    # Nothing more is due: a second pass deletes nothing and records nothing.
    assert not retention_run().anything
    assert AuditEvent.objects.filter(action="retention.purged").count() == 1


def test_dry_run_shows_what_would_go_and_deletes_nothing(aged):
    set_retention("soc", raw="30", closed="30")
    tickets, raws, events = Ticket.objects.count(), AlertRaw.objects.count(), AuditEvent.objects.count()
    out = StringIO()
    call_command("retention", "run", "--dry-run", stdout=out)
    text = out.getvalue()
    soc_row = next(line for line in text.splitlines() if " soc " in line)
    assert soc_row.split("│")[2].strip() == "1"  # raw payloads
    assert soc_row.split("│")[3].strip() == "2"  # deliveries
    assert soc_row.split("│")[5].strip() == "1"  # tickets
    assert "nothing was deleted" in text
    assert (Ticket.objects.count(), AlertRaw.objects.count(), AuditEvent.objects.count()) == (
        tickets,
        raws,
        events,
    )


def test_global_default_applies_where_a_department_sets_none(aged, settings, people):
    settings.SOCDESK_CLOSED_TICKET_RETENTION_DAYS = 50
    retention_run()
    # Both departments' 100-day-old closed tickets go; SOC's 10-day-old one stays.
    assert not Ticket.objects.filter(pk__in=[aged["old"].pk, aged["it_old"].pk]).exists()
    assert Ticket.objects.filter(pk=aged["recent"].pk).exists()
    # A department's own setting wins over the default.
    set_retention("soc", closed="5")
    retention_run()
    assert not Ticket.objects.filter(pk=aged["recent"].pk).exists()


def test_each_pass_is_bounded_and_the_command_runs_passes_until_done(people, clock, make_integration):
    soc = make_integration("generic", department=people.soc)
    clock.days_ago(40)
    for n in range(5):
        close(alert_ticket(soc, f"t{n}"), people.alice)
    clock.at = NOW
    set_retention("soc", closed="30")
    soc_pass = next(d for d in retention_run(batch=2).departments if d.department.slug == "soc")
    assert soc_pass.tickets == 2
    assert Ticket.objects.count() == 3
    out = StringIO()
    call_command("retention", "run", "--batch", "2", stdout=out)
    assert Ticket.objects.count() == 0
    # One audited event per department per pass: 2 + 2 + 1.
    counts = [e.after["tickets"] for e in AuditEvent.objects.filter(action="retention.purged").order_by("id")]
    assert counts == [2, 2, 1]


def test_a_ticket_reopened_since_closing_is_kept(aged, people):
    set_retention("soc", closed="30")
    ticket_change_status(actor=Actor.for_agent(people.alice), ticket=aged["old"], status=Status.IN_PROGRESS)
    retention_run()
    assert Ticket.objects.filter(pk=aged["old"].pk).exists()


def test_setting_retention_is_audited_and_bad_values_are_refused(people):
    assert "closed tickets 90 days" in set_retention("soc", closed="90")
    soc = Department.objects.get(slug="soc")
    assert soc.closed_ticket_retention_days == 90 and soc.raw_payload_retention_days is None
    event = AuditEvent.objects.get(action="department.retention_changed")
    assert (
        event.before["closed_ticket_retention_days"] is None
        and event.after["closed_ticket_retention_days"] == 90
    )
    with pytest.raises(CommandError, match="not a number of days"):
        set_retention("soc", raw="-3")
    with pytest.raises(CommandError, match="No department 'nope'"):
        set_retention("nope", raw="3")
    soc.refresh_from_db()
    assert soc.raw_payload_retention_days is None and soc.closed_ticket_retention_days == 90
    set_retention("soc", closed="default")
    soc.refresh_from_db()
    assert soc.closed_ticket_retention_days is None


def test_old_audit_events_are_purged_through_a_checkpoint_and_the_chain_verifies(clock, settings):
    clock.days_ago(400)
    for n in range(6):
        record(actor=Actor.system("test"), action="test.old", after={"n": n})
    seal_pending()
    clock.at = NOW
    record(actor=Actor.system("test"), action="test.new")
    seal_pending()
    settings.SOCDESK_AUDIT_RETENTION_DAYS = 365
    dry = retention_run(dry_run=True).audit
    assert dry is not None and dry.events == 6
    assert AuditEvent.objects.filter(action="test.old").count() == 6

    report = retention_run(batch=4)
    assert report.audit is not None and report.audit.events == 4
    seal_pending()
    assert verify_chain().ok  # after the first, partial purge too
    retention_run(batch=100)
    assert not AuditEvent.objects.filter(action="test.old").exists()
    assert AuditEvent.objects.filter(action="test.new").exists()
    checkpoints = AuditEvent.objects.filter(action="audit.purged").order_by("id")
    assert checkpoints.count() == 2
    assert checkpoints[0].after["through_seq"] + 1 == checkpoints[1].after["from_seq"]
    seal_pending()
    result = verify_chain()
    assert result.ok, result.reason
    first = AuditEvent.objects.filter(seq__isnull=False).order_by("seq").first()
    assert first.seq == checkpoints[1].after["through_seq"] + 1
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "chain intact" in out.getvalue()


def test_verify_refuses_a_cut_prefix_without_a_checkpoint(people):
    seal_pending()
    assert AuditEvent.objects.filter(seq__isnull=False).count() > 3
    with transaction.atomic():
        if connection.vendor == "postgresql":  # the trigger's door, opened without recording a checkpoint
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('socdesk.audit_purge_through_seq', '2', true)")
        AuditEvent.objects.filter(seq__lte=2).delete()
    result = verify_chain()
    assert not result.ok
    assert (
        result.reason
        == "events 1 to 2 are missing and no audit.purged checkpoint records that they were purged"
    )


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_audit_events_still_refuse_a_plain_delete(people):
    seal_pending()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()


def test_the_worker_runs_a_pass_every_ten_minutes(aged):
    task = retention_task.s()
    start = dt.datetime(2026, 1, 1, 0, 0)
    assert [m for m in range(60) if task.validate_datetime(start + dt.timedelta(minutes=m))] == [
        0,
        10,
        20,
        30,
        40,
        50,
    ]
    Department.objects.filter(slug="soc").update(
        closed_ticket_retention_days=30, raw_payload_retention_days=30
    )
    assert retention_task.call_local() == 1 + 1 + 2  # a ticket, a raw payload, two deliveries
