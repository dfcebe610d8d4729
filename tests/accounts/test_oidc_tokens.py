"""The one ID-token check both OpenID Connect sign-ins use (accounts.oidc_tokens.id_token_claims):
issuer, audience, authorized party, expiry, nonce and algorithm, each refusal naming what failed. Tokens
are signed here with a client secret (HS256); the JWKS path (RS256) runs against the real test provider
in tests/portal/test_sso.py and tests/browser/test_sso_oidc_browser.py."""

from __future__ import annotations

import time

import jwt
import pytest

from socdesk.accounts.oidc import DirectoryOIDCBackend
from socdesk.accounts.oidc_tokens import TokenRejected, id_token_claims

SECRET = "a-client-secret-long-enough-for-hs256"
ISSUER = "https://id.example.test/realms/soc"


def token(**changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "socdesk", "sub": "u-1", "iat": now, "exp": now + 300, "nonce": "n-1"}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


def check(raw: str, **overrides):
    arguments = {
        "issuer": ISSUER,
        "client_id": "socdesk",
        "client_secret": SECRET,
        "nonce": "n-1",
        "jwks_uri": "http://127.0.0.1:9/unused",
        "algorithm": "HS256",
        "timeout": 1,
    }
    return id_token_claims(raw, **{**arguments, **overrides})


def test_a_good_token_gives_its_claims():
    assert check(token())["sub"] == "u-1"
    assert check(token(iss=ISSUER + "/"))["sub"] == "u-1"  # a trailing slash is the same issuer
    assert check(token(aud=["socdesk", "other"], azp="socdesk"))["sub"] == "u-1"
    assert check(token(iss="https://anyone.example"), issuer=None)["sub"] == "u-1"  # issuer not configured


@pytest.mark.parametrize(
    ("changes", "overrides", "message"),
    [
        ({"exp": int(time.time()) - 3600}, {}, "The ID token has expired."),
        ({"exp": None}, {}, 'Token is missing the "exp" claim'),
        ({"iss": "https://evil.example"}, {}, "was issued by 'https://evil.example'"),
        ({"aud": "another-client"}, {}, "issued for another client (aud)"),
        ({"aud": ["socdesk", "other"], "azp": "other"}, {}, "another authorized party (azp)"),
        ({"nonce": "n-2"}, {}, "Nonce verification failed"),
        ({"nonce": None}, {}, "Nonce verification failed"),
        ({}, {"nonce": None}, "Nonce verification failed"),
        ({}, {"client_secret": "another-secret-of-the-same-length-ok"}, "Signature verification failed"),
        ({}, {"algorithm": "RS256"}, "signed with 'HS256', not 'RS256'"),
    ],
)
def test_each_failed_check_is_refused_and_named(changes, overrides, message):
    with pytest.raises(TokenRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(token(**changes), **overrides)


def test_not_a_jwt_is_refused():
    with pytest.raises(TokenRejected, match="not a signed JWT"):
        check("not-a-token")


def test_the_agents_backend_uses_the_same_check(settings):
    # An expired token used to escape mozilla-django-oidc as a jwt error (a server error page): the
    # shared check refuses it as SuspiciousOperation, which the callback turns into a refusal page.
    settings.OIDC_RP_CLIENT_ID = "socdesk"
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.SOCDESK_OIDC_ISSUER = ISSUER
    settings.OIDC_OP_JWKS_ENDPOINT = "http://127.0.0.1:9/unused"
    backend = DirectoryOIDCBackend()
    assert backend.verify_token(token(), nonce="n-1")["sub"] == "u-1"
    with pytest.raises(TokenRejected, match="expired"):
        backend.verify_token(token(exp=int(time.time()) - 3600), nonce="n-1")
    with pytest.raises(TokenRejected, match="another client"):
        backend.verify_token(token(aud="x"), nonce="n-1")
