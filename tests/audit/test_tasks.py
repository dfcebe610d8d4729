"""The periodic sealing job: the safety net that chains events no writer sealed."""

from __future__ import annotations

import datetime as dt

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.audit.tasks import seal_audit_chain
from socdesk.audit.verify import verify_chain
from socdesk.core.actor import Actor


@pytest.mark.django_db
def test_seal_job_chains_pending_events():
    # Inside the test's transaction the after-commit sealing never fires, as when a process dies
    # between its commit and its seal: the events wait unsealed for the job.
    for n in range(3):
        record(actor=Actor.system("test"), action="test.happened", after={"n": n})
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 3
    assert seal_audit_chain.call_local() == 3
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert verify_chain().ok
    assert seal_audit_chain.call_local() == 0  # idempotent


def test_seal_job_runs_every_minute():
    start = dt.datetime(2026, 1, 1, 0, 0)
    minutes = [start + dt.timedelta(minutes=m) for m in range(0, 180, 7)]
    task = seal_audit_chain.s()
    assert all(task.validate_datetime(when) for when in minutes)
