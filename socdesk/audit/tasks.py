"""Background jobs of the audit trail."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.audit.services import seal_pending


@db_periodic_task(crontab(minute="*"))
def seal_audit_chain() -> int:
    """Chain any events that no writer sealed after its commit (e.g. the process died right after).

    Writers seal their own events right after commit without waiting for the lock; this job is the
    safety net that guarantees nothing stays unsealed for more than a minute. It waits for the
    advisory lock, so two workers running it at once simply take turns.
    """
    return seal_pending(wait=True)
