"""The escalation announcement reaches every listener once."""

from __future__ import annotations

from datetime import UTC, datetime

from socdesk.routing import events


def test_listeners_hear_each_escalation_once(monkeypatch, soc_ticket, people):
    monkeypatch.setattr(events, "escalation_listeners", [])
    heard = []
    events.escalation_listen(heard.append)
    events.escalation_listen(heard.append)
    escalation = events.Escalation(
        ticket=soc_ticket,
        target="response",
        state="breached",
        level=1,
        recipients=(people.alice,),
        at=datetime(2026, 11, 30, tzinfo=UTC),
    )
    events.escalation_announce(escalation)
    assert heard == [escalation]
