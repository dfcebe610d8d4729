"""Periodic work on tickets."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.tickets.services import tickets_autoclose


@db_periodic_task(crontab(minute="*/5"))
def autoclose_task() -> int:
    """Every five minutes, close the resolved tickets whose department's quiet period has passed.

    Two workers may run it at once: each close locks its ticket and checks the version it read, so a
    ticket is closed once (socdesk.tickets.services.autoclose).
    """
    return len(tickets_autoclose().closed)
