"""Signing requesters in to the portal by OpenID Connect, with a provider of their own
(SOCDESK_PORTAL_OIDC_*), apart from the agents' single sign-on.

The authorization-code flow with PKCE, state and nonce: `sso_begin` makes the provider's address and the
flow to keep in the browser (the views keep it in a signed cookie sent only to /portal/sso/, never in
Django's session, which is the agents'); `sso_complete` checks what the provider sent back against that
flow, exchanges the code, verifies the ID token with the same function as the agents' sign-in
(`accounts.oidc_tokens.id_token_claims`), requires a verified e-mail (at an allowed domain, if any are
set), and signs the requester in with `sso_sign_in`. Every refusal is an `SsoRefused` whose message
says what happened and what to do, audited as `portal.sign_in_refused`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from socdesk.accounts.models import Contact
from socdesk.accounts.oidc_tokens import (
    ProviderUnavailable,
    TokenRejected,
    discovered_endpoint,
    discovery,
    id_token_claims,
)
from socdesk.accounts.services import contact_get_or_create, contact_name_fill
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.text import clean_text
from socdesk.portal.signin import requester_actor
from socdesk.portal.throttle import RateLimited, limit_ip

log = logging.getLogger(__name__)

# The flow (state, nonce, PKCE verifier) lives in the browser this long: the time a person has to sign
# in at the provider.
FLOW_SECONDS = 600
START_AGAIN = "Nothing was signed in: start again from the sign-in page."


class SsoRefused(Exception):
    """A portal single sign-on that signs nobody in: the message is for the person, the reason for the
    audit trail, the status for the page."""

    def __init__(self, message: str, *, reason: str, status: int = 400, email: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status = status
        self.email = email


def sso_configured() -> bool:
    """Whether requesters may sign in by single sign-on (a client id is set)."""
    return bool(settings.SOCDESK_PORTAL_OIDC_ENABLED)


def provider_name() -> str:
    """The name on the button ("Sign in with …") and in the refusals."""
    return str(settings.SOCDESK_PORTAL_OIDC_PROVIDER_NAME)


def _endpoint(name: str) -> str:
    return discovered_endpoint(settings.SOCDESK_PORTAL_OIDC_ISSUER, name, timeout=settings.OIDC_TIMEOUT)


def _pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sso_begin(*, redirect_uri: str, next_url: str) -> tuple[str, dict[str, str]]:
    """The provider's authorization address for a new sign-in, and the flow the browser must keep until
    it comes back (state, nonce, PKCE verifier, the portal page to return to). Raises SsoRefused (502)
    when the provider cannot be reached."""
    try:
        authorize = _endpoint("authorization_endpoint")
    except ProviderUnavailable as exc:
        log.warning("Portal OpenID provider unavailable: %s", exc)
        raise _unavailable() from None
    flow = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(64),
        "next": next_url,
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.SOCDESK_PORTAL_OIDC_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": settings.SOCDESK_PORTAL_OIDC_SCOPES,
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": _pkce_challenge(flow["verifier"]),
            "code_challenge_method": "S256",
        }
    )
    return f"{authorize}{'&' if '?' in authorize else '?'}{query}", flow


def sso_complete(
    *, flow: Mapping[str, Any] | None, params: Mapping[str, str], redirect_uri: str, ip: str | None
) -> Contact:
    """Finish a sign-in the provider sent back to the callback: the requester it signs in. Raises
    SsoRefused, audited as `portal.sign_in_refused`, for anything that must sign nobody in."""
    try:
        # Each callback may cost a code exchange and a key fetch at the provider: counted per client IP.
        try:
            limit_ip("sso", ip=ip, per_ip=settings.SOCDESK_PORTAL_SSO_PER_IP)
        except RateLimited as exc:
            raise SsoRefused(exc.message, reason="rate_limited", status=429) from None
        claims = _verified_claims(flow, params, redirect_uri)
        email = _allowed_address(claims)
    except SsoRefused as refusal:
        record(
            actor=Actor.anonymous(refusal.email or "portal single sign-on", ip=ip),
            action="portal.sign_in_refused",
            after={"method": "oidc", "reason": refusal.reason[:200], "ip": ip, "email": refusal.email},
        )
        raise
    return sso_sign_in(email=email, name=_name(claims), subject=str(claims["sub"]), ip=ip)


@transaction.atomic
def sso_sign_in(*, email: str, name: str, subject: str, ip: str | None) -> Contact:
    """Sign a requester in from an identity the provider verified: their contact (created at the first
    sign-in), its name filled from the provider's if it has none. Audited as `portal.signed_in` with
    the method "oidc"."""
    contact = contact_get_or_create(actor=Actor.anonymous(email, ip=ip), email=email, name=name)
    actor = requester_actor(contact, ip)
    contact = contact_name_fill(actor=actor, contact=contact, name=name)
    record(
        actor=actor,
        action="portal.signed_in",
        target=contact,
        after={"method": "oidc", "provider": provider_name(), "subject": subject[:200]},
    )
    return contact


def _verified_claims(
    flow: Mapping[str, Any] | None, params: Mapping[str, str], redirect_uri: str
) -> dict[str, Any]:
    name = provider_name()
    error = params.get("error")
    if error:
        raise SsoRefused(
            f"{name} did not sign you in ({error[:100]}). {START_AGAIN}", reason=f"provider_error: {error}"
        )
    if not flow:
        raise SsoRefused(
            "This sign-in was not started in this browser, or took longer than "
            f"{FLOW_SECONDS // 60} minutes. {START_AGAIN}",
            reason="no_flow",
        )
    state = params.get("state", "")
    if not state or not secrets.compare_digest(state, str(flow.get("state", ""))):
        raise SsoRefused(
            f"The answer from {name} does not belong to the sign-in started in this browser (its state "
            f"does not match), so it was refused. {START_AGAIN}",
            reason="state_mismatch",
        )
    code = params.get("code")
    if not code:
        raise SsoRefused(f"The answer from {name} was incomplete (no code). {START_AGAIN}", reason="no_code")
    try:
        tokens = _exchange_code(code, str(flow.get("verifier", "")), redirect_uri)
        claims = id_token_claims(
            str(tokens.get("id_token") or ""),
            issuer=settings.SOCDESK_PORTAL_OIDC_ISSUER,
            client_id=settings.SOCDESK_PORTAL_OIDC_CLIENT_ID,
            client_secret=settings.SOCDESK_PORTAL_OIDC_CLIENT_SECRET,
            nonce=str(flow.get("nonce", "")),
            jwks_uri=_endpoint("jwks_uri"),
            algorithm=settings.SOCDESK_PORTAL_OIDC_SIGN_ALGO,
            timeout=settings.OIDC_TIMEOUT,
        )
        return {**claims, **_userinfo(str(tokens.get("access_token") or ""), claims)}
    except TokenRejected as exc:
        raise SsoRefused(
            f"This sign-in could not be verified: the token from {name} failed the checks. {START_AGAIN} "
            "If it keeps happening, tell the security team.",
            reason=f"token_rejected: {exc}",
        ) from None
    except ProviderUnavailable as exc:
        log.warning("Portal OpenID provider unavailable during the callback: %s", exc)
        raise _unavailable() from None


def _exchange_code(code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
    try:
        response = requests.post(
            _endpoint("token_endpoint"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": settings.SOCDESK_PORTAL_OIDC_CLIENT_ID,
                "client_secret": settings.SOCDESK_PORTAL_OIDC_CLIENT_SECRET,
                "code_verifier": verifier,
            },
            timeout=settings.OIDC_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"The token request failed: {exc}") from exc
    if 400 <= response.status_code < 500:
        # The code was used already, expired, or was not issued to us (or to this PKCE verifier).
        raise SsoRefused(
            f"{provider_name()} refused to complete this sign-in (it took too long, or its answer was "
            f"used already). {START_AGAIN}",
            reason=f"code_refused: {response.status_code}",
        )
    try:
        response.raise_for_status()
        tokens = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"The token endpoint answered {response.status_code}: {exc}") from exc
    if not isinstance(tokens, dict) or not tokens.get("id_token"):
        raise ProviderUnavailable("The token endpoint's answer has no ID token.")
    return tokens


def _userinfo(access_token: str, id_claims: Mapping[str, Any]) -> dict[str, Any]:
    # Many providers (this one's test provider too) put the e-mail only in the userinfo answer.
    endpoint = discovery(settings.SOCDESK_PORTAL_OIDC_ISSUER, timeout=settings.OIDC_TIMEOUT).get(
        "userinfo_endpoint"
    )
    if not endpoint or not access_token:
        return {}
    try:
        response = requests.get(
            str(endpoint), headers={"Authorization": f"Bearer {access_token}"}, timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"The userinfo request failed: {exc}") from exc
    if not isinstance(info, dict) or info.get("sub") != id_claims.get("sub"):
        raise TokenRejected("The userinfo answer is about another subject than the ID token.")
    return info


def _allowed_address(claims: Mapping[str, Any]) -> str:
    name = provider_name()
    email = clean_text(str(claims.get("email") or "")).strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SsoRefused(
            f"{name} did not tell SOCdesk your e-mail address, which the portal needs to find your "
            "tickets. Ask for a sign-in link by e-mail instead, or ask your administrator to let "
            f"{name} share it (the “email” scope).",
            reason="no_email",
            status=403,
        ) from None
    # Absent is not verified: only an explicit true lets the address stand for the person.
    if claims.get("email_verified") is not True:
        raise SsoRefused(
            f"{name} has not verified your e-mail address {email}, so it cannot sign you in to the "
            f"portal. Verify the address with {name} (or ask your administrator to), or ask for a "
            "sign-in link by e-mail instead.",
            reason="email_unverified",
            status=403,
            email=email,
        )
    domains = settings.SOCDESK_PORTAL_OIDC_DOMAINS
    domain = email.rpartition("@")[2]
    if domains and domain not in domains:
        raise SsoRefused(
            f"Addresses at {domain} cannot sign in to the portal with {name}; only addresses at "
            f"{', '.join(domains)} can. Sign in to {name} with your work account, or ask for a sign-in "
            "link by e-mail instead.",
            reason="domain_not_allowed",
            status=403,
            email=email,
        )
    return email


def _name(claims: Mapping[str, Any]) -> str:
    full = str(claims.get("name") or "").strip()
    if not full:
        full = " ".join(str(claims.get(part) or "").strip() for part in ("given_name", "family_name"))
    return clean_text(full).strip()


def _unavailable() -> SsoRefused:
    return SsoRefused(
        f"{provider_name()} cannot be reached right now, so single sign-on is not available. Try again "
        "in a few minutes, or ask for a sign-in link by e-mail instead.",
        reason="provider_unavailable",
        status=502,
    )
