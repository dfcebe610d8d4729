"""Who may call what: keys and scopes, personal tokens acting as their agent, console sessions, CSRF."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from socdesk.accounts.services import access_grant, agent_create, role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.selectors import tickets_visible_to_key
from socdesk.tickets.services import ticket_create, ticket_note
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


def _written():
    return (Ticket.objects.count(), ThreadEntry.objects.count(), AuditEvent.objects.count())


def test_no_credential_is_401_in_the_house_shape(anon, soc_ticket):
    for r in (anon.get("tickets"), anon.get(f"tickets/{soc_ticket.number}"), anon.post("tickets", {})):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized" and "X-API-Key" in r.json()["error"]["message"]
        assert r["WWW-Authenticate"] == "Bearer"


def test_wrong_key_is_401_and_x_api_key_header_works(soc_ticket, service_key):
    assert ApiClient("sdk_nope_nope").get("tickets").status_code == 401
    r = Client().get("/api/v1/tickets", headers={"X-API-Key": "sdk_abc_def"})
    assert r.status_code == 401 and "Valid API key required" in r.json()["error"]["message"]
    assert Client().get("/api/v1/tickets", headers={"X-API-Key": service_key}).status_code == 200


def test_scopes_gate_each_operation(soc_ticket, people):
    reader = ApiClient(make_key(["tickets:read"]))
    before = _written()
    assert reader.get("tickets").status_code == 200
    assert reader.get(f"tickets/{soc_ticket.number}/thread").status_code == 200
    for r, scope in [
        (reader.post("tickets", {"subject": "x", "department": "soc"}), "tickets:create"),
        (reader.patch(f"tickets/{soc_ticket.number}", {"version": 1, "severity": "low"}), "tickets:write"),
        (reader.post(f"tickets/{soc_ticket.number}/thread", {"kind": "note", "body": "x"}), "tickets:write"),
    ]:
        assert r.status_code == 403 and scope in r.json()["error"]["message"]
    assert _written() == before
    creator = ApiClient(make_key(["tickets:create"]))
    assert creator.get("tickets").status_code == 403
    assert creator.post("tickets", {"subject": "x", "department": "soc"}).status_code == 201


def test_admin_scope_allows_everything(soc_ticket):
    admin = ApiClient(make_key(["admin"]))
    assert admin.get("tickets").status_code == 200
    assert admin.patch(f"tickets/{soc_ticket.number}", {"version": 1, "severity": "low"}).status_code == 200
    assert admin.post("tickets", {"subject": "x", "department": "soc"}).status_code == 201


def test_carol_personal_token_gets_404_on_alices_ticket(carol_api, soc_ticket):
    ticket_note(actor=Actor.system("t"), ticket=soc_ticket, body="secret", attachments=[])
    before = _written()
    n = soc_ticket.number
    for r in (
        carol_api.get(f"tickets/{n}"),
        carol_api.patch(f"tickets/{n}", {"version": soc_ticket.version, "severity": "low"}),
        carol_api.get(f"tickets/{n}/thread"),
        carol_api.post(f"tickets/{n}/thread", {"kind": "note", "body": "hello"}),
    ):
        assert r.status_code == 404, r.content
        assert r.json()["error"] == {
            "code": "not_found",
            "message": f"Ticket {n} was not found.",
            "fields": {},
        }
    assert carol_api.get("tickets").json()["items"] == []
    assert _written() == before


def test_attachment_download_is_scoped_too(alice_api, carol_api, soc_ticket):
    entry = alice_api.post(
        f"tickets/{soc_ticket.number}/thread",
        {"kind": "note", "body": "log", "attachments": [{"name": "l.txt", "content_base64": "bG9n"}]},
    ).json()
    url = entry["attachments"][0]["download_url"]
    assert alice_api.get(url).status_code == 200
    assert carol_api.get(url).status_code == 404


def test_personal_token_never_exceeds_its_agents_permissions(people, soc_ticket):
    viewer_role = role_create(actor=Actor.system("t"), name="Viewer", permissions=["view"])
    dave = agent_create(actor=Actor.system("t"), username="dave", email="d@example.test", password=None)
    access_grant(actor=Actor.system("t"), agent=dave, department=people.soc, role=viewer_role)
    dave_api = ApiClient(make_key(["tickets:read", "tickets:write"], agent=dave))
    assert dave_api.get(f"tickets/{soc_ticket.number}").status_code == 200
    before = _written()
    r = dave_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "severity": "low"})
    assert r.status_code == 403 and "edit tickets permission in SOC" in r.json()["error"]["message"]
    assert _written() == before


def test_deactivated_agents_token_stops_working(people, alice_api):
    assert alice_api.get("tickets").status_code == 200
    get_user_model().objects.filter(pk=people.alice.user_id).update(is_active=False)
    assert alice_api.get("tickets").status_code == 401


def test_key_without_agent_sees_all_or_its_department(people, soc_ticket):
    other = ticket_create(actor=Actor.system("t"), subject="printer", department=people.it)
    assert set(tickets_visible_to_key(SimpleNamespace())) == {soc_ticket, other}
    assert set(tickets_visible_to_key(SimpleNamespace(department_id=people.it.pk))) == {other}


# --- console session ------------------------------------------------------------------------------


@pytest.fixture
def alice_session(people, password):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="alice", password=password)
    return client


def test_session_reads_without_csrf(alice_session, soc_ticket):
    r = alice_session.get(f"/api/v1/tickets/{soc_ticket.number}")
    assert r.status_code == 200


def test_session_writes_need_the_csrf_token(alice_session, soc_ticket):
    before = _written()
    payload = {"subject": "from the console", "department": "soc"}
    r = alice_session.post("/api/v1/tickets", payload, content_type="application/json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert _written() == before
    token = "a" * 32
    alice_session.cookies["csrftoken"] = token
    r = alice_session.post(
        "/api/v1/tickets", payload, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert r.status_code == 201
    assert (
        AuditEvent.objects.get(
            action="ticket.created", target_id=str(Ticket.objects.get(number=r.json()["number"]).pk)
        ).actor_label
        == "alice"
    )


def test_session_of_a_user_who_is_not_an_agent_is_401(db):
    get_user_model().objects.create_user(username="eve", password="x-very-long-pass")
    client = Client()
    client.login(username="eve", password="x-very-long-pass")
    assert client.get("/api/v1/tickets").status_code == 401


# --- rate limit hook ------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(settings, tool, soc_ticket):
    settings.SOCDESK_API_RATE_LIMIT = 2
    assert tool.get("tickets").status_code == 200
    assert tool.get(f"tickets/{soc_ticket.number}").status_code == 200
    r = tool.get("tickets")
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 60
    assert (
        r.json()["error"]["code"] == "rate_limited"
        and "2 requests per minute" in r.json()["error"]["message"]
    )


def test_console_sessions_are_not_rate_limited(settings, people, soc_ticket):
    settings.SOCDESK_API_RATE_LIMIT = 1
    client = Client()
    client.force_login(people.alice.user)
    assert [client.get("/api/v1/tickets").status_code for _ in range(3)] == [200, 200, 200]
