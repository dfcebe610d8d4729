"""/api/v1/metrics/now and /api/v1/metrics/period: the dashboard's figures as JSON, scoped like tickets."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from socdesk.accounts.services import apikey_create
from socdesk.alerts.integrations import integration_create
from tests.api.conftest import SETUP, ApiClient, make_key
from tests.reports.builders import worked_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked(people):
    return worked_tickets(people)


def _count(rows, **match) -> int:
    return sum(row["count"] for row in rows if all(row[k] == v for k, v in match.items()))


def test_an_agent_sees_the_figures_of_their_departments(people, worked, alice_api):
    r = alice_api.get("metrics/period?period=7d")
    assert r.status_code == 200, r.content
    body = r.json()
    today = timezone.localdate().isoformat()
    assert body["period"]["end"] == today
    assert body["scope"] == {"department_ids": [people.soc.pk], "team_id": None}
    assert _count(body["opened"]) == 3  # SOC's, not IT's two
    assert _count(body["opened"], severity="high", day=today) == 2
    assert _count(body["resolved"]) == 1
    assert body["verdicts"] == [{"origin": "web", "resolution": "false_positive", "count": 1}]
    (high,) = [d for d in body["time_to_acknowledge"]["by_severity"] if d["key"] == "high"]
    assert high["count"] == 1 and high["median_seconds"] is not None
    assert body["departments"] == [{"id": people.soc.pk, "name": "SOC"}]
    (alice,) = body["agents"]
    assert alice["agent_id"] == people.alice.pk and alice["resolved"] == 1


def test_now_counts_the_open_tickets(people, worked, alice_api):
    body = alice_api.get("metrics/now").json()
    assert _count(body["open_by_severity_status"]) == 2  # three opened, one resolved
    assert body["unassigned"] == 2
    assert {row["severity"] for row in body["oldest_open"]} == {"high", "low"}
    assert body["ingest"]["backlog"] == 0 and body["ingest"]["alerts_per_second"] == 0
    assert body["scope"]["department_ids"] == [people.soc.pk]


def test_ingest_figures_only_for_callers_who_see_every_integrations_department(
    people, worked, alice_api, carol_api, tool
):
    integration_create(actor=SETUP, adapter="generic", name="SOC SIEM", department=people.soc)
    assert carol_api.get("metrics/now").json()["ingest"] is None  # it counts SOC's alerts too
    assert alice_api.get("metrics/now").json()["ingest"] is not None
    assert tool.get("metrics/now").json()["ingest"] is not None  # a key tied to no department sees all
    _key, raw = apikey_create(actor=SETUP, name="it-tool", scopes=["tickets:read"], department=people.it)
    assert ApiClient(raw).get("metrics/now").json()["ingest"] is None
    _key, raw = apikey_create(actor=SETUP, name="soc-tool", scopes=["tickets:read"], department=people.soc)
    assert ApiClient(raw).get("metrics/now").json()["ingest"] is not None


def test_narrowed_to_a_team(people, worked, alice_api):
    body = alice_api.get(f"metrics/period?team={people.tier1.pk}").json()
    assert body["scope"] == {"department_ids": [people.soc.pk], "team_id": people.tier1.pk}


def test_another_departments_figures_are_a_404(people, worked, carol_api):
    for path in (f"metrics/period?department={people.soc.pk}", f"metrics/now?team={people.tier1.pk}"):
        r = carol_api.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
    # Her own department answers.
    assert carol_api.get(f"metrics/now?department={people.it.pk}").status_code == 200


def test_keys_see_their_department_or_all(people, worked, tool):
    everything = tool.get("metrics/period?period=24h").json()  # a key tied to no department
    assert sorted(everything["scope"]["department_ids"]) == sorted([people.soc.pk, people.it.pk])
    assert _count(everything["opened"]) == 5

    _key, raw = apikey_create(actor=SETUP, name="it-tool", scopes=["tickets:read"], department=people.it)
    it_tool = ApiClient(raw)
    assert _count(it_tool.get("metrics/period").json()["opened"]) == 2
    r = it_tool.get(f"metrics/period?department={people.soc.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_needs_tickets_read(people, worked, anon):
    assert anon.get("metrics/now").status_code == 401
    ingest_only = ApiClient(make_key(["alerts:ingest"], name="siem"))
    r = ingest_only.get("metrics/period")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_a_console_session_reads_them(people, worked):
    client = Client()
    client.force_login(people.bob.user)
    r = client.get("/api/v1/metrics/period?period=30d")
    assert r.status_code == 200
    assert _count(r.json()["opened"]) == 3


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("period=90d", "period", "'24h', '7d', '30d' or 'custom'"),
        ("from=2026-11-01", "period", "needs both from and to"),
        ("period=custom", "period", "needs both from and to"),
        ("from=2026-11-01&to=2099-01-01", "period", "ends in the future"),
        ("from=2026-11-10&to=2026-11-01", "period", "before it starts"),
        ("from=2026-11-01&to=2026-11-02&period=7d", "period", "not both"),
        ("from=2020-01-01&to=2026-11-02", "period", "longer than 366 days"),
        ("from=yesterday&to=2026-11-02", "from", "date"),
        ("department=0", "department", "greater than or equal to 1"),
    ],
)
def test_bad_pickers_are_400_naming_the_field(people, alice_api, query, field, says):
    r = alice_api.get(f"metrics/period?{query}")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert says in error["message"]


def test_openapi_documents_the_metrics():
    schema = Client().get("/api/v1/openapi.json").json()
    now, period = (
        schema["paths"]["/api/v1/metrics/now"]["get"],
        schema["paths"]["/api/v1/metrics/period"]["get"],
    )
    assert "open tickets by severity and status" in now["description"]
    assert {p["name"] for p in period["parameters"]} == {"department", "team", "period", "from", "to"}
    assert set(period["responses"]) >= {"200", "400", "401", "403", "404"}
    out = schema["components"]["schemas"]["PeriodOut"]
    assert {"opened", "time_to_acknowledge", "sla", "rules", "observables", "agents"} <= set(
        out["properties"]
    )
    assert schema["components"]["schemas"]["RuleOut"]["properties"]["handling_seconds"]["description"]
