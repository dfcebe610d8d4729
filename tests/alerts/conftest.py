"""Fixtures for the alert tests: sample payloads, integrations, an ingest key (Huey in immediate mode:
tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socdesk.accounts.services import apikey_create
from socdesk.alerts.models import Integration
from socdesk.core.actor import Actor

FIXTURES = Path(__file__).parent / "fixtures"
SETUP = Actor.system("test-setup")


def sample(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def ingest_key(db):
    """A raw API key with the alerts:ingest scope."""
    _key, raw = apikey_create(actor=SETUP, name="alert-tools", scopes=["alerts:ingest"])
    return raw


@pytest.fixture
def make_integration(people):
    def make(adapter: str = "alertmanager", **fields) -> Integration:
        fields.setdefault("name", f"{adapter}-{Integration.objects.count() + 1}")
        fields.setdefault("department", people.soc)
        return Integration.objects.create(adapter=adapter, **fields)

    return make
