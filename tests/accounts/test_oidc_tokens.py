"""The one ID-token check both OpenID Connect sign-ins use (accounts.oidc_tokens.id_token_claims):
issuer, audience, authorized party, expiry, nonce and algorithm, each refusal naming what failed. Tokens
are signed here with a client secret (HS256); the JWKS path (RS256) runs against the real test provider
in tests/portal/test_sso.py and tests/browser/test_sso_oidc_browser.py."""

from __future__ import annotations

import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from socdesk.accounts import oidc_tokens
from socdesk.accounts.oidc import DirectoryOIDCBackend
from socdesk.accounts.oidc_tokens import ProviderUnavailable, TokenRejected, forget_discovery, id_token_claims

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


class _KeyServer:
    """A provider's JWKS endpoint on loopback (a real HTTP server) that counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, kid: str):
        """A new RSA key served under `kid` (replacing the set: the provider rotated); its private key."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        self.keys = [public | {"kid": kid, "alg": "RS256", "use": "sig"}]
        return private


@pytest.fixture
def key_server():
    forget_discovery()
    server = _KeyServer()
    yield server
    server.httpd.shutdown()
    forget_discovery()


def rs256(private, kid: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "socdesk", "sub": "u-1", "iat": now, "exp": now + 300, "nonce": "n-1"}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def test_the_providers_keys_are_fetched_once_and_again_only_when_it_rotated(key_server, monkeypatch):
    first = key_server.publish("k1")
    signed = {"jwks_uri": key_server.uri, "algorithm": "RS256"}
    for _sign_in in range(3):
        assert check(rs256(first, "k1"), **signed)["sub"] == "u-1"
    assert key_server.fetches == 1  # one fetch serves every sign-in while the set is fresh
    # A made-up key id right after a fetch is refused without asking the provider again...
    with pytest.raises(TokenRejected, match="key id 'forged'"):
        check(rs256(first, "forged"), **signed)
    assert key_server.fetches == 1
    # ...while a key id unknown once the set is older than the refetch interval fetches it again: the
    # provider rotated its keys, and tokens signed with the new one are accepted.
    second = key_server.publish("k2")
    monkeypatch.setattr(oidc_tokens, "KEYS_REFETCH_SECONDS", 0)
    assert check(rs256(second, "k2"), **signed)["sub"] == "u-1"
    assert key_server.fetches == 2
    # A key the provider no longer publishes is refused once the set has been fetched again.
    with pytest.raises(TokenRejected, match="key id 'k1'"):
        check(rs256(first, "k1"), **signed)
    # A set older than its maximum age is fetched again even for a known key id.
    monkeypatch.setattr(oidc_tokens, "KEYS_MAX_AGE_SECONDS", -1)
    assert check(rs256(second, "k2"), **signed)["sub"] == "u-1"
    assert key_server.fetches == 4


def test_a_provider_whose_keys_cannot_be_fetched_is_reported_unavailable(key_server):
    key_server.httpd.shutdown()
    key_server.httpd.server_close()
    private = key_server.publish("k1")
    with pytest.raises(ProviderUnavailable, match="Fetching the provider's keys"):
        check(rs256(private, "k1"), jwks_uri=key_server.uri, algorithm="RS256")
