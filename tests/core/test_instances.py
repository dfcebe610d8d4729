"""unsaved(): the instance `Model(**values)` gives, built through the constructor's positional path."""

from __future__ import annotations

import pytest
from django.utils import timezone

from socdesk.alerts.models import Alert, DedupKey
from socdesk.core.instances import unsaved
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import ThreadEntry, Ticket

pytestmark = pytest.mark.django_db


def _same(a, b) -> None:
    """Equal attributes (defaults included) and the same related objects held in the cache."""
    assert {k: v for k, v in vars(a).items() if k != "_state"} == {
        k: v for k, v in vars(b).items() if k != "_state"
    }
    assert a._state.fields_cache == b._state.fields_cache
    assert (a._state.adding, a._state.db) == (b._state.adding, b._state.db)


def test_unsaved_builds_what_the_keyword_constructor_builds(people, soc_ticket):
    now = timezone.now()
    unsaved_key = DedupKey(key="k" * 64, label="label")  # not written yet: no id in the column
    values = dict(
        source="alertmanager",
        integration=None,
        fingerprint="fp",
        dedup_key=unsaved_key,
        title="Disk full",
        severity="high",
        occurred_at=now,
        first_seen=now,
        last_seen=now,
        ticket=soc_ticket,
        previous_ticket=None,
    )
    _same(unsaved(Alert, **values), Alert(**values))
    row = unsaved(Alert, **values)
    assert row.ticket_id == soc_ticket.pk and row.ticket is soc_ticket and row.dedup_key_id is None
    assert row.occurrence_count == 1 and row.status == "firing" and row.description == ""
    ticket = dict(number="SOC-9", subject="s", department=people.soc, extra={"a": 1}, created_at=now)
    _same(unsaved(Ticket, **ticket), Ticket(**ticket))
    by_id = dict(ticket_id=soc_ticket.pk, kind=EntryKind.EVENT, author_label="x", body="b", created_at=now)
    _same(unsaved(ThreadEntry, **by_id), ThreadEntry(**by_id))


def test_unsaved_refuses_what_the_keyword_constructor_refuses(people):
    with pytest.raises(TypeError, match="nonsense"):
        unsaved(Ticket, subject="s", nonsense=1)
    with pytest.raises(ValueError, match=r'"ThreadEntry\.ticket" must be a "Ticket" instance'):
        unsaved(ThreadEntry, ticket=people.soc)
