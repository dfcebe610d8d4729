"""Fixtures for the tickets app's tests."""

from __future__ import annotations

import pytest

from socdesk.accounts.choices import Perm
from socdesk.accounts.services import access_grant, agent_create, role_create
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor


@pytest.fixture
def lead(people):
    """dave: a SOC lead (every permission in SOC, including sharing queues; none elsewhere)."""
    setup = Actor.system("test-setup")
    role = role_create(actor=setup, name="Lead", permissions=list(Perm.values))
    dave = agent_create(
        actor=setup, username="dave", email="dave@example.test", password=PERSONA_PASSWORD, first_name="Dave"
    )
    access_grant(actor=setup, agent=dave, department=people.soc, role=role)
    return dave
