"""Background jobs of the audit trail."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.audit.services import seal_pending


@db_periodic_task(crontab(minute="*"))
def seal_audit_chain() -> int:
    """Chain any events the ingest loops left unsealed (e.g. every loop stuck in a long batch).

    Writers never seal; each worker's ingest loop seals every second (socdesk.alerts.ingest.loop), and
    this job is the safety net that guarantees nothing stays unsealed for more than a minute while a
    worker runs. It waits for the advisory lock, so two workers running it at once simply take turns.
    """
    return seal_pending(wait=True)
