"""Ticket services: each writes, bumps the version and records exactly one audit event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError, StaleVersion
from socdesk.tickets import services
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import EntryKind, Status
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket


def events(ticket, action=None):
    qs = AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk))
    return qs.filter(action=action) if action else qs


def test_create_sets_number_requester_tags_and_audit(people, soc_ticket, settings):
    t = Ticket.objects.get(pk=soc_ticket.pk)
    assert t.number.startswith("SOC-") and int(t.number.split("-")[1]) >= 1001
    assert t.requester.email == "dana@example.test"
    assert sorted(t.tags.values_list("name", flat=True)) == ["edr", "phishing"]
    assert t.status == Status.NEW and t.version == 1
    assert t.entries.get().kind == EntryKind.NOTE  # an agent's description is internal
    ev = events(t).get()
    assert ev.action == "ticket.created" and ev.actor_label == "alice" and ev.ip == "10.0.0.5"
    assert ev.after["severity"] == "high" and ev.after["number"] == t.number


def test_numbers_use_the_configured_prefix(people, settings):
    settings.SOCDESK_TICKET_PREFIX = "IR"
    t = services.ticket_create(actor=people.actor(people.alice), subject="x", department=people.soc)
    assert t.number.startswith("IR-")


def test_create_rejects_bad_input_and_writes_nothing(people):
    with pytest.raises(ServiceError) as err:
        services.ticket_create(
            actor=people.actor(people.alice), subject="  ", department=people.soc, severity="huge"
        )
    assert set(err.value.fields) == {"subject", "severity"}
    assert Ticket.objects.count() == 0


def test_carol_cannot_open_tickets_in_soc(people):
    with pytest.raises(PermissionDenied):
        services.ticket_create(actor=people.actor(people.carol), subject="x", department=people.soc)
    assert Ticket.objects.count() == 0


def test_reply_sets_first_response_and_acknowledges(people, soc_ticket):
    bob = people.actor(people.bob)
    entry = services.ticket_reply(actor=bob, ticket=soc_ticket, body="We are looking into it.")
    t = Ticket.objects.get(pk=soc_ticket.pk)
    assert entry.kind == EntryKind.REPLY
    assert t.first_response_at == entry.created_at
    assert t.acknowledged_at is not None and t.status == Status.IN_PROGRESS and t.version == 2
    assert events(t, "ticket.replied").count() == 1


def test_note_with_attachment_is_stored_by_hash(people, soc_ticket):
    data = b"%PDF-1.4 fake report"
    entry = services.ticket_note(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        body="Sandbox report attached.",
        attachments=[IncomingFile("../../etc/report.pdf", data)],
    )
    att = entry.attachments.get()
    assert att.size == len(data) and len(att.sha256) == 64
    assert att.filename == ".._.._etc_report.pdf"
    assert att.content_type == "application/pdf"
    assert att.file.read() == data


def test_oversized_attachment_is_refused_and_nothing_written(people, soc_ticket, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ServiceError, match="limit is 10 bytes"):
        services.ticket_note(
            actor=people.actor(people.alice),
            ticket=soc_ticket,
            body="big",
            attachments=[IncomingFile("a.bin", b"x" * 11)],
        )
    assert ThreadEntry.objects.filter(ticket=soc_ticket).count() == 1
    assert Attachment.objects.count() == 0
    assert Ticket.objects.get(pk=soc_ticket.pk).version == 1


def test_empty_reply_is_refused(people, soc_ticket):
    with pytest.raises(ServiceError, match="empty"):
        services.ticket_reply(actor=people.actor(people.alice), ticket=soc_ticket, body="   ")


def test_assign_claim_release(people, soc_ticket):
    alice, bob = people.actor(people.alice), people.actor(people.bob)
    services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.bob, team=people.tier1)
    t = Ticket.objects.get(pk=soc_ticket.pk)
    assert (t.assignee, t.team) == (people.bob, people.tier1)
    services.ticket_release(actor=bob, ticket=t)
    assert Ticket.objects.get(pk=t.pk).assignee is None
    t = services.ticket_claim(actor=alice, ticket=t)
    assert t.assignee == people.alice and t.status == Status.IN_PROGRESS
    actions = list(events(t).order_by("id").values_list("action", flat=True))
    assert actions == ["ticket.created", "ticket.assigned", "ticket.released", "ticket.claimed"]
    assert t.entries.filter(kind=EntryKind.EVENT).count() == 3


def test_cannot_assign_to_an_agent_without_a_role_in_the_department(people, soc_ticket):
    with pytest.raises(ServiceError, match="holds no role in SOC"):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.carol)


def test_transfer_clears_assignee_who_has_no_role_there(people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.bob, team=people.tier1)
    t = services.ticket_transfer(
        actor=alice, ticket=soc_ticket, department=people.it, reason="Phishing is IT's"
    )
    assert t.department == people.it and t.assignee is None and t.team is None
    assert events(t, "ticket.transferred").get().before["department"] == people.soc.pk


def test_resolve_needs_a_resolution_then_close_and_reopen(people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_change_status(actor=alice, ticket=soc_ticket, status="in_progress")
    with pytest.raises(ServiceError, match="Choose a resolution"):
        services.ticket_change_status(actor=alice, ticket=soc_ticket, status="resolved")
    t = services.ticket_change_status(
        actor=alice, ticket=soc_ticket, status="resolved", resolution="false_positive"
    )
    assert t.resolution == "false_positive" and t.resolved_at is not None
    assert t.time_to_resolve >= timedelta(0)
    t = services.ticket_change_status(actor=alice, ticket=t, status="closed")
    assert t.closed_at is not None
    t = services.ticket_change_status(actor=alice, ticket=t, status="in_progress", comment="New evidence")
    assert (t.status, t.resolution, t.resolved_at, t.closed_at) == ("in_progress", "", None, None)


def test_refused_transition_changes_nothing(people, soc_ticket):
    with pytest.raises(ServiceError, match="cannot become closed"):
        services.ticket_change_status(actor=people.actor(people.alice), ticket=soc_ticket, status="closed")
    t = Ticket.objects.get(pk=soc_ticket.pk)
    assert (t.status, t.version) == ("new", 1)
    assert events(t).count() == 1


def test_severity_tags_and_edit(people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_change_severity(actor=alice, ticket=soc_ticket, severity="critical")
    services.ticket_set_tags(actor=alice, ticket=soc_ticket, tags=["ransomware", " EDR "])
    due = timezone.now() + timedelta(hours=4)
    t = services.ticket_edit(
        actor=alice, ticket=soc_ticket, subject="Ransomware precursor on WS-042", due_at=due
    )
    assert t.severity == "critical" and t.due_at == due and t.version == 4
    assert sorted(t.tags.values_list("name", flat=True)) == ["edr", "ransomware"]
    with pytest.raises(ServiceError, match="already critical"):
        services.ticket_change_severity(actor=alice, ticket=t, severity="critical")


def test_stale_version_is_refused_naming_the_change(people, soc_ticket):
    services.ticket_change_severity(actor=people.actor(people.bob), ticket=soc_ticket, severity="low")
    with pytest.raises(StaleVersion) as err:
        services.ticket_change_status(
            actor=people.actor(people.alice), ticket=soc_ticket, status="in_progress", expected_version=1
        )
    assert "bob changed the severity from High to Low" in err.value.message
    assert Ticket.objects.get(pk=soc_ticket.pk).status == "new"


def test_carol_gets_not_found_on_every_service(people, soc_ticket):
    carol = people.actor(people.carol)
    calls = [
        lambda: services.ticket_reply(actor=carol, ticket=soc_ticket, body="hi"),
        lambda: services.ticket_note(actor=carol, ticket=soc_ticket, body="hi"),
        lambda: services.ticket_assign(actor=carol, ticket=soc_ticket, agent=people.carol),
        lambda: services.ticket_claim(actor=carol, ticket=soc_ticket),
        lambda: services.ticket_transfer(actor=carol, ticket=soc_ticket, department=people.it, reason="mine"),
        lambda: services.ticket_change_status(actor=carol, ticket=soc_ticket, status="in_progress"),
        lambda: services.ticket_change_severity(actor=carol, ticket=soc_ticket, severity="low"),
        lambda: services.ticket_set_tags(actor=carol, ticket=soc_ticket, tags=["x"]),
        lambda: services.ticket_edit(actor=carol, ticket=soc_ticket, subject="x"),
        lambda: services.ticket_delete(actor=carol, ticket=soc_ticket),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert Ticket.objects.get(pk=soc_ticket.pk).version == 1


def test_delete_needs_the_delete_permission(people, soc_ticket):
    with pytest.raises(PermissionDenied):
        services.ticket_delete(actor=people.actor(people.alice), ticket=soc_ticket)
    services.ticket_delete(actor=people.actor(people.admin), ticket=soc_ticket)
    assert not Ticket.objects.exists()
    assert AuditEvent.objects.filter(action="ticket.deleted", target_id=str(soc_ticket.pk)).exists()


def test_assignee_without_department_role_may_work_the_ticket(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.admin)
    people.carol.teams.add(people.tier1)
    services.ticket_assign(
        actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob, team=people.tier1
    )
    services.ticket_note(actor=people.actor(people.carol), ticket=soc_ticket, body="Team member note")


def test_system_actor_can_change_tickets(people, soc_ticket):
    job = Actor.system("sla-scan")
    services.ticket_change_severity(actor=job, ticket=soc_ticket, severity="critical")
    assert events(soc_ticket, "ticket.severity_changed").get().actor_type == "system"


def test_control_characters_are_removed_before_storing(people):
    """PostgreSQL refuses NUL in text and jsonb; found by the API fuzzer as a 500."""
    t = services.ticket_create(
        actor=people.actor(people.alice),
        subject="Beacon\x00 to evil\x1b.example",
        department=people.soc,
        body="line one\nline\x00 two\ttabbed",
        tags=["a\x00b"],
        extra={"k\x00": ["v\x00"]},
        requester_email="x\x00@example.test",
        requester_name="N\x00ame",
    )
    t = Ticket.objects.get(pk=t.pk)
    assert t.subject == "Beacon to evil.example"
    assert t.extra == {"k": ["v"]}
    assert t.entries.get().body == "line one\nline two\ttabbed"
    assert list(t.tags.values_list("name", flat=True)) == ["ab"]
    assert t.requester.email == "x@example.test" and t.requester.name == "Name"
    services.ticket_edit(actor=people.actor(people.alice), ticket=t, subject="S\x00ubject")
    services.ticket_note(actor=people.actor(people.alice), ticket=t, body="n\x00ote")
    assert Ticket.objects.get(pk=t.pk).subject == "Subject"
