"""Fixtures for the v1 API: keys and personal tokens for the personas, and a JSON client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.core.actor import Actor

SETUP = Actor.system("test-setup")


class ApiClient:
    """Django's test client speaking JSON to /api/v1 with one credential."""

    def __init__(self, raw_key: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def call(self, method: str, path: str, body=None, raw: bytes | str | None = None, **extra):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"headers": {**self.headers, **extra.pop("headers", {})}, **extra}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def make_key(scopes, agent=None, name="tool"):
    return apikey_create(actor=SETUP, name=name, scopes=scopes, agent=agent)[1]


@pytest.fixture
def service_key(db):
    """A tool's key (no agent) with every ticket scope."""
    return make_key(["tickets:read", "tickets:create", "tickets:write"], name="soar")


@pytest.fixture
def tool(service_key):
    return ApiClient(service_key)


@pytest.fixture
def alice_api(people):
    return ApiClient(
        make_key(["tickets:read", "tickets:create", "tickets:write"], agent=people.alice, name="a")
    )


@pytest.fixture
def carol_api(people):
    return ApiClient(
        make_key(["tickets:read", "tickets:create", "tickets:write"], agent=people.carol, name="c")
    )


@pytest.fixture
def anon():
    return ApiClient()
