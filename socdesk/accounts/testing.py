"""The test personas from ARCHITECTURE.md, built through the real services.

alice and bob are agents in the SOC department; carol is an agent in IT (another department);
admin sees everything. Used by the tests (tests/conftest.py) and the browser tests' server.
"""

from __future__ import annotations

from dataclasses import dataclass

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Role, Team
from socdesk.accounts.services import access_grant, agent_create, department_create, role_create, team_create
from socdesk.core.actor import Actor

PERSONA_PASSWORD = "correct-horse-battery-staple"


@dataclass
class Personas:
    """The cast for permission tests."""

    soc: Department
    it: Department
    analyst: Role
    alice: Agent
    bob: Agent
    carol: Agent
    admin: Agent
    tier1: Team

    def actor(self, agent: Agent, ip: str = "127.0.0.1") -> Actor:
        return Actor.for_agent(agent, ip=ip)


def make_personas(password: str = PERSONA_PASSWORD) -> Personas:
    """Create the SOC and IT departments, an analyst role, alice, bob, carol, admin and a team."""
    setup = Actor.system("test-setup")
    soc = department_create(actor=setup, name="SOC", email="soc@example.test")
    it = department_create(actor=setup, name="IT Help Desk", email="it@example.test")
    # Analysts work tickets; deleting them and sharing queues with the department are a lead's.
    analyst = role_create(
        actor=setup,
        name="Analyst",
        permissions=[p for p in Perm.values if p not in (Perm.DELETE, Perm.SHARE_QUEUES)],
    )
    alice = agent_create(
        actor=setup, username="alice", email="alice@example.test", password=password, first_name="Alice"
    )
    bob = agent_create(
        actor=setup, username="bob", email="bob@example.test", password=password, first_name="Bob"
    )
    carol = agent_create(
        actor=setup, username="carol", email="carol@example.test", password=password, first_name="Carol"
    )
    admin = agent_create(
        actor=setup, username="admin", email="admin@example.test", password=password, is_admin=True
    )
    access_grant(actor=setup, agent=alice, department=soc, role=analyst)
    access_grant(actor=setup, agent=bob, department=soc, role=analyst)
    access_grant(actor=setup, agent=carol, department=it, role=analyst)
    tier1 = team_create(actor=setup, name="Tier 1", department=soc, lead=alice, members=[alice, bob])
    return Personas(
        soc=soc, it=it, analyst=analyst, alice=alice, bob=bob, carol=carol, admin=admin, tier1=tier1
    )
