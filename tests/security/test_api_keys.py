"""API keys: last use (time and address) recorded cheaply and shown; rotation with a grace period,
audited, through the service, the CLI, the admin and the personal-token API."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socdesk.accounts.keyauth import ApiAuthError, authenticate_key
from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create, apikey_revoke, apikey_rotate
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.recent import RecentLookups

pytestmark = pytest.mark.django_db

SETUP = Actor.system("test-setup")


def _request(ip: str = "192.0.2.10"):
    return RequestFactory().get("/api/v1/tickets", REMOTE_ADDR=ip)


def _works(raw: str, ip: str = "192.0.2.10") -> bool:
    try:
        authenticate_key(_request(ip), raw, scope="tickets:read")
    except ApiAuthError:
        return False
    return True


def _snapshot() -> tuple:
    return (
        list(
            ApiKey.objects.order_by("pk").values_list(
                "pk", "prefix", "expires_at", "revoked_at", "replaced_by"
            )
        ),
        AuditEvent.objects.count(),
    )


# --- last used ---------------------------------------------------------------------------------------


def test_last_use_is_recorded_with_the_address_at_most_once_a_minute(people):
    key, raw = apikey_create(actor=SETUP, name="soar", scopes=["tickets:read"])
    assert key.last_used_at is None
    authenticate_key(_request("198.51.100.4"), raw, scope="tickets:read")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None and key.last_used_ip == "198.51.100.4"
    # The hot path: within the minute, no write at all (the key itself is remembered for a moment).
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            authenticate_key(_request("198.51.100.5"), raw, scope="tickets:read")
    assert not [q for q in captured if q["sql"].lstrip().upper().startswith("UPDATE")]
    key.refresh_from_db()
    assert (key.last_used_at, key.last_used_ip) == (first, "198.51.100.4")
    # A minute later the next use is written, with its address.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    RecentLookups.forget_everything()
    authenticate_key(_request("198.51.100.6"), raw, scope="tickets:read")
    key.refresh_from_db()
    assert key.last_used_ip == "198.51.100.6" and key.last_used_at > first


def test_last_use_is_shown_in_the_admin_the_cli_and_the_token_api(people):
    _token, raw = apikey_create(actor=SETUP, name="mine", scopes=["tickets:read"], agent=people.alice)
    authenticate_key(_request("203.0.113.77"), raw, scope="tickets:read")
    listed = Client().get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {raw}"}).json()["items"]
    assert listed[0]["last_used_ip"] == "203.0.113.77" and listed[0]["last_used_at"]
    admin = Client()
    admin.force_login(people.admin.user)
    assert b"from 203.0.113.77" in admin.get("/admin/accounts/apikey/").content
    out = StringIO()
    call_command("apikey", "list", stdout=out)
    assert "from 203.0.113.77" in out.getvalue()


# --- rotation: the service ---------------------------------------------------------------------------


def test_rotation_gives_a_new_key_and_keeps_the_old_one_for_the_grace_period(people, settings):
    settings.SOCDESK_API_KEY_ROTATION_GRACE = 3600
    old, old_raw = apikey_create(
        actor=SETUP,
        name="wazuh",
        scopes=["tickets:read", "alerts:ingest"],
        allowed_cidrs=["192.0.2.0/24"],
        department=people.soc,
    )
    before = timezone.now()
    new, new_raw = apikey_rotate(actor=people.actor(people.admin), key=old)
    old.refresh_from_db()
    assert new_raw != old_raw and new.prefix != old.prefix
    assert (new.name, new.scopes, new.allowed_cidrs, new.department) == (
        "wazuh",
        ["alerts:ingest", "tickets:read"],
        ["192.0.2.0/24"],
        people.soc,
    )
    assert old.replaced_by == new and new.expires_at is None
    assert before + timedelta(seconds=3600) <= old.expires_at <= timezone.now() + timedelta(seconds=3600)
    # Both work during the grace period; the allow-list still applies to both.
    assert _works(old_raw) and _works(new_raw)
    assert not _works(new_raw, ip="198.51.100.1")
    # Audited: the rotation (naming the new prefix and the old key's new expiry) and the new key.
    event = AuditEvent.objects.get(action="apikey.rotated")
    assert event.actor_label == "admin" and event.target_id == str(old.pk)
    assert event.after["replaced_by"] == new.prefix and event.before["expires_at"] is None
    assert AuditEvent.objects.filter(action="apikey.created", target_id=str(new.pk)).exists()
    # After the grace period the old key is refused (the clock moved on: a direct update, so the
    # key remembered for a second by this process is forgotten by hand).
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    RecentLookups.forget_everything()
    assert not _works(old_raw) and _works(new_raw)


def test_rotation_with_no_grace_stops_the_old_key_at_once_and_never_extends_an_expiry(people):
    soon = timezone.now() + timedelta(minutes=10)
    old, _old_raw = apikey_create(actor=SETUP, name="short", scopes=["tickets:read"], expires_at=soon)
    new, _new_raw = apikey_rotate(actor=SETUP, key=old, grace=timedelta(days=30))
    old.refresh_from_db()
    assert old.expires_at == soon and new.expires_at == soon  # rotation is a new secret, not a longer life
    other, other_raw = apikey_create(actor=SETUP, name="now", scopes=["tickets:read"])
    apikey_rotate(actor=SETUP, key=other, grace=timedelta(0))
    assert not _works(other_raw)


@pytest.mark.parametrize("state", ["revoked", "rotated", "expired", "negative grace"])
def test_rotation_refusals_are_clear_and_write_nothing(people, state):
    key, _raw = apikey_create(actor=SETUP, name="k", scopes=["tickets:read"])
    grace = None
    if state == "revoked":
        apikey_revoke(actor=SETUP, key=key)
        message = f"The key {key.prefix} is revoked; create a new key instead of rotating it."
    elif state == "rotated":
        apikey_rotate(actor=SETUP, key=key)
        message = f"The key {key.prefix} was already rotated; rotate its replacement instead."
    elif state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        message = f"The key {key.prefix} has expired; create a new key instead of rotating it."
    else:
        grace = timedelta(seconds=-1)
        message = "The grace period cannot be negative; give 0 to stop the old key at once."
    before = _snapshot()
    with pytest.raises(ServiceError) as refused:
        apikey_rotate(actor=SETUP, key=key, grace=grace)
    assert refused.value.message == message
    assert _snapshot() == before


# --- rotation: CLI, admin, API -----------------------------------------------------------------------


def test_cli_rotate_prints_the_new_key_alone_on_the_last_line(people):
    old, old_raw = apikey_create(actor=SETUP, name="kibana", scopes=["tickets:read"])
    out = StringIO()
    call_command("apikey", "rotate", old.prefix, "--grace", "600", stdout=out)
    lines = out.getvalue().rstrip("\n").splitlines()
    new_raw = lines[-1]
    assert re.fullmatch(r"sdk_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}", new_raw)
    assert new_raw not in "\n".join(lines[:-1])
    assert _works(new_raw) and _works(old_raw)
    old.refresh_from_db()
    assert timedelta(seconds=590) < old.expires_at - timezone.now() <= timedelta(seconds=600)
    assert AuditEvent.objects.get(action="apikey.rotated").actor_label == "cli:apikey"
    before = _snapshot()
    with pytest.raises(CommandError, match="No API key with prefix 'nope'"):
        call_command("apikey", "rotate", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="was already rotated"):
        call_command("apikey", "rotate", old.prefix, stdout=StringIO())
    assert _snapshot() == before


def test_admin_rotate_action_shows_the_new_key_once_and_the_grace(people):
    old, old_raw = apikey_create(actor=SETUP, name="splunk", scopes=["tickets:read"])
    other, _ = apikey_create(actor=SETUP, name="other", scopes=["tickets:read"])
    admin = Client()
    admin.force_login(people.admin.user)
    before = _snapshot()
    refused = admin.post(
        "/admin/accounts/apikey/",
        {"action": "rotate_key", "_selected_action": [old.pk, other.pk]},
        follow=True,
    )
    assert b"Select exactly one key to rotate" in refused.content and _snapshot() == before
    page = admin.post("/admin/accounts/apikey/", {"action": "rotate_key", "_selected_action": [old.pk]})
    assert page.status_code == 200
    new_raw = re.search(rb'id="new-api-key"[^>]*value="(sdk_[^"]+)"', page.content).group(1).decode()
    assert old.prefix.encode() in page.content and b"keeps" in page.content
    assert _works(new_raw) and _works(old_raw)
    assert AuditEvent.objects.get(action="apikey.rotated").actor_label == "admin"
    listing = admin.get("/admin/accounts/apikey/").content.decode()
    assert f"rotated to {ApiKey.objects.get(pk=old.pk).replaced_by.prefix}" in listing


def test_api_rotates_a_personal_token_within_its_own_scopes(people):
    wide, wide_raw = apikey_create(
        actor=SETUP, name="wide", scopes=["tickets:read", "tickets:write"], agent=people.alice
    )
    narrow, narrow_raw = apikey_create(
        actor=SETUP, name="narrow", scopes=["tickets:read"], agent=people.alice
    )
    carol, _ = apikey_create(actor=SETUP, name="carols", scopes=["tickets:read"], agent=people.carol)

    def rotate(raw, prefix, body=None):
        return Client().post(
            f"/api/v1/me/tokens/{prefix}/rotate",
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )

    before = _snapshot()
    assert rotate(narrow_raw, wide.prefix).status_code == 403  # a token cannot rotate a wider one
    assert rotate(narrow_raw, carol.prefix).status_code == 404  # nor anyone else's
    bad = rotate(narrow_raw, narrow.prefix, {"grace_seconds": -5})
    assert bad.status_code == 400 and "grace_seconds" in bad.json()["error"]["fields"]
    assert _snapshot() == before
    response = rotate(narrow_raw, narrow.prefix, {"grace_seconds": 0})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "narrow" and body["scopes"] == ["tickets:read"] and body["key"].startswith("sdk_")
    assert not _works(narrow_raw) and _works(body["key"])
    listed = Client().get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {body['key']}"}).json()
    old_entry = next(t for t in listed["items"] if t["prefix"] == narrow.prefix)
    assert old_entry["replaced_by"] == body["prefix"]
    # Without a body the default grace applies.
    response = rotate(wide_raw, wide.prefix)
    assert response.status_code == 201 and _works(wide_raw)
