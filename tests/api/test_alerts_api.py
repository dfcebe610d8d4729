"""REST v1 alerts, observables search, integrations CRUD and the tickets' observable filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, Integration, Observable, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

from .conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "alerts" / "fixtures"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def queries(api: ApiClient, path: str) -> int:
    """Queries of one request, after a first one took the once-a-minute writes (key last used, counters).

    The fewer of two measurements: a request that happens to open a new rate-limit minute starts its
    counter with one more query, which is not what these tests count.
    """
    api.get(path)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path).status_code == 200
        counts.append(len(captured))
    return min(counts)


def deliver(adapter: str, body: bytes, integration: Integration) -> None:
    delivery_process(delivery_id=delivery_receive(adapter=adapter, body=body, integration=integration).pk)


@pytest.fixture
def alerts(people):
    """Two Wazuh alerts in SOC and an Alertmanager one in IT (carol's department), all with 203.0.113.7."""
    soc = Integration.objects.create(adapter="wazuh", name="wazuh-soc", department=people.soc)
    it = Integration.objects.create(adapter="alertmanager", name="am-it", department=people.it)
    body = raw("wazuh_alert.json")
    deliver("wazuh", body, soc)
    deliver(
        "wazuh", body.replace(b'"id":"001"', b'"id":"002"').replace(b'"name":"web01"', b'"name":"web02"'), soc
    )
    deliver("alertmanager", raw("alertmanager_v4.json"), it)
    soc_alerts = list(Alert.objects.filter(integration=soc).order_by("id"))
    it_alerts = list(Alert.objects.filter(integration=it).order_by("id"))
    assert len(soc_alerts) == 2 and it_alerts
    return soc_alerts, it_alerts


@pytest.fixture
def admin_api(people):
    return ApiClient(make_key(["admin"], name="admin-tool"))


# --- alerts ------------------------------------------------------------------------------------------------


def test_alert_list_get_and_raw(alice_api, alerts):
    soc_alerts, _ = alerts
    r = alice_api.get("alerts")
    assert r.status_code == 200, r.content
    ids = [a["id"] for a in r.json()["items"]]
    assert set(ids) == {a.pk for a in soc_alerts}  # alice is in SOC only
    one = alice_api.get(f"alerts/{soc_alerts[0].pk}").json()
    assert one["source"] == "wazuh" and one["ticket"] == soc_alerts[0].ticket.number
    assert one["integration"] == {"id": soc_alerts[0].integration_id, "name": "wazuh-soc"}
    assert "raw" not in one and "payload" not in one and one["raw_url"].endswith("/raw")
    payload = alice_api.get(one["raw_url"]).json()
    assert payload == json.loads(raw("wazuh_alert.json"))


def test_carol_gets_404_on_alices_alerts(carol_api, alerts):
    soc_alerts, it_alerts = alerts
    target = soc_alerts[0].pk
    for path in (f"alerts/{target}", f"alerts/{target}/raw"):
        r = carol_api.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert {a["id"] for a in carol_api.get("alerts").json()["items"]} == {a.pk for a in it_alerts}


def test_alert_filters_and_cursor(tool, alerts):
    soc_alerts, it_alerts = alerts

    def ids(query):
        r = tool.get(f"alerts?{query}")
        assert r.status_code == 200, r.content
        return {a["id"] for a in r.json()["items"]}

    everything = {a.pk for a in soc_alerts + it_alerts}
    assert ids("") == everything
    assert ids("source=wazuh") == {a.pk for a in soc_alerts}
    assert ids(f"integration={it_alerts[0].integration_id}") == {a.pk for a in it_alerts}
    assert ids(f"ticket={soc_alerts[0].ticket.number.lower()}") == {
        a.pk for a in soc_alerts if a.ticket_id == soc_alerts[0].ticket_id
    }
    assert ids("status=resolved") == set() and ids("status=firing") == everything
    severity = soc_alerts[0].severity
    assert ids(f"severity={severity}") == {a.pk for a in soc_alerts + it_alerts if a.severity == severity}
    fingerprint = it_alerts[0].fingerprint
    assert ids(f"fingerprint={fingerprint}") == {
        a.pk for a in soc_alerts + it_alerts if a.fingerprint == fingerprint
    }
    assert ids("since=2000-01-01T00:00:00Z") == everything and ids("since=2999-01-01T00:00:00") == set()
    # An offset PostgreSQL itself would refuse (found by the schema fuzzer) is converted, not a 500.
    assert ids("since=0223-11-30T03:31:17%2B22:50") == everything

    seen, cursor = [], None
    while True:
        body = tool.get("alerts?limit=1" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [a["id"] for a in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))


def test_alert_list_bad_input_is_400_naming_the_field(tool, alerts):
    for query, field in (
        ("status=burning", "status"),
        ("source=nagios", "source"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("cursor=forged", "cursor"),
        ("since=0001-01-01T00:00:00%2B23:00", "since"),
    ):
        r = tool.get(f"alerts?{query}")
        assert r.status_code == 400, query
        assert field in r.json()["error"]["fields"], (query, r.json())


def test_control_characters_in_query_filters_are_dropped_not_a_server_error(tool, alice_api, alerts):
    # PostgreSQL refuses NUL in a text comparison: found by the schema fuzzer as a 500.
    r = tool.get("alerts?fingerprint=%C3%A3%00%F4%82%A4%B9%1F&severity=low")
    assert r.status_code == 200 and r.json()["items"] == []
    assert tool.get("observables?value=evil%00.example").status_code == 200
    assert alice_api.get("tickets?queue=all&tag=ph%00ish").status_code == 200
    assert alice_api.get("tickets/SOC-1/collaborators?email=a%00@example.com").status_code == 404


def test_alert_list_query_count_is_constant(tool, people, alerts):
    few = queries(tool, "alerts")
    soc = Integration.objects.get(name="wazuh-soc")
    body = raw("wazuh_alert.json")
    for n in range(3, 8):
        deliver("wazuh", body.replace(b'"id":"001"', f'"id":"00{n}"'.encode()), soc)
    assert len(tool.get("alerts").json()["items"]) > 5
    assert queries(tool, "alerts") == few


# --- observables -------------------------------------------------------------------------------------------


def test_observable_search_lists_visible_tickets_only(alice_api, carol_api, tool, alerts):
    soc_alerts, _ = alerts
    numbers = {a.ticket.number for a in soc_alerts}
    r = alice_api.get("observables?value=203.0.113[.]7")
    assert r.status_code == 200, r.content
    (hit,) = r.json()["items"]
    assert hit["type"] == "ip" and hit["value"] == "203.0.113.7"
    assert set(hit["tickets"]) == numbers and hit["ticket_count"] == 2
    # The link leads to the ticket list filtered to it.
    listed = {t["number"] for t in alice_api.get(hit["tickets_url"]).json()["items"]}
    assert listed == numbers
    assert alice_api.get("observables?type=ip&value=203.0.113.7").json()["items"][0]["id"] == hit["id"]
    assert {o["value"] for o in alice_api.get("observables?q=web0").json()["items"]} == {"web01", "web02"}
    # Carol sees the same IP, but only on her own department's ticket.
    it_number = alerts[1][0].ticket.number
    (carols,) = carol_api.get("observables?value=203.0.113.7").json()["items"]
    assert carols["tickets"] == [it_number] and carols["ticket_count"] == 1
    assert [t["number"] for t in carol_api.get(f"tickets?observable={hit['id']}").json()["items"]] == [
        it_number
    ]
    assert alice_api.get("observables?value=10.99.99.99").json()["items"] == []


def test_observable_search_needs_a_criterion_and_valid_type(tool, alerts):
    r = tool.get("observables")
    assert r.status_code == 400 and "value" in r.json()["error"]["fields"]
    assert tool.get("observables?type=planet").status_code == 400


def test_ticket_list_observable_filter_by_id_and_by_type_value(tool, alerts, soc_ticket):
    numbers = {a.ticket.number for a in alerts[0] + alerts[1]}
    ip = Observable.objects.get(type="ip", value="203.0.113.7")

    def listed(query):
        r = tool.get(f"tickets?{query}")
        assert r.status_code == 200, r.content
        return {t["number"] for t in r.json()["items"]}

    assert listed(f"observable={ip.pk}") == numbers
    assert listed("observable=ip:203.0.113.7") == numbers
    assert listed("observable=ip:198.51.100.99") == set()
    for bad in ("planet:mars", "ip:not-an-ip", "²", "99999999999999999999999"):
        r = tool.get(f"tickets?observable={bad}")
        assert r.status_code == 400 and "observable" in r.json()["error"]["fields"], bad


def test_ticket_detail_has_observables_and_alert_count(alice_api, alerts):
    soc_alerts, _ = alerts
    body = alice_api.get(f"tickets/{soc_alerts[0].ticket.number}").json()
    assert body["alert_count"] == 1
    values = {(o["type"], o["value"]) for o in body["observables"]}
    assert ("ip", "203.0.113.7") in values


def test_ticket_list_query_count_stays_constant_with_alerts(tool, alerts, people):
    few = queries(tool, "tickets")
    soc = Integration.objects.get(name="wazuh-soc")
    body = raw("wazuh_alert.json")
    for n in range(3, 8):
        deliver("wazuh", body.replace(b'"id":"001"', f'"id":"00{n}"'.encode()), soc)
    assert len(tool.get("tickets").json()["items"]) >= 5
    assert queries(tool, "tickets") == few


# --- integrations ------------------------------------------------------------------------------------------


def test_integrations_need_the_admin_scope(tool, alice_api, people):
    Integration.objects.create(adapter="generic", name="g")
    assert tool.get("integrations").status_code == 403
    assert alice_api.post("integrations", {"adapter": "generic", "name": "x"}).status_code == 403
    assert not Integration.objects.filter(name="x").exists()


def test_integration_create_shows_the_token_once_and_rotation_replaces_it(admin_api, people, client):
    r = admin_api.post(
        "integrations",
        {
            "adapter": "generic",
            "name": "custom tool",
            "department": "soc",
            "severity_map": {"P1": "critical"},
            "field_map": {"title": "alert.name", "fingerprint": "alert.id"},
            "default_tags": ["custom"],
        },
    )
    assert r.status_code == 201, r.content
    created = r.json()
    token = created["token"]
    assert created["token_url"] == f"/api/v1/hooks/generic/{token}"
    assert created["department"]["slug"] == "soc" and created["hmac_secret_set"] is False
    integration = Integration.objects.get(pk=created["id"])
    assert AuditEvent.objects.filter(action="integration.created", target_id=str(integration.pk)).exists()
    assert "token" not in admin_api.get(f"integrations/{integration.pk}").json()
    assert all("token" not in i for i in admin_api.get("integrations").json()["items"])

    sample = json.dumps({"alert": {"name": "Disk full", "id": "d-1"}})
    assert client.post(created["token_url"], sample, content_type="application/json").status_code == 202
    rotated = admin_api.post(f"integrations/{integration.pk}/rotate-token").json()
    assert rotated["token"] != token
    assert client.post(created["token_url"], sample, content_type="application/json").status_code == 401
    assert client.post(rotated["token_url"], sample, content_type="application/json").status_code == 202
    event = AuditEvent.objects.get(action="integration.token_rotated")
    assert token not in json.dumps(event.after or {}) and rotated["token"] not in json.dumps(
        event.after or {}
    )


def test_integration_bad_input_is_400_and_writes_nothing(admin_api, people):
    Integration.objects.create(adapter="generic", name="taken")
    before = (Integration.objects.count(), AuditEvent.objects.count())
    for body, field in (
        ({"adapter": "generic", "name": "a", "field_map": {"title": "alert.[bad"}}, "field_map"),
        ({"adapter": "generic", "name": "a", "field_map": {"colour": "x"}}, "field_map"),
        ({"adapter": "generic", "name": "a", "severity_map": {"P1": "apocalyptic"}}, "severity_map.P1"),
        ({"adapter": "generic", "name": "a", "grouping_key": "labels.["}, "grouping_key"),
        ({"adapter": "nagios", "name": "a"}, "adapter"),
        ({"adapter": "generic", "name": "taken"}, "name"),
        ({"adapter": "generic", "name": "a", "department": "nowhere"}, "department"),
        ({"adapter": "generic", "name": "a", "department": "soc", "team": 999999}, "team"),
        ({"adapter": "generic", "name": "a", "token": "mine"}, "token"),
        ({"adapter": "alertmanager", "name": "a", "group_by": "labels"}, "group_by"),
    ):
        r = admin_api.post("integrations", body)
        assert r.status_code == 400, (body, r.content)
        assert field in r.json()["error"]["fields"], (body, r.json())
    assert (Integration.objects.count(), AuditEvent.objects.count()) == before


def test_alertmanager_group_by_is_set_shown_and_audited(admin_api, people):
    r = admin_api.post("integrations", {"adapter": "alertmanager", "name": "am", "department": "soc"})
    assert r.status_code == 201 and r.json()["group_by"] == "group"  # the default
    pk = r.json()["id"]
    r = admin_api.patch(f"integrations/{pk}", {"group_by": "fingerprint"})
    assert r.status_code == 200 and r.json()["group_by"] == "fingerprint"
    assert Integration.objects.get(pk=pk).group_by == "fingerprint"
    event = AuditEvent.objects.get(action="integration.updated")
    assert (event.before, event.after) == ({"group_by": "group"}, {"group_by": "fingerprint"})


def test_integration_team_must_be_in_its_department(admin_api, people):
    r = admin_api.post(
        "integrations", {"adapter": "wazuh", "name": "w", "department": people.it.pk, "team": "Tier 1"}
    )
    assert r.status_code == 400 and "team" in r.json()["error"]["fields"]


def test_integration_update_is_all_or_nothing(admin_api, people):
    integration = Integration.objects.create(adapter="wazuh", name="w", department=people.soc)
    r = admin_api.patch(f"integrations/{integration.pk}", {"name": "w2", "severity_map": {"12": "nope"}})
    assert r.status_code == 400
    integration.refresh_from_db()
    assert integration.name == "w"
    r = admin_api.patch(
        f"integrations/{integration.pk}", {"name": "w2", "team": people.tier1.pk, "auto_resolve": True}
    )
    assert r.status_code == 200, r.content
    assert r.json()["team"]["name"] == "Tier 1" and r.json()["auto_resolve"] is True
    event = AuditEvent.objects.get(action="integration.updated")
    assert event.before["name"] == "w" and event.after["name"] == "w2"
    assert admin_api.patch(f"integrations/{integration.pk}", {"enabled": None}).status_code == 400
    assert admin_api.patch("integrations/999999", {"name": "z"}).status_code == 404


def test_integration_delete_removes_unused_and_disables_used(admin_api, alerts):
    unused = Integration.objects.create(adapter="splunk", name="unused")
    assert admin_api.delete(f"integrations/{unused.pk}").status_code == 204
    assert not Integration.objects.filter(pk=unused.pk).exists()
    assert AuditEvent.objects.filter(action="integration.deleted", target_id=str(unused.pk)).exists()
    used = Integration.objects.get(name="wazuh-soc")
    r = admin_api.delete(f"integrations/{used.pk}")
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert Alert.objects.filter(integration=used).exists()


def test_integration_preview_returns_alerts_and_stores_nothing(admin_api, people):
    integration = Integration.objects.create(
        adapter="generic",
        name="g",
        field_map={"title": "alert.name", "fingerprint": "alert.id", "severity": "alert.level"},
        severity_map={"P1": "critical"},
    )
    before = (
        WebhookDelivery.objects.count(),
        Alert.objects.count(),
        Ticket.objects.count(),
        Observable.objects.count(),
    )
    body = {"alert": {"name": "Beacon to 198.51.100.7", "id": "b-1", "level": "P1"}}
    r = admin_api.post(f"integrations/{integration.pk}/preview", body)
    assert r.status_code == 200, r.content
    (alert,) = r.json()["alerts"]
    assert alert["title"] == "Beacon to 198.51.100.7" and alert["severity"] == "critical"
    assert ["ip", "198.51.100.7"] in alert["observables"]
    bad = admin_api.post(f"integrations/{integration.pk}/preview", raw=b"{nope")
    assert bad.status_code == 400 and bad.json()["error"]["message"]
    after = (
        WebhookDelivery.objects.count(),
        Alert.objects.count(),
        Ticket.objects.count(),
        Observable.objects.count(),
    )
    assert after == before
