"""`socdesk apikey create|list|revoke` and the API key admin pages."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory

from socdesk.accounts.keyauth import ApiAuthError, authenticate_key
from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas' argon2 hashing costs ~0.5 s per agent; nothing here logs in with a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args) -> list[str]:
    out = StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue().rstrip("\n").splitlines()


def request(ip="127.0.0.1"):
    return RequestFactory().post("/api/tickets.json", REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_create_prints_key_alone_on_last_line_and_it_authenticates(people):
    lines = run(
        "create",
        "--name",
        "kibana",
        "--scope",
        "tickets:create",
        "--scope",
        "alerts:ingest",
        "--allow",
        "10.0.0.0/8",
        "--allow",
        "2001:db8::/32",
        "--expires",
        "2999-01-31",
        "--department",
        "it-help-desk",
    )
    raw = lines[-1]
    assert re.fullmatch(r"sdk_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}", raw)
    key = ApiKey.objects.get()
    assert key.scopes == ["alerts:ingest", "tickets:create"]
    assert key.allowed_cidrs == ["10.0.0.0/8", "2001:db8::/32"]
    assert key.expires_at.date().isoformat() == "2999-01-31" and key.department == people.it
    assert raw not in "\n".join(lines[:-1]) and key.key_hash != raw
    found, actor = authenticate_key(request("10.1.1.1"), raw, scope="alerts:ingest")
    assert found == key and actor.label == "key:kibana"
    with pytest.raises(ApiAuthError):
        authenticate_key(request("192.0.2.1"), raw, scope="alerts:ingest")
    event = AuditEvent.objects.get(action="apikey.created")
    assert event.actor_label == "cli:apikey" and event.after["department"] == "it-help-desk"


@pytest.mark.django_db
def test_create_defaults_to_tickets_create_and_personal_token(people):
    raw = run("create", "--name", "alice-script", "--agent", "alice")[-1]
    key, actor = authenticate_key(request(), raw, scope="tickets:create")
    assert key.scopes == ["tickets:create"] and actor.agent == people.alice


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--scope", "root"], "Unknown scope(s) root; use: tickets:create"),
        (["--allow", "10.0.0.300/8"], "'10.0.0.300/8' is not an IP address or CIDR range"),
        (["--expires", "2000-01-01"], "The expiry date is in the past."),
        (["--expires", "next week"], "--expires 'next week' is not a date; use YYYY-MM-DD"),
        (["--department", "nope"], "No department with slug 'nope' (known: it-help-desk, soc)."),
        (["--agent", "mallory"], "No agent with username 'mallory'."),
        (
            ["--agent", "alice", "--scope", "admin"],
            "Only an admin's personal token can have the admin scope.",
        ),
    ],
)
def test_create_refuses_bad_options_and_writes_nothing(people, args, message):
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError) as err:
        run("create", "--name", "x", *args)
    assert message in str(err.value)
    assert not ApiKey.objects.exists() and AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_list_and_revoke(people):
    key, raw = apikey_create(
        actor=Actor.system("t"), name="grafana", scopes=["alerts:ingest"], allowed_cidrs=["10.0.0.0/8"]
    )
    authenticate_key(request("10.0.0.9"), raw, scope="alerts:ingest")
    table = "\n".join(run("list"))
    for text in [key.prefix, "grafana", "alerts:ingest", "10.0.0.0/8", "never", "from 10.0.0.9", "no"]:
        assert text in table
    assert raw not in table and key.key_hash not in table
    assert run("revoke", key.prefix) == [f"Revoked API key 'grafana' (prefix {key.prefix})."]
    with pytest.raises(ApiAuthError):
        authenticate_key(request("10.0.0.9"), raw, scope="alerts:ingest")
    assert AuditEvent.objects.filter(action="apikey.revoked", actor_label="cli:apikey").count() == 1
    with pytest.raises(CommandError, match="was already revoked"):
        run("revoke", key.prefix)
    with pytest.raises(CommandError, match="No API key with prefix 'zzz'"):
        run("revoke", "zzz")
    assert "UTC" in "\n".join(run("list"))  # the revocation time


# --- admin ------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(people):
    client = Client()
    client.force_login(people.admin.user)
    return client


@pytest.mark.django_db
def test_admin_add_shows_key_once_and_audits(admin_client, people):
    page = admin_client.get("/admin/accounts/apikey/add/")
    assert page.status_code == 200 and b"key_hash" not in page.content
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {
            "name": "wazuh",
            "scopes": ["alerts:ingest", "tickets:create"],
            "allowed_cidrs": "10.0.0.0/8\n\n192.0.2.7",
            "department": people.soc.pk,
        },
    )
    assert response.status_code == 200
    raw = re.search(rb'id="new-api-key"[^>]*value="(sdk_[^"]+)"', response.content).group(1).decode()
    key, _actor = authenticate_key(request("192.0.2.7"), raw, scope="alerts:ingest")
    assert key.name == "wazuh" and key.allowed_cidrs == ["10.0.0.0/8", "192.0.2.7/32"]
    assert key.department == people.soc
    event = AuditEvent.objects.get(action="apikey.created")
    assert event.actor_label == "admin" and event.actor_type == "agent"
    # The change page shows the key's settings read-only: no hash, no plaintext, no save button.
    change = admin_client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    assert change.status_code == 200
    assert key.key_hash.encode() not in change.content and raw.encode() not in change.content
    assert b'name="_save"' not in change.content
    assert admin_client.post(f"/admin/accounts/apikey/{key.pk}/change/", {"name": "x"}).status_code == 403
    assert admin_client.get(f"/admin/accounts/apikey/{key.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_admin_add_form_errors_write_nothing(admin_client, people):
    before = AuditEvent.objects.count()
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"name": "x", "scopes": ["admin"], "allowed_cidrs": "not-a-range", "agent": people.alice.pk},
    )
    assert response.status_code == 200
    assert b"&#x27;not-a-range&#x27; is not an IP address or CIDR range" in response.content
    assert b"Only an admin&#x27;s personal token can have the admin scope." in response.content
    assert not ApiKey.objects.exists() and AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_admin_revoke_action(admin_client):
    key, raw = apikey_create(actor=Actor.system("t"), name="old", scopes=["tickets:create"])
    listing = admin_client.get("/admin/accounts/apikey/")
    assert b"old" in listing.content and key.prefix.encode() in listing.content
    response = admin_client.post(
        "/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]}, follow=True
    )
    assert b"Revoked 1 API key(s)." in response.content
    with pytest.raises(ApiAuthError):
        authenticate_key(request(), raw, scope="tickets:create")
    assert AuditEvent.objects.get(action="apikey.revoked").actor_label == "admin"


@pytest.mark.django_db
def test_non_staff_agent_cannot_reach_key_admin(people):
    client = Client()
    client.force_login(people.alice.user)
    assert client.get("/admin/accounts/apikey/add/").status_code == 302
