"""The SLA in the console and the API: At risk and Overdue queues, SLA columns without a query per row,
the ticket page's clock, and the REST ticket's `sla` object."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.core.actor import Actor
from socdesk.routing.models import TicketSLA
from socdesk.routing.services.sla_scan import sla_scan
from socdesk.tickets.services import ticket_change_status
from tests.api.conftest import ApiClient, make_key
from tests.routing.sla_fixtures import clock_of, make_plans, open_ticket

pytestmark = pytest.mark.django_db


def overdue(ticket, *, at_risk_only: bool = False) -> None:
    """Make the ticket's response target at risk (or breached) now, and scan."""
    now = timezone.now()
    TicketSLA.objects.filter(pk=ticket.pk).update(
        response_at_risk_at=now - timedelta(minutes=5),
        response_due_at=now + timedelta(minutes=5) if at_risk_only else now - timedelta(seconds=1),
        next_check_at=now,
    )
    sla_scan()


@pytest.fixture
def three(people):
    """Three SOC tickets: on track, at risk, overdue (the SOC plan without escalation levels)."""
    make_plans(people, soc_plan=False)
    on_track, at_risk, late = (
        open_ticket(people, severity="medium", subject=s) for s in ("calm", "risky", "late")
    )
    overdue(at_risk, at_risk_only=True)
    overdue(late)
    return on_track, at_risk, late


def numbers_in(response) -> set[str]:
    """The ticket numbers of a queue page's rows."""
    return set(re.findall(r'<td class="mono nowrap"><a href="[^"]+">([^<]+)</a>', response.content.decode()))


def test_the_at_risk_and_overdue_queues_hold_the_open_tickets_in_that_state(client, people, three):
    on_track, at_risk, late = three
    client.force_login(people.alice.user)
    assert numbers_in(client.get("/tickets/?queue=at_risk")) == {at_risk.number}
    assert numbers_in(client.get("/tickets/?queue=overdue")) == {late.number}
    ticket_change_status(
        actor=Actor.for_agent(people.alice), ticket=late, status="resolved", resolution="true_positive"
    )
    assert numbers_in(client.get("/tickets/?queue=overdue")) == set()
    assert on_track.number in numbers_in(client.get("/tickets/?queue=open"))


def test_the_queue_shows_sla_due_and_state_without_a_query_per_row(
    client, people, three, django_assert_max_num_queries
):
    client.force_login(people.alice.user)
    with django_assert_max_num_queries(40) as few:
        page = client.get("/tickets/?queue=open").content.decode()
    assert 'data-col="sla"' in page and "Overdue: response due" in page and "At risk: response due" in page
    for i in range(10):
        overdue(open_ticket(people, severity="medium", subject=f"more {i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/tickets/?queue=open")


def test_the_ticket_page_shows_the_live_clock(client, people, three):
    _on_track, at_risk, late = three
    client.force_login(people.alice.user)
    page = client.get(f"/tickets/{at_risk.number}/").content.decode()
    assert "data-sla-clock" in page and "Slow" in page and "left" in page
    page = client.get(f"/tickets/{late.number}/").content.decode()
    assert "overdue by" in page


def test_the_api_ticket_carries_its_sla_and_the_list_no_query_per_ticket(
    people, three, django_assert_max_num_queries
):
    _on_track, at_risk, late = three
    api = ApiClient(make_key(["tickets:read"], agent=people.alice, name="alice-token"))
    body = api.get(f"tickets/{late.number}").json()
    clock = clock_of(late)
    assert body["sla"]["state"] == "breached" and body["sla"]["plan_source"] == "default"
    assert body["sla"]["response"]["state"] == "breached"
    assert body["sla"]["response"]["due_at"].startswith(clock.response_due_at.isoformat()[:19])
    assert body["sla"]["resolution"]["level"] == 0 and body["sla"]["paused"] is False
    listed = {t["number"]: t["sla"]["state"] for t in api.get("tickets?queue=at_risk").json()["items"]}
    assert listed == {at_risk.number: "at_risk"}
    with django_assert_max_num_queries(20) as few:
        api.get("tickets")
    for i in range(5):
        open_ticket(people, severity="medium", subject=f"more {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("tickets").json()["items"]) == 8


def test_a_ticket_without_a_plan_has_no_sla_anywhere(client, people):
    ticket = open_ticket(people)  # no plan at all
    api = ApiClient(make_key(["tickets:read"], agent=people.alice, name="alice-token"))
    assert api.get(f"tickets/{ticket.number}").json()["sla"] is None
    client.force_login(people.alice.user)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert ticket.subject in page and "data-sla-clock" not in page
