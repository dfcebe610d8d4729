"""One way to change a ticket: the console and the API make the same change with the same audit events."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


def _twin_tickets(people):
    """Two identical SOC tickets assigned to bob: one changed in the console, one over the API."""
    return [
        ticket_create(
            actor=people.actor(people.alice),
            subject="Beaconing from WS-7",
            department=people.soc,
            severity="high",
            assignee=people.bob,
            tags=["edr"],
        )
        for _ in range(2)
    ]


def _trail(ticket) -> list[tuple]:
    """The audit events written after the ticket was opened: what changed (the actor names the channel)."""
    return list(
        AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk))
        .exclude(action="ticket.created")
        .order_by("pk")
        .values_list("action", "before", "after")
    )


# (console action or "bulk", console form data, API PATCH body); ids are filled in from the personas
CHANGES = [
    ("edit", {"subject": "C2 beaconing from WS-7"}, {"subject": "C2 beaconing from WS-7"}),
    ("severity", {"severity": "critical"}, {"severity": "critical"}),
    ("status", {"status": "in_progress", "comment": "on it"}, {"status": "in_progress", "comment": "on it"}),
    ("tags", {"tags": "edr, c2"}, {"tags": ["edr", "c2"]}),
    ("assign", {"assignee": "alice", "team": "tier1"}, {"assignee": "alice", "team": "Tier 1"}),
    ("assign", {"assignee": "", "team": ""}, {"assignee": None}),
    (
        "transfer",
        {"department": "it", "reason": "IT owns it"},
        {"department": "it-help-desk", "reason": "IT owns it"},
    ),
    ("bulk", {"action": "severity", "severity": "low"}, {"severity": "low"}),
    ("bulk", {"action": "assign", "assignee": "none", "team": "tier1"}, {"assignee": None, "team": "Tier 1"}),
    # a bulk list left at "Unchanged" leaves that side as it is, like a field the PATCH does not send
    ("bulk", {"action": "assign", "assignee": "", "team": "tier1"}, {"team": "Tier 1"}),
]


@pytest.mark.parametrize("action, form, body", CHANGES)
def test_console_and_api_write_the_same_audit_events(people, alice_api, action, form, body):
    ids = {"alice": people.alice.pk, "tier1": people.tier1.pk, "it": people.it.pk}
    form = {k: ids.get(v, v) for k, v in form.items()}
    by_console, by_api = _twin_tickets(people)
    console = client_for(people.alice)
    if action == "bulk":
        response = console.post("/tickets/bulk", {**form, "ticket": [by_console.number]})
    else:
        response = console.post(f"/tickets/{by_console.number}/{action}", {**form, "version": 1})
    assert response.status_code == 302, response.content.decode()[:2000]
    r = alice_api.patch(f"tickets/{by_api.number}", {**body, "version": 1})
    assert r.status_code == 200, r.content
    assert _trail(by_console) == _trail(by_api) != []
    console_row, api_row = Ticket.objects.get(pk=by_console.pk), Ticket.objects.get(pk=by_api.pk)
    assert console_row.snapshot() == api_row.snapshot() and console_row.version == api_row.version
