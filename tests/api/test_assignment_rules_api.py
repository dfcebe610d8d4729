"""The assignment rule and the transfer reason over /api/v1: the same service, the same refusals."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import ThreadEntry, Ticket

pytestmark = pytest.mark.django_db


def _written():
    return (Ticket.objects.count(), ThreadEntry.objects.count(), AuditEvent.objects.count())


def test_create_refuses_an_assignee_without_a_role(alice_api, people):
    before = _written()
    r = alice_api.post(
        "tickets", {"subject": "Phish", "department": people.soc.pk, "assignee": people.carol.pk}
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"]["fields"] == {"assignee": "no_access"}
    assert "Carol holds no role in SOC" in r.json()["error"]["message"]
    assert _written() == before


def test_patch_refuses_an_assignee_without_a_role(alice_api, soc_ticket, people):
    before = _written()
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "assignee": "carol"})
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"assignee": "no_access"}
    assert _written() == before


def test_patch_transfer_needs_a_reason_and_keeps_it_in_the_thread(alice_api, soc_ticket, people):
    before = _written()
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "department": "it-help-desk"})
    assert r.status_code == 400, r.content
    assert r.json()["error"]["fields"] == {"reason": "required"}
    assert _written() == before
    r = alice_api.patch(
        f"tickets/{soc_ticket.number}",
        {"version": 1, "department": "it-help-desk", "reason": "Laptop loss is IT's"},
    )
    assert r.status_code == 200, r.content
    line = ThreadEntry.objects.filter(ticket_id=soc_ticket.pk).latest("id").body
    assert line.endswith("Reason: Laptop loss is IT's")
