"""Personas the admin area's tests add to the shared cast."""

from __future__ import annotations

import pytest

from socdesk.accounts.choices import Perm
from socdesk.accounts.services import access_grant, agent_create, role_create
from socdesk.core.actor import Actor


@pytest.fixture
def worker(people):
    """erin: an agent in SOC whose role does not have `manage` (the personas' Analyst role does)."""
    setup = Actor.system("test-setup")
    role = role_create(actor=setup, name="Responder", permissions=[Perm.VIEW, Perm.EDIT, Perm.REPLY])
    erin = agent_create(actor=setup, username="erin", email="erin@example.test", password=None)
    access_grant(actor=setup, agent=erin, department=people.soc, role=role)
    return erin
