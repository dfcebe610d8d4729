"""The audit browser's Change column: names and before → after, looked up in bulk; raw JSON kept."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.services import agent_create
from socdesk.audit.describe import describe_changes
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets import services
from tests.console_helpers import client_for


@pytest.fixture
def admin(people):
    return client_for(people.admin)


def _row(page: str, action: str) -> str:
    """The text of the first row of `action` on the page, tags stripped."""
    rows = re.findall(r"<tr data-row>(.*?)</tr>", page, flags=re.S)
    row = next(r for r in rows if f">{action}<" in r)
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)))


def test_assignment_shows_names_before_and_after_and_keeps_the_raw_json(admin, people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.bob, team=people.tier1)
    page = admin.get("/audit/?action=ticket.assigned").content.decode()
    row = _row(page, "ticket.assigned")
    assert "assignee: — → Bob" in row and "team: — → Tier 1" in row
    assert f'"assignee": {people.bob.pk}' in htmllib.unescape(page.split('<details class="raw"')[1])
    assert "<summary>Raw JSON</summary>" in page


def test_transfer_status_and_a_kept_assignee_read_as_words(admin, people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.admin)
    services.ticket_update(actor=alice, ticket=soc_ticket, changes={"status": "in_progress"})
    transfer = {"department": people.it, "reason": "IT's"}
    services.ticket_update(actor=alice, ticket=soc_ticket, changes=transfer)
    page = admin.get("/audit/?action=ticket.").content.decode()
    row = _row(page, "ticket.transferred")
    assert "department: SOC → IT Help Desk" in row and "assignee: admin (kept)" in row
    assert "reason: IT's" in row
    assert "status: New → In progress" in _row(page, "ticket.status_changed")


def test_an_agent_deleted_since_is_shown_by_id(people, soc_ticket):
    ghost = agent_create(actor=Actor.system("t"), username="ghost", email="g@example.test", password="x" * 20)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    event = AuditEvent.objects.get(action="ticket.assigned")
    event.after = {**event.after, "assignee": ghost.pk + 1000}  # an id nobody holds any more
    changes = {c.field: c for c in describe_changes([event])[event.pk]}
    assert changes["assignee"].after == f"#{ghost.pk + 1000}"
    assert "version" not in changes  # bookkeeping stays in the raw JSON


def test_fields_nobody_names_are_shown_as_stored(people):
    event = AuditEvent(pk=1, before={"subject": "old"}, after={"subject": "new", "enabled": True, "n": 3})
    changes = {c.field: (c.before, c.after) for c in describe_changes([event])[1]}
    assert changes == {"subject": ("old", "new"), "enabled": ("", "yes"), "n": ("", "3")}


def test_names_are_looked_up_once_per_page_not_per_row(admin, people, soc_ticket):
    alice = people.actor(people.alice)

    def assign_back_and_forth(times: int) -> None:
        for _ in range(times):
            services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.bob, team=people.tier1)
            services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.alice, team=None)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/audit/?action=ticket.").status_code == 200
        return len(captured)

    assign_back_and_forth(1)
    few = queries()
    assign_back_and_forth(15)
    assert queries() == few
