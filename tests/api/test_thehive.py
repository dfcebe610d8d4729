"""The TheHive-compatible alert API: the official thehive4py client against a live server, ElastAlert2's
legacy body, de-duplication, errors (nothing half-written) and a hypothesis fuzz (never a 5xx)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.alerts.models import Alert, AlertRaw, Observable, TicketObservable, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

from .conftest import make_key

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "alerts" / "fixtures"


def sample(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def hive_key(people):
    return make_key(["alerts:ingest"], name="thehive-client")


def post(path: str, body, key: str | None = None, header: str = "bearer", **extra):
    headers = {}
    if key and header == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    elif key:
        headers["X-API-Key"] = key
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return Client().post(path, data=data, content_type="application/json", headers=headers, **extra)


def written() -> tuple[int, ...]:
    return (
        WebhookDelivery.objects.count(),
        Alert.objects.count(),
        Ticket.objects.count(),
        Observable.objects.count(),
        AuditEvent.objects.count(),
    )


# --- the official client ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_thehive4py_creates_an_alert_with_observables(live_server, people):
    from thehive4py import TheHiveApi

    key = make_key(["alerts:ingest"], name="thehive-client")
    hive = TheHiveApi(url=live_server.url, apikey=key, max_retries=0)
    created = hive.alert.create(
        alert={
            "type": "edr",
            "source": "crowdstrike",
            "sourceRef": "cs-4711",
            "title": "Mimikatz on WS-042",
            "description": "LSASS read by an unsigned binary",
            "severity": 3,
            "tlp": 2,
            "pap": 1,
            "date": 1764201600000,
            "tags": ["T1003", "credential-access"],
            "externalLink": "https://falcon.example/detections/4711",
            "customFields": {"hostname": "WS-042"},
            "observables": [
                {"dataType": "ip", "data": "198.51.100.23", "ioc": True, "tags": ["c2"]},
                {"dataType": "hash", "data": "d41d8cd98f00b204e9800998ecf8427e", "sighted": True},
                {"dataType": "domain", "data": ["evil.example", "worse.example"], "message": "DNS"},
            ],
        }
    )
    # What thehive4py's OutputAlert promises.
    assert created["_type"] == "Alert" and created["_createdBy"] == "thehive-client"
    assert created["title"] == "Mimikatz on WS-042" and created["sourceRef"] == "cs-4711"
    assert created["severity"] == 3 and created["severityLabel"] == "HIGH"
    assert created["tlp"] == 2 and created["tlpLabel"] == "AMBER" and created["papLabel"] == "GREEN"
    assert created["observableCount"] == 4 and created["status"] == "Imported"
    assert created["date"] == 1764201600000 and isinstance(created["_createdAt"], int)

    alert = Alert.objects.select_related("ticket").get(pk=int(created["_id"]))
    ticket = alert.ticket
    assert created["caseId"] == created["ticket"] == ticket.number
    assert alert.source == "thehive" and alert.external_id == "cs-4711" and alert.severity == "high"
    assert ticket.subject == "Mimikatz on WS-042" and ticket.severity == "high"
    assert ticket.extra["thehive"]["customFields"] == {"hostname": "WS-042"}
    assert {"t1003", "credential-access"} <= {t.name for t in ticket.tags.all()}
    links = {
        (link.observable.type, link.observable.value): link
        for link in TicketObservable.objects.filter(ticket=ticket).select_related("observable")
    }
    assert links[("ip", "198.51.100.23")].ioc
    assert links[("md5", "d41d8cd98f00b204e9800998ecf8427e")].sighted
    assert ("domain", "evil.example") in links and ("domain", "worse.example") in links
    assert AlertRaw.objects.get(alert=alert).payload["sourceRef"] == "cs-4711"
    event = AuditEvent.objects.get(action="alert.ingested", target_id=str(alert.pk))
    assert event.actor_type == "apikey" and event.actor_label == "key:thehive-client"
    assert event.after["ticket"] == ticket.number

    # TheHive would refuse the same type/source/sourceRef; SOCdesk counts it on the open ticket.
    again = hive.alert.create(
        alert={
            "type": "edr",
            "source": "crowdstrike",
            "sourceRef": "cs-4711",
            "title": "Mimikatz on WS-042",
            "description": "again",
        }
    )
    assert again["_id"] == created["_id"] and again["occurrenceCount"] == 2 and again["deduplicated"]
    assert Ticket.objects.count() == 1
    assert AuditEvent.objects.filter(action="alert.deduplicated", target_id=str(alert.pk)).exists()


def test_the_client_reads_our_errors(live_server, people, transactional_db):
    from thehive4py import TheHiveApi
    from thehive4py.errors import TheHiveError

    hive = TheHiveApi(url=live_server.url, apikey="sd_wrong_key", max_retries=0)
    with pytest.raises(TheHiveError) as caught:
        hive.alert.create(
            alert={"type": "x", "source": "y", "sourceRef": "z", "title": "t", "description": ""}
        )
    assert "Valid API key required" in str(caught.value)


# --- legacy /api/alert (ElastAlert2's hivealerter) ---------------------------------------------------------


def test_elastalert_hivealerter_body_on_the_legacy_path(hive_key):
    body = sample("thehive_v0_elastalert.json")
    response = post("/api/alert", body, hive_key)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["_type"] == "alert" and out["id"] == out["_id"] and isinstance(out["createdAt"], int)
    assert out["artifacts"][0]["data"] == "203.0.113.7" and out["customFields"] == body["customFields"]
    alert = Alert.objects.select_related("ticket").get(pk=int(out["_id"]))
    assert out["case"] == alert.ticket.number and alert.title == "SSH brute force"
    assert alert.ticket.extra["thehive"]["customFields"] == {"rule": "ssh-bf"}
    assert TicketObservable.objects.filter(ticket=alert.ticket, observable__value="203.0.113.7").exists()
    assert AuditEvent.objects.filter(action="alert.ingested", target_id=str(alert.pk)).exists()


def test_elastalert_missing_match_fields_do_not_lose_the_alert(hive_key):
    """hivealerter sends "" for a mapped field the match lacks, and tags looked up from event fields
    may be numbers: TheHive-strict refusal would lose the alert, so empties are dropped."""
    body = sample("thehive_v0_elastalert.json")
    body["artifacts"].append({"dataType": "fqdn", "data": "", "tlp": 2, "tags": [], "message": None})
    body["tags"] = ["ssh", 4625]
    response = post("/api/alert", body, hive_key)
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["case"])
    assert {"ssh", "4625"} <= {t.name for t in ticket.tags.all()}
    assert list(
        TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", flat=True)
    ) == ["203.0.113.7"]


def test_thehive4py_multipart_form_with_file_observables_is_read(hive_key):
    """alert.create(..., attachment_map=...) sends the alert as the `_json` part of a multipart form."""
    body = sample("thehive_v1_alert.json")
    response = Client().post(
        "/api/v1/alert",
        {"_json": json.dumps(body), "file-1": SimpleUploadedFile("evil.exe", b"MZ")},
        headers={"Authorization": f"Bearer {hive_key}"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["sourceRef"] == body["sourceRef"]
    assert bytes(WebhookDelivery.objects.get().body) == json.dumps(body).encode()


def test_x_api_key_header_works_too_and_a_new_source_ref_is_a_new_alert(hive_key):
    body = sample("thehive_v1_alert.json")
    first = post("/api/v1/alert", body, hive_key, header="x-api-key")
    assert first.status_code == 201, first.content
    second = post("/api/v1/alert", {**body, "sourceRef": "another"}, hive_key, header="x-api-key")
    assert second.status_code == 201 and second.json()["_id"] != first.json()["_id"]
    assert Ticket.objects.count() == 2


def test_repeat_after_the_ticket_is_closed_is_a_new_alert_on_a_new_ticket(hive_key, people):
    from socdesk.core.actor import Actor
    from socdesk.tickets.services import ticket_change_status

    body = sample("thehive_v1_alert.json")
    first = post("/api/v1/alert", body, hive_key).json()
    ticket = Ticket.objects.get(number=first["caseId"])
    actor = Actor.for_agent(people.admin)
    ticket = ticket_change_status(actor=actor, ticket=ticket, status="in_progress")
    ticket_change_status(actor=actor, ticket=ticket, status="resolved", resolution="true_positive")
    again = post("/api/v1/alert", body, hive_key).json()
    assert again["_id"] != first["_id"] and again["caseId"] != first["caseId"]
    assert Ticket.objects.get(number=again["caseId"]).extra["previous_ticket"] == ticket.number


# --- errors: clear, in the house shape, nothing written --------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/alert", "/api/alert"])
def test_missing_and_bad_fields_are_named_and_nothing_is_written(hive_key, path):
    before = written()
    r = post(path, {"title": "no source"}, hive_key)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid" and {"type", "source", "sourceRef"} <= set(error["fields"])
    assert "type is required" in error["message"]

    body = sample("thehive_v1_alert.json") | {"severity": 7, "tlp": "red", "pap": 9, "date": "yesterday"}
    body["observables"] = [{"dataType": "ip", "data": "1.2.3.4"}, {"data": "x"}, {"dataType": "ip"}, 5]
    fields = post(path, body, hive_key).json()["error"]["fields"]
    assert fields["severity"] == "must be a whole number from 1 to 4"
    assert {"tlp", "pap", "date", "observables[1].dataType", "observables[3]"} <= set(fields)
    assert "observables[2].data" not in fields  # an empty observable is dropped, not refused (below)
    assert written() == before


def test_malformed_json_names_the_position(hive_key):
    before = written()
    r = post("/api/v1/alert", b'{"type": "x",\n "title": }', hive_key)
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    assert "line 2" in r.json()["error"]["message"]
    assert written() == before


def test_auth_errors(people, hive_key):
    body = sample("thehive_v1_alert.json")
    reader = make_key(["tickets:read"], name="reader")
    before = written()
    assert post("/api/v1/alert", body).status_code == 401
    r = post("/api/alert", body, "sd_nope")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = post("/api/v1/alert", body, reader)
    assert r.status_code == 403 and "alerts:ingest" in r.json()["error"]["message"]
    assert written() == before


def test_too_big_is_413_and_rate_limit_is_429(hive_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = sample("thehive_v1_alert.json") | {"description": "x" * 2000}
    before = written()
    r = post("/api/v1/alert", body, hive_key)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert written() == before
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    settings.SOCDESK_API_RATE_LIMIT = 1
    fresh = make_key(["alerts:ingest"], name="limited")
    assert post("/api/alert", sample("thehive_v0_elastalert.json"), fresh).status_code == 201
    r = post("/api/v1/alert", sample("thehive_v1_alert.json"), fresh)
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1


def test_route_is_not_swallowed_by_the_catch_all_and_wrong_method_is_405(hive_key):
    r = Client().get("/api/v1/alert", headers={"Authorization": f"Bearer {hive_key}"})
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in r["Allow"]


def test_unknown_integration_name_is_404(hive_key):
    r = post("/api/v1/alert?integration=nope", sample("thehive_v1_alert.json"), hive_key)
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]


def test_named_thehive_integration_routes_the_ticket(hive_key, people):
    from socdesk.alerts.models import Integration

    Integration.objects.create(adapter="thehive", name="hive-it", department=people.it)
    r = post("/api/v1/alert?integration=hive-it", sample("thehive_v1_alert.json"), hive_key)
    assert r.status_code == 201
    assert Ticket.objects.get(number=r.json()["caseId"]).department == people.it


# --- fuzz ------------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["ip", "hash", "fqdn", "1.2.3.4", "hxxp://a[.]b/c", "\x00", "\ud800"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
observable = st.fixed_dictionaries(
    {},
    optional={
        "dataType": st.sampled_from(["ip", "domain", "hash", "url", "mail", "other", ""]) | scalars,
        "data": values,
        "ioc": scalars,
        "sighted": scalars,
        "tags": values,
        "message": scalars,
    },
)
alert_bodies = st.fixed_dictionaries(
    {
        "type": st.text(min_size=1, max_size=10),
        "source": st.text(min_size=1, max_size=10),
        "sourceRef": st.text(min_size=1, max_size=10),
        "title": st.text(min_size=1, max_size=30),
    },
    optional={
        "description": values,
        "severity": values,
        "tlp": values,
        "pap": values,
        "date": values,
        "tags": values,
        "customFields": values,
        "observables": st.lists(observable, max_size=3) | values,
        "artifacts": st.lists(observable, max_size=3) | values,
        "externalLink": values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=alert_bodies | values, legacy=st.booleans())
def test_fuzz_never_5xx(hive_key, body, legacy):
    path = "/api/alert" if legacy else "/api/v1/alert"
    data = json.dumps(body)
    response = post(path, data, hive_key)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"]["message"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=60))
def test_fuzz_raw_bytes_never_5xx(hive_key, raw):
    response = post("/api/v1/alert", raw, hive_key)
    assert response.status_code in (201, 400), response.content
