"""CONN_HEALTH_CHECKS: a connection is checked at a request's start only when it sat idle."""

from __future__ import annotations

import pytest
from django.core import signals
from django.db import connection

from socdesk.core import conn_health


@pytest.fixture
def checks(monkeypatch):
    """Persistent connections with health checks (as settings.py sets up PostgreSQL); the checks made,
    counted."""
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    connection.ensure_connection()
    made: list[bool] = []
    real = connection.is_usable

    def counted() -> bool:
        made.append(True)
        return real()

    monkeypatch.setattr(connection, "is_usable", counted)
    yield made
    connection.close()


def _request() -> None:
    signals.request_started.send(sender=None, environ={})
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    signals.request_finished.send(sender=None)


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_just_served_a_request_is_not_checked_again(checks):
    _request()  # the first request on it: how long it sat idle before is not known, so checked
    _request()
    _request()
    assert checks == [True]


@pytest.mark.django_db(transaction=True)
def test_a_connection_idle_for_longer_is_checked(checks, monkeypatch):
    _request()
    monkeypatch.setattr(conn_health, "IDLE_BEFORE_CHECK", 0.0)
    _request()
    assert checks == [True, True]


@pytest.mark.django_db(transaction=True)
def test_a_connection_with_errors_is_checked_at_once(checks):
    _request()
    connection.errors_occurred = True
    _request()
    assert checks == [True, True]


@pytest.mark.django_db(transaction=True)
def test_a_connection_is_kept_open_between_requests_on_both_databases():
    """DB_CONN_MAX_AGE applies to SQLite too: a request does not reopen (and set up) its database."""
    connection.ensure_connection()
    opened = connection.connection
    _request()
    _request()
    assert connection.connection is opened
