"""Time to acknowledge and time to resolve: on the ticket page and as sortable queue columns."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from socdesk.accounts.services import apikey_create
from socdesk.core.actor import Actor
from socdesk.tickets import services
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def timed(people):
    """Four SOC tickets with known response times (A..D, created in that order)."""
    actor = people.actor(people.alice)
    now = timezone.now()
    made = {
        name: services.ticket_create(actor=actor, subject=f"Ticket {name}", department=people.soc)
        for name in "ABCD"
    }
    times = {
        # resolved: TTA 4 min, TTR 3 h 4 min
        "A": {"created_at": now - timedelta(hours=3, minutes=4), "acknowledged_at": now - timedelta(hours=3),
              "resolved_at": now, "status": "resolved", "resolution": "true_positive"},
        # acknowledged, still open: TTA 12 min, no TTR
        "B": {"created_at": now - timedelta(hours=1), "acknowledged_at": now - timedelta(minutes=48)},
        # untouched
        "C": {"created_at": now, "acknowledged_at": None},
        # closed without a resolution: TTA 1 min, TTR 2 d 5 h
        "D": {"created_at": now - timedelta(days=2, hours=5),
              "acknowledged_at": now - timedelta(days=2, hours=5) + timedelta(minutes=1),
              "closed_at": now, "status": "closed"},
    }  # fmt: skip
    for name, fields in times.items():
        Ticket.objects.filter(pk=made[name].pk).update(**fields)
    return {name: Ticket.objects.get(pk=t.pk) for name, t in made.items()}


def cell(html: str, number: str, column: str) -> str:
    row = html.split(f'value="{number}"')[1].split("</tr>")[0]
    return re.search(rf'data-col="{column}">(.*?)</td>', row).group(1)


def order(client, sort: str) -> list[str]:
    html = client.get(f"/tickets/?queue=all&sort={sort}").content.decode()
    return re.findall(r'name="ticket" value="([^"]+)"', html)


def test_model_reads_ttr_from_resolved_or_closed(timed):
    assert timed["A"].time_to_acknowledge == timedelta(minutes=4)
    assert timed["A"].time_to_resolve == timedelta(hours=3, minutes=4)
    assert timed["D"].time_to_resolve == timedelta(days=2, hours=5)
    assert timed["B"].time_to_resolve is None and timed["C"].time_to_acknowledge is None


def test_queue_shows_tta_and_ttr_columns(people, timed):
    html = client_for(people.alice).get("/tickets/?queue=all").content.decode()
    assert ">TTA</a>" in html and ">TTR</a>" in html
    n = {name: t.number for name, t in timed.items()}
    assert cell(html, n["A"], "tta") == "4 min" and cell(html, n["A"], "ttr") == "3 h 4 min"
    assert cell(html, n["B"], "tta") == "12 min" and cell(html, n["B"], "ttr") == "—"
    assert cell(html, n["C"], "tta") == "—" and cell(html, n["C"], "ttr") == "—"
    assert cell(html, n["D"], "tta") == "1 min" and cell(html, n["D"], "ttr") == "2 d 5 h"


def test_queue_sorts_by_tta_and_ttr_with_open_tickets_last(people, timed):
    client = client_for(people.alice)
    n = {name: t.number for name, t in timed.items()}
    assert order(client, "tta") == [n["B"], n["A"], n["D"], n["C"]]
    assert order(client, "-tta") == [n["D"], n["A"], n["B"], n["C"]]
    assert order(client, "ttr") == [n["D"], n["A"], n["C"], n["B"]]
    assert order(client, "-ttr") == [n["A"], n["D"], n["B"], n["C"]]


def test_ticket_page_shows_both_times(people, timed):
    client = client_for(people.alice)
    html = client.get(f"/tickets/{timed['A'].number}/").content.decode()
    assert "<dd data-tta>4 min</dd>" in html and "<dd data-ttr>3 h 4 min</dd>" in html
    html = client.get(f"/tickets/{timed['C'].number}/").content.decode()
    assert "<dd data-tta>not yet</dd>" in html and "<dd data-ttr>not yet</dd>" in html


def test_claiming_acknowledges_and_the_page_shows_it(people, soc_ticket):
    client = client_for(people.bob)
    assert "<dd data-tta>not yet</dd>" in client.get(f"/tickets/{soc_ticket.number}/").content.decode()
    services.ticket_claim(actor=Actor.for_agent(people.bob), ticket=soc_ticket)
    html = client.get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "<dd data-tta>&lt; 1 min</dd>" in html


def test_api_refuses_the_computed_sorts_with_a_clear_message(timed):
    _key, raw = apikey_create(actor=Actor.system("test"), name="soar", scopes=["tickets:read"])
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/tickets?sort=tta")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "Unknown sort 'tta'" in message and "alerts" in message


def test_postgresql_has_the_sort_indexes_of_tta_and_ttr():
    """The TTA/TTR sorts read their first page off an expression index on PostgreSQL (migration 0004)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The response-time indexes exist on PostgreSQL only (see the migration's note).")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets_ticket'")
        found = dict(cursor.fetchall())
    assert "((acknowledged_at - created_at)) DESC NULLS LAST, id DESC" in found["ticket_tta_idx"]
    assert "((COALESCE(resolved_at, closed_at) - created_at)) DESC NULLS LAST" in found["ticket_ttr_idx"]
