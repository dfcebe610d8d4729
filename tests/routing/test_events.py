"""The escalation announcement reaches every listener once, a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from socdesk.routing import events


def test_listeners_hear_each_batch_once(monkeypatch, soc_ticket, people):
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
    events.escalations_announce([escalation, escalation])
    events.escalations_announce([])  # nothing to tell: listeners are not called
    assert heard == [[escalation, escalation]]
