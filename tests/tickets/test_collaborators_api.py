"""The REST API's collaborators: in the ticket detail, listed, added and removed by address."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Contact
from socdesk.accounts.services import access_grant, agent_create, role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.models import Collaborator
from socdesk.tickets.selectors import collaborator_addresses
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(people):
    return ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.alice, name="a"))


@pytest.fixture
def carol_api(people):
    return ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.carol, name="c"))


def written():
    return Collaborator.objects.count(), Contact.objects.count(), AuditEvent.objects.count()


def test_add_list_detail_and_remove(people, soc_ticket, alice_api):
    url = f"tickets/{soc_ticket.number}/collaborators"
    assert alice_api.get(url).json() == {"items": []}
    r = alice_api.post(url, {"email": "Eve@Example.test", "name": "Eve"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["email"], body["name"], body["source"], body["added_by"]) == (
        "eve@example.test",
        "Eve",
        "manual",
        "key:a",
    )
    assert body["added_at"]
    assert [c["email"] for c in alice_api.get(url).json()["items"]] == ["eve@example.test"]
    detail = alice_api.get(f"tickets/{soc_ticket.number}").json()
    assert [c["email"] for c in detail["collaborators"]] == ["eve@example.test"]
    event = AuditEvent.objects.get(action="ticket.collaborator_added")
    assert event.actor_label == "key:a"
    r = alice_api.delete(f"{url}?email=EVE@example.test")
    assert r.status_code == 204 and collaborator_addresses(soc_ticket) == []
    assert alice_api.get(f"tickets/{soc_ticket.number}").json()["collaborators"] == []


def test_a_tools_key_without_an_agent_may_add(people, soc_ticket):
    tool = ApiClient(make_key(["tickets:read", "tickets:write"], name="soar"))
    r = tool.post(f"tickets/{soc_ticket.number}/collaborators", {"email": "eve@example.test"})
    assert r.status_code == 201 and r.json()["added_by"] == "key:soar"


@pytest.mark.parametrize(
    ("email", "code", "words"),
    [
        ("nope", "invalid", "'nope' is not an e-mail address"),
        ("dana@example.test", "requester", "is the ticket's requester"),
        ("bob@example.test", "agent", "is an agent's address"),
    ],
)
def test_refusals_are_400_with_the_sentence_and_write_nothing(
    people, soc_ticket, alice_api, email, code, words
):
    before = written()
    r = alice_api.post(f"tickets/{soc_ticket.number}/collaborators", {"email": email})
    assert r.status_code == 400
    error = r.json()["error"]
    assert words in error["message"] and error["fields"] == {"email": code}
    assert written() == before


def test_a_duplicate_is_400(people, soc_ticket, alice_api):
    url = f"tickets/{soc_ticket.number}/collaborators"
    alice_api.post(url, {"email": "eve@example.test"})
    before = written()
    r = alice_api.post(url, {"email": "eve@example.test"})
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"email": "duplicate"}
    assert written() == before


def test_unknown_fields_and_a_missing_address_are_400(people, soc_ticket, alice_api):
    url = f"tickets/{soc_ticket.number}/collaborators"
    before = written()
    assert alice_api.post(url, {"email": "eve@example.test", "cc": True}).status_code == 400
    assert alice_api.post(url, {}).status_code == 400
    assert alice_api.delete(url).status_code == 400
    assert written() == before


def test_removing_someone_not_on_the_ticket_is_404(people, soc_ticket, alice_api):
    r = alice_api.delete(f"tickets/{soc_ticket.number}/collaborators?email=eve@example.test")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == f"eve@example.test is not a collaborator on {soc_ticket.number}."


def test_another_departments_agent_gets_404_everywhere(people, soc_ticket, alice_api, carol_api):
    url = f"tickets/{soc_ticket.number}/collaborators"
    alice_api.post(url, {"email": "eve@example.test"})
    before = written()
    assert carol_api.get(url).status_code == 404
    assert carol_api.post(url, {"email": "zed@example.test"}).status_code == 404
    assert carol_api.delete(f"{url}?email=eve@example.test").status_code == 404
    assert written() == before


def test_a_read_only_key_and_an_agent_without_reply_are_refused(people, soc_ticket):
    url = f"tickets/{soc_ticket.number}/collaborators"
    reader = ApiClient(make_key(["tickets:read"], name="reader"))
    assert reader.get(url).status_code == 200
    assert reader.post(url, {"email": "eve@example.test"}).status_code in (401, 403)
    setup = Actor.system("test-setup")
    viewer = role_create(actor=setup, name="Viewer", permissions=["view"])
    dave = agent_create(actor=setup, username="dave", email="dave@example.test", password=None)
    access_grant(actor=setup, agent=dave, department=people.soc, role=viewer)
    dave_api = ApiClient(make_key(["tickets:read", "tickets:write"], agent=dave, name="d"))
    before = written()
    r = dave_api.post(url, {"email": "eve@example.test"})
    assert r.status_code == 403 and "reply" in r.json()["error"]["message"].lower()
    assert written() == before


def test_the_openapi_document_names_the_endpoints(db):
    from django.test import Client

    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post", "delete"} <= set(paths["/api/v1/tickets/{number}/collaborators"])
