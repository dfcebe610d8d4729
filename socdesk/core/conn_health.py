"""Database health checks only for connections that sat idle.

Django's CONN_HEALTH_CHECKS (on for PostgreSQL, settings.py) checks a reused connection with a
`SELECT 1` at the first query of every request: one more round trip, and database CPU, per request
on a connection that answered a moment ago. Here a connection that finished a request less than
`IDLE_BEFORE_CHECK` seconds ago is taken as healthy and not checked again; one idle for longer (the
database may have restarted, a proxy may have dropped it) is checked as Django checks it. Errors and
CONN_MAX_AGE are handled by Django as before (a connection with errors is checked at once).

The check is skipped where Django makes it (the connection's `close_if_health_check_failed`), not in
a request_started receiver: receivers run in the order they were connected, and one running before
Django's own would see its work undone.
"""

from __future__ import annotations

import time
from typing import Any

from django.core import signals
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

IDLE_BEFORE_CHECK = 1.0  # seconds


@receiver(signals.request_finished, dispatch_uid="socdesk-connection-last-request")
def _note_request_end(**_kwargs: Any) -> None:
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            # Kept with the connection it is about: a connection opened later has its own history.
            conn.socdesk_request_ended = (conn.connection, now)  # type: ignore[attr-defined]


@receiver(connection_created, dispatch_uid="socdesk-connection-check-when-idle")
def _check_only_when_idle(
    sender: type[BaseDatabaseWrapper], connection: BaseDatabaseWrapper, **_kwargs: Any
) -> None:
    checked = getattr(connection, "health_check_enabled", False)  # not declared by django-stubs
    if checked and "close_if_health_check_failed" not in vars(connection):
        connection.close_if_health_check_failed = lambda: _close_if_idle_and_unhealthy(connection)  # type: ignore[method-assign]


def _close_if_idle_and_unhealthy(conn: BaseDatabaseWrapper) -> None:
    used_by, ended = getattr(conn, "socdesk_request_ended", (None, 0.0))
    if (
        conn.connection is not None
        and used_by is conn.connection
        and not conn.errors_occurred
        and time.monotonic() - ended < IDLE_BEFORE_CHECK
    ):
        conn.health_check_done = True  # type: ignore[attr-defined]
        return
    type(conn).close_if_health_check_failed(conn)
