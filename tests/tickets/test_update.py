"""ticket_update: several changes through the per-change services, one version check, all or nothing."""

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.errors import NotFound, ServiceError, StaleVersion
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket


def trail(ticket):
    """Everything a change can write about a ticket: its row, tags, thread and audit events."""
    t = Ticket.objects.get(pk=ticket.pk)
    return (
        t.snapshot() | {"subject": t.subject, "version": t.version, "due_at": t.due_at},
        sorted(t.tags.values_list("name", flat=True)),
        list(ThreadEntry.objects.filter(ticket=t).values_list("pk", "body")),
        list(
            AuditEvent.objects.filter(target_type="ticket", target_id=str(t.pk)).values_list("pk", "action")
        ),
    )


def actions(ticket, after_pk=0):
    return list(
        AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk), pk__gt=after_pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_applies_each_change_through_its_service_with_one_version(people, soc_ticket):
    t = services.ticket_update(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        changes=services.TicketChanges(
            status="in_progress", severity="critical", assignee=people.bob, tags=["x"], subject="New"
        ),
        expected_version=1,
    )
    assert (t.status, t.severity, t.assignee, t.subject) == ("in_progress", "critical", people.bob, "New")
    assert actions(soc_ticket)[1:] == [
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.severity_changed",
        "ticket.tagged",
        "ticket.edited",
    ]
    assert t.version == 6


@pytest.mark.parametrize(
    "changes, message",
    [
        # transfer to IT succeeds, then the SOC team does not fit the new department
        ({"department": "it", "reason": "IT owns it", "team": "tier1"}, "belongs to another department"),
        # the severity changes, then the state machine refuses new -> closed
        ({"severity": "low", "status": "closed"}, "cannot become closed"),
        # the tags change, then an empty subject is refused
        ({"tags": ["other"], "subject": "   "}, "A subject is required."),
        # the assignment and status change, then an unknown severity is refused
        ({"assignee": "bob", "status": "in_progress", "severity": "extreme"}, "Severity must be one of"),
    ],
)
def test_a_refused_change_leaves_nothing_written(people, soc_ticket, changes, message):
    named = {"it": people.it, "tier1": people.tier1, "bob": people.bob}
    changes = {k: named.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    before = trail(soc_ticket)
    with pytest.raises(ServiceError, match=message):
        services.ticket_update(
            actor=people.actor(people.admin), ticket=soc_ticket, changes=changes, expected_version=1
        )
    assert trail(soc_ticket) == before


def test_stale_version_is_refused_before_anything(people, soc_ticket):
    services.ticket_change_severity(actor=people.actor(people.bob), ticket=soc_ticket, severity="low")
    before = trail(soc_ticket)
    with pytest.raises(StaleVersion, match="bob changed the severity from High to Low"):
        services.ticket_update(
            actor=people.actor(people.alice),
            ticket=soc_ticket,
            changes={"subject": "mine"},
            expected_version=1,
        )
    assert trail(soc_ticket) == before


def test_an_agent_who_cannot_see_the_ticket_learns_nothing(people, soc_ticket):
    services.ticket_change_severity(actor=people.actor(people.bob), ticket=soc_ticket, severity="low")
    with pytest.raises(NotFound):
        services.ticket_update(
            actor=people.actor(people.carol), ticket=soc_ticket, changes={}, expected_version=1
        )


def test_unchanged_values_are_skipped_or_refused(people, soc_ticket):
    alice = people.actor(people.alice)
    same = {"severity": "high", "subject": soc_ticket.subject, "assignee": None}
    t = services.ticket_update(actor=alice, ticket=soc_ticket, changes=same)
    assert t.version == 1 and actions(soc_ticket) == ["ticket.created"]
    with pytest.raises(ServiceError, match=r"The severity is already high\."):
        services.ticket_update(
            actor=alice, ticket=soc_ticket, changes={"severity": "high"}, refuse_unchanged=True
        )
    with pytest.raises(ServiceError, match="already assigned that way"):
        services.ticket_update(
            actor=alice, ticket=soc_ticket, changes={"assignee": None, "team": None}, refuse_unchanged=True
        )


def test_clearing_the_assignee_releases_and_a_transfer_keeps_what_fits(people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_update(actor=alice, ticket=soc_ticket, changes={"assignee": people.bob})
    t = services.ticket_update(actor=alice, ticket=soc_ticket, changes={"assignee": None})
    assert t.assignee is None and actions(soc_ticket)[-1] == "ticket.released"
    services.ticket_update(
        actor=alice, ticket=soc_ticket, changes={"assignee": people.admin, "team": people.tier1}
    )
    # the admin may work anywhere and stays; the SOC team does not fit IT and is cleared
    t = services.ticket_update(
        actor=alice, ticket=soc_ticket, changes={"department": people.it, "reason": "IT owns laptops"}
    )
    assert (t.department, t.assignee, t.team) == (people.it, people.admin, None)


def test_unknown_fields_are_refused_by_name(people, soc_ticket):
    with pytest.raises(ServiceError, match="Unknown ticket field") as refused:
        services.ticket_update(
            actor=people.actor(people.alice), ticket=soc_ticket, changes={"priority": "p1"}
        )
    assert refused.value.fields == {"priority": "unknown"}
