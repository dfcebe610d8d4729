"""The recording clock: the real time, except inside the demo's replay block, and never after it."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from socdesk.audit.services import record
from socdesk.core import clock
from socdesk.core.actor import Actor


@pytest.mark.django_db
def test_audit_events_are_stamped_with_the_replayed_moment_only_inside_the_block():
    moment = datetime(2026, 10, 31, 9, 15, 30, 123456, tzinfo=UTC)
    with clock.recording_at(moment):
        assert clock.now() == moment
        inside = record(actor=Actor.system("test"), action="test.replayed")
    before = timezone.now()
    outside = record(actor=Actor.system("test"), action="test.live")
    assert inside.occurred_at == moment
    assert outside.occurred_at >= before


def test_the_replayed_moment_is_reset_even_when_the_block_fails():
    moment = datetime(2026, 10, 31, tzinfo=UTC)
    with pytest.raises(RuntimeError), clock.recording_at(moment):
        raise RuntimeError("a step of the replay failed")
    assert clock.now() != moment
