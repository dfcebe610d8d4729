"""Triage closes most alerts as false positives straight from New: one step, single or bulk."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket
from tests.console_helpers import client_for


def _new_alert(people, subject: str) -> Ticket:
    return services.ticket_create(
        actor=Actor.system("ingest"), subject=subject, department=people.soc, source="alert"
    )


def test_a_new_ticket_is_resolved_in_one_step_and_acknowledged_then(people, soc_ticket):
    ticket = _new_alert(people, "Port scan from 203.0.113.7")
    assert ticket.acknowledged_at is None
    t = services.ticket_change_status(
        actor=people.actor(people.alice), ticket=ticket, status="resolved", resolution="false_positive"
    )
    assert (t.status, t.resolution) == ("resolved", "false_positive")
    # Time to acknowledge stays meaningful: the agent's resolving is its first action on the ticket.
    assert t.acknowledged_at == t.resolved_at is not None
    event = AuditEvent.objects.get(action="ticket.status_changed", target_id=str(t.pk))
    assert event.before["status"] == "new" and event.after["status"] == "resolved"
    line = "from New to Resolved (false positive)"
    assert ThreadEntry.objects.filter(ticket=t, body__contains=line).exists()


def test_resolving_from_new_still_needs_a_resolution_and_writes_nothing_without_one(people):
    ticket = _new_alert(people, "Port scan")
    written = AuditEvent.objects.count()
    with pytest.raises(ServiceError, match="Choose a resolution"):
        services.ticket_change_status(actor=people.actor(people.alice), ticket=ticket, status="resolved")
    assert Ticket.objects.get(pk=ticket.pk).status == "new" and AuditEvent.objects.count() == written


def test_the_status_form_of_a_new_ticket_offers_resolved(people, soc_ticket):
    html = client_for(people.alice).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert '<option value="resolved">Resolved</option>' in html


def test_console_resolves_a_new_ticket_as_a_false_positive(people, soc_ticket):
    response = client_for(people.alice).post(
        f"/tickets/{soc_ticket.number}/status",
        {"version": 1, "status": "resolved", "resolution": "false_positive"},
        follow=True,
    )
    assert "Status set to resolved." in response.content.decode()
    assert Ticket.objects.get(pk=soc_ticket.pk).resolution == "false_positive"


def test_bulk_resolves_new_alerts_as_false_positives_in_one_pass(people):
    tickets = [_new_alert(people, f"Beacon {n}") for n in range(3)]
    response = client_for(people.alice).post(
        "/tickets/bulk",
        {
            "ticket": [t.number for t in tickets],
            "action": "status",
            "status": "resolved",
            "resolution": "false_positive",
        },
        follow=True,
    )
    assert "Changed 3 ticket(s)" in response.content.decode()
    fresh = Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    assert {(t.status, t.resolution) for t in fresh} == {("resolved", "false_positive")}
    assert all(t.acknowledged_at is not None for t in fresh)
