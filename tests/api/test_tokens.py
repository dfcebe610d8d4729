"""Personal tokens: created by the agent (session or token), shown once, scoped, listed, revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create
from tests.api.conftest import SETUP, ApiClient, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_session(people, password):
    client = Client()
    assert client.login(username="alice", password=password)
    return ApiClient(client=client)


def test_create_from_the_console_session_shown_once(alice_session, soc_ticket, people):
    r = alice_session.post(
        "me/tokens", {"name": "laptop script", "scopes": ["tickets:read", "tickets:write"]}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["key"].startswith("sdk_" + body["prefix"]) and body["scopes"] == [
        "tickets:read",
        "tickets:write",
    ]
    key = ApiKey.objects.get(prefix=body["prefix"])
    assert key.agent == people.alice and body["key"] not in key.key_hash
    listed = alice_session.get("me/tokens").json()["items"]
    assert [t["prefix"] for t in listed] == [body["prefix"]] and "key" not in listed[0]
    # The token acts as alice.
    token = ApiClient(body["key"])
    assert token.get(f"tickets/{soc_ticket.number}").status_code == 200


def test_scopes_are_limited_to_what_an_agent_may_have(alice_session):
    for scopes, status in ((["alerts:ingest"], 400), (["admin"], 400), ([], 400)):
        r = alice_session.post("me/tokens", {"name": "x", "scopes": scopes})
        assert r.status_code == status, r.content
        assert any(name.startswith("scopes") for name in r.json()["error"]["fields"])
    assert ApiKey.objects.filter(agent__isnull=False).count() == 0


def test_admin_agent_may_have_an_admin_token(people, password):
    client = Client()
    client.login(username="admin", password=password)
    r = ApiClient(client=client).post("me/tokens", {"name": "x", "scopes": ["admin"]})
    assert r.status_code == 201


def test_token_made_by_a_token_never_exceeds_it(people):
    expiry = timezone.now() + timedelta(days=3)
    _, raw = apikey_create(
        actor=SETUP, name="r", scopes=["tickets:read"], agent=people.alice, expires_at=expiry
    )
    reader = ApiClient(raw)
    r = reader.post("me/tokens", {"name": "wider", "scopes": ["tickets:write"]})
    assert r.status_code == 403 and "tickets:write" in r.json()["error"]["message"]
    r = reader.post(
        "me/tokens",
        {
            "name": "longer",
            "scopes": ["tickets:read"],
            "expires_at": (expiry + timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 400 and "expires_at" in r.json()["error"]["fields"]
    r = reader.post("me/tokens", {"name": "same", "scopes": ["tickets:read"]})
    assert r.status_code == 201
    assert ApiKey.objects.get(prefix=r.json()["prefix"]).expires_at == expiry
    assert ApiKey.objects.filter(agent=people.alice).count() == 2


def test_revoke(people, alice_session):
    created = alice_session.post("me/tokens", {"name": "x", "scopes": ["tickets:read"]}).json()
    assert ApiClient(created["key"]).get("tickets").status_code == 200
    r = alice_session.delete(f"me/tokens/{created['prefix']}")
    assert r.status_code == 204
    assert ApiClient(created["key"]).get("tickets").status_code == 401
    assert alice_session.get("me/tokens").json()["items"][0]["revoked_at"] is not None
    r = alice_session.delete(f"me/tokens/{created['prefix']}")
    assert r.status_code == 400 and "already revoked" in r.json()["error"]["message"]


def test_cannot_touch_another_agents_tokens(people, alice_session):
    _, bob_raw = apikey_create(actor=SETUP, name="bob's", scopes=["tickets:read"], agent=people.bob)
    bob_prefix = ApiKey.objects.get(agent=people.bob).prefix
    assert alice_session.delete(f"me/tokens/{bob_prefix}").status_code == 404
    assert ApiClient(bob_raw).get("tickets").status_code == 200
    assert alice_session.get("me/tokens").json()["items"] == []


def test_a_weaker_token_cannot_revoke_a_stronger_one(people):
    _, strong = apikey_create(
        actor=SETUP, name="s", scopes=["tickets:read", "tickets:write"], agent=people.alice
    )
    strong_prefix = ApiKey.objects.get(name="s").prefix
    weak = ApiClient(make_key(["tickets:read"], agent=people.alice, name="w"))
    assert weak.delete(f"me/tokens/{strong_prefix}").status_code == 403
    assert ApiClient(strong).get("tickets").status_code == 200


def test_keys_without_an_agent_have_no_personal_tokens(tool):
    r = tool.get("me/tokens")
    assert r.status_code == 403 and "agent" in r.json()["error"]["message"]
    assert tool.post("me/tokens", {"name": "x", "scopes": ["tickets:read"]}).status_code == 403


def test_session_token_creation_needs_csrf(people, password):
    client = Client(enforce_csrf_checks=True)
    client.login(username="alice", password=password)
    r = ApiClient(client=client).post("me/tokens", {"name": "x", "scopes": ["tickets:read"]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert not ApiKey.objects.exists()
