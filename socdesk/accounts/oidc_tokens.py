"""What both OpenID Connect sign-ins share (the agents' in socdesk.accounts.oidc, the requesters' in
socdesk.portal.sso): the issuer's discovery document and the one check of an ID token.

`id_token_claims` is the only place an ID token is trusted: signature against the provider's JWKS (or
the client secret for an HS* algorithm), issuer, audience (and `azp` when there are several), expiry
and nonce. Both sign-ins call it; a refusal is a `TokenRejected` (a SuspiciousOperation, so the agents'
callback, built on mozilla-django-oidc, treats it like the library's own refusals).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import jwt
import requests
from django.core.exceptions import SuspiciousOperation

# Clocks of SOCdesk and the provider may differ a little; a token is not refused for that.
CLOCK_SKEW_SECONDS = 60

# A provider's signing keys are fetched once and used for this long; a token naming a key id the set
# does not hold fetches it again (the provider rotated its keys), at most once per KEYS_REFETCH_SECONDS,
# so tokens with made-up key ids cannot make every sign-in a request to the provider.
KEYS_MAX_AGE_SECONDS = 600
KEYS_REFETCH_SECONDS = 30

_discovered: dict[str, dict[str, Any]] = {}
_discovery_lock = threading.Lock()
_key_sets: dict[str, tuple[float, list[Any]]] = {}
_keys_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered something unusable."""


class TokenRejected(SuspiciousOperation):
    """An ID token failed a check: nothing may be signed in with it."""


def discovery(issuer: str, *, timeout: float) -> dict[str, Any]:
    """The issuer's discovery document, fetched once per process and issuer (ProviderUnavailable if it
    cannot be had, or names another issuer)."""
    with _discovery_lock:
        if issuer not in _discovered:
            _discovered[issuer] = _discover(issuer, timeout)
        return _discovered[issuer]


def discovered_endpoint(issuer: str, name: str, *, timeout: float) -> str:
    """One endpoint (`authorization_endpoint`, `token_endpoint`, `jwks_uri` …) from the issuer's
    discovery document; ProviderUnavailable if the document has none."""
    value = discovery(issuer, timeout=timeout).get(name)
    if not isinstance(value, str) or not value:
        raise ProviderUnavailable(f"The discovery document of {issuer} has no {name}.")
    return value


def _discover(issuer: str, timeout: float) -> dict[str, Any]:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"Fetching {url} failed: {exc}") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        # A document for another issuer would let that issuer's tokens in (OpenID Connect Discovery 4.3).
        named = document.get("issuer") if isinstance(document, dict) else None
        raise ProviderUnavailable(f"{url} names the issuer {named!r}, not {issuer!r}.")
    return document


def forget_discovery() -> None:
    """Drop the cached discovery documents and key sets (tests start a new provider on a new port)."""
    with _discovery_lock:
        _discovered.clear()
    with _keys_lock:
        _key_sets.clear()


def id_token_claims(
    token: str,
    *,
    issuer: str | None,
    client_id: str,
    client_secret: str,
    nonce: str | None,
    jwks_uri: str,
    algorithm: str,
    timeout: float,
) -> dict[str, Any]:
    """The claims of an ID token once it passed every check: signed by the provider (its JWKS, or the
    client secret for HS*) with `algorithm`, issued by `issuer` (None: not checked, for providers
    configured without one), for `client_id`, not expired, bound to this sign-in's `nonce`.
    TokenRejected names the failed check; ProviderUnavailable if the keys cannot be fetched."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"The ID token is not a signed JWT ({exc}).") from None
    if header.get("alg") != algorithm:
        raise TokenRejected(f"The ID token is signed with {header.get('alg')!r}, not {algorithm!r}.")
    key: Any = client_secret if algorithm.startswith("HS") else _signing_key(jwks_uri, header, timeout)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            leeway=CLOCK_SKEW_SECONDS,
            # Issuer and audience are checked below, with messages that say which one was wrong.
            options={"require": ["exp", "iat", "sub"], "verify_aud": False, "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("The ID token has expired.") from None
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"The ID token failed verification ({exc}).") from None
    if issuer and str(claims.get("iss", "")).rstrip("/") != issuer:
        raise TokenRejected(f"The ID token was issued by {claims.get('iss')!r}, not {issuer!r}.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise TokenRejected("The ID token was issued for another client (aud).")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRejected("The ID token names several audiences but another authorized party (azp).")
    token_nonce = claims.get("nonce")
    if not nonce or not isinstance(token_nonce, str) or not secrets.compare_digest(token_nonce, nonce):
        raise TokenRejected("Nonce verification failed: the ID token was issued for another sign-in.")
    return claims


def _signing_key(jwks_uri: str, header: dict[str, Any], timeout: float) -> Any:
    """The key of the provider's key set that the token names: from the cached set while it is fresh
    and holds the key id, else from the set fetched again (see KEYS_MAX_AGE_SECONDS)."""
    now = time.monotonic()
    with _keys_lock:
        cached = _key_sets.get(jwks_uri)
    if cached is None or now - cached[0] > KEYS_MAX_AGE_SECONDS:
        cached = _fetch_keys(jwks_uri, timeout)
    key = _matching_key(cached[1], header)
    if key is None and now - cached[0] >= KEYS_REFETCH_SECONDS:
        key = _matching_key(_fetch_keys(jwks_uri, timeout)[1], header)
    if key is None:
        raise TokenRejected(
            f"No key of the provider's JWKS matches the ID token's key id {header.get('kid')!r}."
        )
    return key


def _fetch_keys(jwks_uri: str, timeout: float) -> tuple[float, list[Any]]:
    try:
        response = requests.get(jwks_uri, timeout=timeout)
        response.raise_for_status()
        keys = response.json()["keys"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ProviderUnavailable(f"Fetching the provider's keys from {jwks_uri} failed: {exc}") from exc
    fetched = (time.monotonic(), keys if isinstance(keys, list) else [])
    with _keys_lock:
        _key_sets[jwks_uri] = fetched
    return fetched


def _matching_key(keys: list[Any], header: dict[str, Any]) -> Any:
    kid, alg = header.get("kid"), header.get("alg")
    for jwk in keys:
        if not isinstance(jwk, dict) or (kid is not None and jwk.get("kid") != kid):
            continue
        if "alg" in jwk and jwk["alg"] != alg:
            continue
        try:
            return jwt.PyJWK(jwk).key
        except jwt.PyJWTError:
            continue
    return None
