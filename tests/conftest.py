"""Shared fixtures: personas, a ticket in SOC, and a per-test data dir for files."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.core.testing import PERSONA_PASSWORD, make_personas
from socdesk.tickets.services import ticket_create


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "attachments"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Still argon2 (same hash format), with cheap parameters so persona set-up stays fast."""
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture
def people(db):
    """alice, bob (SOC), carol (IT), admin, team Tier 1."""
    return make_personas()


@pytest.fixture
def password():
    return PERSONA_PASSWORD


@pytest.fixture
def soc_ticket(people):
    """A new SOC ticket opened by alice for an end user."""
    return ticket_create(
        actor=Actor.for_agent(people.alice, ip="10.0.0.5"),
        subject="Suspicious PowerShell on WS-042",
        department=people.soc,
        body="EDR flagged encoded PowerShell spawning from winword.exe.",
        requester_email="Dana@Example.test",
        requester_name="Dana Reyes",
        severity="high",
        tags=["edr", "Phishing"],
    )
