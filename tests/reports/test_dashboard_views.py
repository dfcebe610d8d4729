"""The SOC dashboard page and its CSV: real tickets through the services and the alert engine, the roll-ups
folded, and every drill-down link's queue counted against the number it stands for."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, Integration
from socdesk.core.actor import Actor
from socdesk.reports.charts import COUNT, PERCENT, SECONDS
from socdesk.reports.fold import fold
from socdesk.reports.views import _dashboard
from socdesk.tickets.filters import TicketFilter, queue_tickets
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db

DAY1 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TODAY = DAY1 + dt.timedelta(days=3)
HOSTILE = '=HYPERLINK("http://evil.test")<script>alert(1)</script>'


class Clock:
    def __init__(self, monkeypatch):
        self.at = DAY1
        monkeypatch.setattr(timezone, "now", lambda: self.at)


def alert_ticket(people, adapter: str, title: str, fingerprint: str) -> Ticket:
    integration, _ = Integration.objects.get_or_create(
        adapter=adapter, name=adapter, defaults={"department": people.soc}
    )
    body = json.dumps({"title": title, "fingerprint": fingerprint}).encode()
    delivery_process(delivery_id=delivery_receive(adapter=adapter, body=body, integration=integration).pk)
    ticket = Alert.objects.get(fingerprint=fingerprint).ticket
    assert ticket is not None
    return ticket


@pytest.fixture
def story(people, monkeypatch):
    """Over four days in SOC: a web ticket (high) acknowledged and resolved as a false positive by alice,
    an open e-mailed one, two alerts of rule "Impossible travel" (one resolved by bob), an alert whose
    rule is hostile text; and carol's ticket in IT. Folded into the roll-ups."""
    clock = Clock(monkeypatch)
    alice, bob = Actor.for_agent(people.alice), Actor.for_agent(people.bob)
    web = ticket_create(actor=alice, subject="Phishing report", department=people.soc, severity="high")
    email = ticket_create(actor=alice, subject="Mailed in", department=people.soc, source="email")
    travel = alert_ticket(people, "generic", "Impossible travel", "t1")
    clock.at = DAY1 + dt.timedelta(hours=2)
    ticket_update(actor=alice, ticket=web, changes={"assignee": people.alice})
    clock.at = DAY1 + dt.timedelta(days=1)
    travel2 = alert_ticket(people, "generic", "Impossible travel", "t2")
    assert alert_ticket(people, "generic", "Impossible travel", "t2") == travel2  # fires again: 3 alerts
    hostile = alert_ticket(people, "generic", HOSTILE, "h1")
    ticket_update(actor=alice, ticket=web, changes={"status": "resolved", "resolution": "false_positive"})
    ticket_update(actor=bob, ticket=travel2, changes={"assignee": people.bob})  # stays open
    clock.at = DAY1 + dt.timedelta(days=2)
    ticket_update(actor=bob, ticket=travel, changes={"assignee": people.bob})
    clock.at = DAY1 + dt.timedelta(days=2, hours=5)
    ticket_update(actor=bob, ticket=travel, changes={"status": "resolved", "resolution": "true_positive"})
    it = ticket_create(actor=Actor.for_agent(people.carol), subject="Printer", department=people.it)
    clock.at = TODAY
    fold()
    return {"web": web, "email": email, "travel": travel, "travel2": travel2, "hostile": hostile, "it": it}


def login(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def queue_count(agent, href: str) -> int:
    """How many tickets the drill-down link's queue lists for this agent (the queue page's own filter)."""
    assert href.startswith("/tickets/?")
    f = TicketFilter.from_querydict(QueryDict(urlsplit(href).query))
    assert not f.errors, (href, f.errors)
    return queue_tickets(agent, f).count()


class FakeRequest:
    def __init__(self, agent, query: str = ""):
        self.agent = agent
        self.GET = QueryDict(query)


def test_page_renders_every_section_for_alice(people, story):
    page = login(people.alice).get("/dashboard?period=7d")
    assert page.status_code == 200
    html = page.content.decode()
    for title in (
        "Open tickets by severity and status",
        "Opened per day by origin",
        "Resolved per day by severity",
        "Time to acknowledge by severity",
        "Time to resolve, week by week",
        "Verdicts by origin",
        "Noisiest rules",
        "Analyst workload",
    ):
        assert title in html
    assert html.count('role="img"') >= 10
    # The hostile rule name is shown, as text.
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="/dashboard"' in html  # the nav link


def drill_downs_checked(agent, board) -> int:
    """Open every drill-down link of the board as this agent's queue and compare its count with the
    number it stands for (a duration's: the tickets measured); returns how many were compared."""
    checked = 0
    for panel in (*board.now, *board.period):
        if panel.slug == "rules" and panel.chart is not None:
            # A rule's bar counts its alerts; its link opens the tickets they raised.
            for category in panel.chart.categories:
                (value,) = category.values
                tickets = int(re.search(r"([\d,]+) tickets?\)", category.long_label)[1].replace(",", ""))
                assert queue_count(agent, value.href) == tickets, category
                checked += 1
        elif panel.chart is not None and panel.chart.unit == COUNT:
            for category in panel.chart.categories:
                for value in category.values:
                    if value.href and value.value:
                        assert queue_count(agent, value.href) == value.value, (panel.slug, category)
                        checked += 1
        if panel.chart is not None and panel.chart.unit == SECONDS:
            for category in panel.chart.categories:
                counted = int(re.search(r"\(([\d,]+) tickets?\)", category.long_label)[1].replace(",", ""))
                for value in category.values:
                    if value.href:
                        assert queue_count(agent, value.href) == counted, (panel.slug, category)
                        checked += 1
        for row in panel.rows:
            for text, href in row:
                if href and re.fullmatch(r"[\d,]+", text):
                    assert queue_count(agent, href) == int(text.replace(",", "")), (panel.slug, row)
                    checked += 1
    for tile in board.tiles:
        if tile.href:
            assert queue_count(agent, tile.href) == int(tile.value.replace(",", "")), tile
            checked += 1
    return checked


def test_every_drill_down_queue_holds_exactly_the_number_it_stands_for(people, story):
    _picker, board = _dashboard(FakeRequest(people.alice, "period=7d"))
    assert drill_downs_checked(people.alice, board) > 40
    open_tile = next(t for t in board.tiles if t.label == "Open")
    assert open_tile.value == "3"  # e-mail, the second travel alert, the hostile one; not carol's


def test_the_figures_match_the_story(people, story):
    _picker, board = _dashboard(FakeRequest(people.alice, "period=7d"))
    rules = board.panel("rules")
    assert rules is not None
    by_rule = {row[0][0]: row for row in rules.rows}
    assert by_rule["Impossible travel"][2][0] == "3"  # alerts: the second one fired twice
    assert by_rule["Impossible travel"][3][0] == "2"  # tickets
    assert by_rule["Impossible travel"][4][0].startswith("0 % of 1")  # one resolved, as a true positive
    agents = board.panel("agents")
    assert agents is not None
    assert {row[0][0]: (row[1][0], row[2][0]) for row in agents.rows} == {
        "Bob": ("1", "1"),
        "Alice": ("0", "1"),
    }
    sla = board.panel("sla")
    assert sla is not None and sla.chart is not None and sla.chart.unit == PERCENT


def test_the_picker_narrows_to_a_team_and_a_custom_period(people, story):
    _picker, board = _dashboard(FakeRequest(people.alice, "period=custom&from=2026-11-24&to=2026-11-24"))
    opened = board.panel("opened-by-origin")
    assert opened is not None and opened.chart is not None
    assert [c.total for c in opened.chart.categories] == [2]  # the second travel alert and the hostile one
    resolved = board.panel("resolved-by-origin")
    assert resolved is not None and resolved.chart is not None
    assert [c.total for c in resolved.chart.categories] == [1]  # the web ticket
    page = login(people.alice).get("/dashboard?period=custom&from=2026-11-24&to=2026-11-24").content.decode()
    assert "Tue 24 Nov 2026 \N{EN DASH} Tue 24 Nov 2026" in page
    team = login(people.alice).get(f"/dashboard?team={people.tier1.pk}").content.decode()
    assert "No ticket was opened in this period." in team  # none of the story's tickets went to Tier 1


def test_carol_sees_none_of_socs_numbers_and_a_soc_department_is_a_404(people, story):
    client = login(people.carol)
    page = client.get("/dashboard?period=7d")
    assert page.status_code == 200
    _picker, board = _dashboard(FakeRequest(people.carol, "period=7d"))
    assert next(t for t in board.tiles if t.label == "Open").value == "1"  # her own IT ticket
    # The ingest figures count every integration, SOC's among them: not shown to her.
    assert {t.label for t in board.tiles} == {"Open", "Unassigned", "SLA at risk", "SLA breached"}
    _picker, alices = _dashboard(FakeRequest(people.alice, "period=7d"))
    assert {"Ingest backlog", "Alerts / hour"} <= {t.label for t in alices.tiles}
    assert "Impossible travel" not in page.content.decode()
    assert f'<option value="{people.soc.pk}"' not in page.content.decode()
    assert client.get(f"/dashboard?department={people.soc.pk}").status_code == 404
    assert client.get(f"/dashboard?team={people.tier1.pk}").status_code == 404
    assert client.get(f"/dashboard/rules.csv?department={people.soc.pk}").status_code == 404
    assert (
        client.get("/dashboard?department=999999").status_code == 404
    )  # the same as one that does not exist


def test_admin_sees_every_department(people, story):
    _picker, board = _dashboard(FakeRequest(people.admin, "period=7d"))
    assert next(t for t in board.tiles if t.label == "Open").value == "4"


def test_signed_out_is_sent_to_sign_in():
    response = Client().get("/dashboard")
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=forever", "Unknown period 'forever'"),
        ("period=custom&from=2026-11-25&to=2026-11-24", "starts (2026-11-25) after it ends"),
        ("period=custom&from=yesterday&to=2026-11-24", "like 2026-11-27, not 'yesterday'"),
        ("period=custom&from=2026-11-20&to=2099-01-01", "ends in the future"),
        ("period=custom&from=2020-01-01&to=2026-11-24", "at most 366 days"),
        ("department=abc", "department must be the id"),
    ],
)
def test_bad_picker_values_get_a_sentence_and_the_default_period(people, story, query, message):
    page = login(people.alice).get(f"/dashboard?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert message.replace("'", "&#x27;") in html
    assert "Fri 20 Nov 2026 \N{EN DASH} Thu 26 Nov 2026" in html  # the last seven days


def test_csv_of_a_chart_is_its_numbers_and_disarms_formulas(people, story):
    client = login(people.alice)
    response = client.get("/dashboard/rules.csv?period=7d")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="socdesk-rules-2026-11-20-2026-11-26.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "rule",
        "origin",
        "alerts",
        "tickets",
        "resolved",
        "false positives",
        "handling seconds",
    ]
    assert [
        "Impossible travel",
        "generic",
        "3",
        "2",
        "1",
        "0",
        "18000",
    ] in rows  # bob: 5 h from taking to resolving
    assert any(row[0] == "'" + HOSTILE for row in rows)
    opened = list(
        csv.reader(io.StringIO(client.get("/dashboard/opened-by-severity.csv?period=7d").content.decode()))
    )
    assert opened[0] == ["category", "Critical", "High", "Medium", "Low", "Info"]
    assert sum(int(cell or 0) for row in opened[1:] for cell in row[1:]) == 5  # SOC's five tickets
    assert client.get("/dashboard/nothing.csv").status_code == 404


def test_the_page_reads_a_fixed_number_of_queries(people, story, django_assert_max_num_queries):
    client = login(people.alice)
    client.get("/dashboard")  # sessions, caches and content types warmed
    # Sign-in and the top bar take 14; the figures one query per roll-up table and live reading, never
    # one per day, ticket, rule or agent (33 here, the largest number the page reads).
    with django_assert_max_num_queries(33):
        client.get("/dashboard?period=30d")
