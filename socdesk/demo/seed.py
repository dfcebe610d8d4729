"""Seeding the demo: once, in one transaction, marked by a `demo.seeded` audit event.

Everything is written through the services, so the audit trail records it like any other change and
`socdesk audit verify` passes. Seeding is idempotent: it does nothing when the marker exists. The random
generator is seeded, so two installs get the same story.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.demo.alerts import seed_demo_alerts
from socdesk.demo.people import SETUP, people_create
from socdesk.demo.stories import Storyteller
from socdesk.reports.fold import fold

DEMO_ACTION = "demo.seeded"


@dataclass
class DemoResult:
    """What seeding did."""

    created: bool
    tickets: int = 0
    agents: int = 0
    alerts: int = 0


def demo_already_seeded() -> bool:
    """True once the demo was seeded here (its marker event is in the audit trail)."""
    return AuditEvent.objects.filter(action=DEMO_ACTION).exists()


def seed_demo(
    *,
    tickets: int = 200,
    days: int = 30,
    seed: int = 4242,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    alerts: bool = True,
) -> DemoResult:
    """Create the demo organisation and `tickets` tickets over the last `days` days, once.

    Demo agents get unusable passwords unless `password` (or SOCDESK_DEMO_PASSWORD) is given, so a
    demo left running on a network cannot be signed into with a known password.
    """
    if demo_already_seeded():
        return DemoResult(created=False)
    password = password or settings.SOCDESK_DEMO_PASSWORD or None
    # One transaction: a failure half-way leaves no half-seeded demo behind (and no marker).
    with transaction.atomic():
        people = people_create(password=password)
        teller = Storyteller(random.Random(seed), people=people, days=days)
        for i in range(tickets):
            teller.ticket()
            if progress:
                progress(i + 1, tickets)
        teller.apply_timeline()
        alert_count = seed_demo_alerts(people.departments["SOC"]) if alerts else 0
        record(
            actor=SETUP,
            action=DEMO_ACTION,
            after={"tickets": tickets, "agents": len(people.agents), "days": days, "alerts": alert_count},
        )
    # The SOC metrics show the demo at once, without waiting for a worker's fold.
    fold()
    return DemoResult(created=True, tickets=tickets, agents=len(people.agents), alerts=alert_count)
