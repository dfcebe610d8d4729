"""Merging an alert ticket: its alerts, de-duplication keys and observables move to the survivor, a repeat
of the alert (through the real ingest path) lands there, and an undo puts them all back."""

from __future__ import annotations

import pytest

from socdesk.alerts.models import Alert, DedupKey, TicketObservable
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket

from .conftest import sample
from .test_pipeline import deliver

pytestmark = pytest.mark.django_db


def observables(ticket) -> set[str]:
    return set(TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", flat=True))


@pytest.fixture
def alert_ticket(make_integration):
    integration = make_integration("alertmanager")
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    return Ticket.objects.get(), integration


def test_a_repeat_after_the_merge_lands_on_the_survivor_and_undo_takes_it_back(people, alert_ticket):
    source, integration = alert_ticket
    actor = people.actor(people.alice)
    survivor = services.ticket_create(
        actor=actor, subject="SSH brute force campaign", department=people.soc, body="Tracking web01 attacks."
    )
    alert, key = Alert.objects.get(), DedupKey.objects.get()
    seen = observables(source)
    assert {"web01", "203.0.113.7"} <= seen and key.ticket_id == source.pk

    merge = services.ticket_merge(actor=actor, source=source, target=survivor)
    assert merge.moved["alerts"] == {
        "alerts": [alert.pk],
        "dedup_keys": [key.pk],
        "observables": sorted(TicketObservable.objects.filter(ticket=survivor).values_list("pk", flat=True)),
    }
    assert Alert.objects.get().ticket_id == survivor.pk and DedupKey.objects.get().ticket_id == survivor.pk
    assert observables(survivor) == seen and observables(source) == set()
    assert Ticket.objects.get(pk=survivor.pk).alert_occurrences == 1
    assert Ticket.objects.get(pk=source.pk).alert_occurrences == 0
    line = ThreadEntry.objects.get(pk=merge.target_entry_id)
    assert "1 alert" in line.body and f"{len(seen)} observables" in line.body

    # The same alert fires again: the ingest engine finds its key pointing at the survivor.
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    assert Ticket.objects.count() == 2
    repeated = Alert.objects.get()
    assert repeated.ticket_id == survivor.pk and repeated.occurrence_count == 2
    assert Ticket.objects.get(pk=survivor.pk).alert_occurrences == 2
    # Its repeat line (moved with the thread) is rewritten in place, on the survivor.
    assert ThreadEntry.objects.get(pk=repeated.repeat_entry_id).ticket_id == survivor.pk

    services.ticket_merge_undo(actor=actor, source=Ticket.objects.get(pk=source.pk))
    back = Alert.objects.get()
    assert back.ticket_id == source.pk and DedupKey.objects.get().ticket_id == source.pk
    assert observables(source) == seen and observables(survivor) == set()
    assert Ticket.objects.get(pk=source.pk).alert_occurrences == 2
    assert Ticket.objects.get(pk=survivor.pk).alert_occurrences == 0


def test_an_observable_both_tickets_have_stays_once_on_each(people, alert_ticket):
    source, _integration = alert_ticket
    actor = people.actor(people.alice)
    survivor = services.ticket_create(
        actor=actor,
        subject="Attacks from 203.0.113.7",
        department=people.soc,
        body="Source 203.0.113.7 again.",
    )
    services.ticket_note(
        actor=actor, ticket=survivor, body="Blocking 203.0.113.7", observables=[("ip", "203.0.113.7")]
    )
    assert "203.0.113.7" in observables(survivor)
    before_source = observables(source)
    merge = services.ticket_merge(actor=actor, source=source, target=survivor)
    assert observables(survivor) == before_source | {"203.0.113.7"}
    assert observables(source) == {"203.0.113.7"}  # the survivor had it: the source keeps its own link
    assert len(merge.moved["alerts"]["observables"]) == len(before_source) - 1
