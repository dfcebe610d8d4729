"""API keys: creation rules and authentication (hash, revoke, expiry, IP allow-list, scope)."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from socdesk.accounts.keyauth import ApiAuthError, authenticate_key, key_from_request
from socdesk.accounts.services import apikey_create, apikey_revoke
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

ADMIN = Actor.system("test")


def _request(ip="127.0.0.1", **headers):
    return RequestFactory().post("/api/x", REMOTE_ADDR=ip, headers=headers)


@pytest.mark.django_db
def test_key_is_shown_once_and_stored_hashed():
    key, raw = apikey_create(actor=ADMIN, name="kibana", scopes=["tickets:create"])
    assert raw.startswith("sdk_" + key.prefix + "_") and raw not in key.key_hash
    found, actor = authenticate_key(_request(), raw, scope="tickets:create")
    assert found == key and actor.kind == "apikey" and actor.label == "key:kibana"


@pytest.mark.django_db
def test_headers():
    assert key_from_request(_request(**{"X-API-Key": "abc"})) == "abc"
    assert key_from_request(_request(Authorization="Bearer xyz")) == "xyz"
    assert key_from_request(_request(Authorization="Basic xyz")) == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cidrs, ip, ok",
    [
        ([], "203.0.113.9", True),
        (["10.0.0.0/8"], "10.2.3.4", True),
        (["10.0.0.0/8"], "11.2.3.4", False),
        (["2001:db8::/32"], "2001:db8::5", True),
        (["2001:db8::/32"], "10.2.3.4", False),
        (["192.0.2.7"], "192.0.2.7", True),
    ],
)
def test_ip_allow_list(cidrs, ip, ok):
    _, raw = apikey_create(actor=ADMIN, name="t", scopes=["tickets:create"], allowed_cidrs=cidrs)
    if ok:
        authenticate_key(_request(ip=ip), raw, scope="tickets:create")
    else:
        with pytest.raises(ApiAuthError, match="Valid API key required"):
            authenticate_key(_request(ip=ip), raw, scope="tickets:create")


@pytest.mark.django_db
def test_wrong_revoked_expired_and_scope():
    key, raw = apikey_create(
        actor=ADMIN, name="t", scopes=["alerts:ingest"], expires_at=timezone.now() + timedelta(days=1)
    )
    for bad in ["", "nonsense", raw[:-1] + ("A" if raw[-1] != "A" else "B")]:
        with pytest.raises(ApiAuthError) as err:
            authenticate_key(_request(), bad, scope="alerts:ingest")
        assert err.value.status == 401
    with pytest.raises(ApiAuthError) as err:
        authenticate_key(_request(), raw, scope="tickets:write")
    assert err.value.status == 403 and "tickets:write" in err.value.message
    key.expires_at = timezone.now() - timedelta(seconds=1)
    key.save()
    with pytest.raises(ApiAuthError):
        authenticate_key(_request(), raw, scope="alerts:ingest")
    key.expires_at = None
    key.save()
    apikey_revoke(actor=ADMIN, key=key)
    with pytest.raises(ApiAuthError):
        authenticate_key(_request(), raw, scope="alerts:ingest")


@pytest.mark.django_db
def test_creation_validates():
    with pytest.raises(ServiceError) as err:
        apikey_create(actor=ADMIN, name="", scopes=["root"], allowed_cidrs=["10.0.0.0/33"])
    assert set(err.value.fields) == {"name", "scopes", "allowed_cidrs"}
