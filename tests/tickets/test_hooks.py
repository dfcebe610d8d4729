"""The seams apps above tickets hook into: called on every opening and every recorded change."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied
from socdesk.tickets import hooks
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create


@pytest.fixture
def registered(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(hooks, "before_create", [])
    monkeypatch.setattr(hooks, "after_create", [])
    monkeypatch.setattr(hooks, "after_change", [])

    def before(drafts):
        calls.append(("before", [d.subject for d in drafts]))
        for draft in drafts:
            if "refuse me" in draft.subject:
                raise PermissionDenied("A rule refuses this ticket.")
            draft.severity = "critical"
            draft.hints["seen"] = True

    def created(tickets, drafts, now):
        calls.append(("created", [t.severity for t in tickets], [d.hints for d in drafts]))

    def changed(change):
        calls.append(("changed", change.action, change.before, change.after.get("severity")))

    hooks.hook_register(before=before, created=created, changed=changed)
    hooks.hook_register(before=before)  # registering twice adds nothing
    return calls


def test_hooks_see_and_shape_every_opening_and_change(people, registered):
    actor = Actor.for_agent(people.alice)
    ticket = ticket_create(actor=actor, subject="Beacon", department=people.soc, severity="low")
    assert ticket.severity == "critical"  # the before hook's change was written
    ticket_change_severity(actor=actor, ticket=ticket, severity="high")
    assert registered == [
        ("before", ["Beacon"]),
        ("created", ["critical"], [{"seen": True}]),
        ("changed", "ticket.severity_changed", {"severity": "critical"}, "high"),
    ]


def test_a_before_hook_refusal_writes_nothing(people, registered):
    actor = Actor.for_agent(people.alice)
    with pytest.raises(PermissionDenied, match="A rule refuses"):
        ticket_create(actor=actor, subject="please refuse me", department=people.soc)
    assert not Ticket.objects.exists()
    assert [c[0] for c in registered] == ["before"]
