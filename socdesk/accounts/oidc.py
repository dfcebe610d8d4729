"""OpenID Connect sign-in for agents, on mozilla-django-oidc: the authorization-code flow (with PKCE,
state and nonce), endpoints from the issuer's discovery document, and the agent found, created and given
its department roles by socdesk.accounts.directory.

What we add to the library: discovery (it wants every endpoint spelled out), the ID token checked by
`oidc_tokens.id_token_claims` (the check the requesters' portal sign-in uses too; the library checks
neither issuer nor audience), and a page a person can act on for every refusal (it redirects
to one fixed URL, or answers a bare 400 on a forged state or nonce), each refusal audited.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from socdesk.accounts.directory import (
    DirectoryProfile,
    DirectoryRefusal,
    directory_sign_in,
    record_sign_in_refused,
)
from socdesk.accounts.oidc_tokens import (
    ProviderUnavailable,
    discovered_endpoint,
    id_token_claims,
)
from socdesk.accounts.oidc_tokens import (
    forget_discovery as forget_discovery,  # re-exported: tests start a provider per session
)
from socdesk.audit.services import record
from socdesk.core.actor import Actor, client_ip

log = logging.getLogger(__name__)

_ENDPOINT_SETTINGS = {
    "authorization_endpoint": "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "OIDC_OP_TOKEN_ENDPOINT",
    "userinfo_endpoint": "OIDC_OP_USER_ENDPOINT",
    "jwks_uri": "OIDC_OP_JWKS_ENDPOINT",
}


def endpoint(name: str) -> str:
    """An endpoint of the provider: the explicit setting, else the issuer's discovery document."""
    explicit: str = getattr(settings, _ENDPOINT_SETTINGS[name], "")
    if explicit:
        return explicit
    return discovered_endpoint(settings.SOCDESK_OIDC_ISSUER, name, timeout=settings.OIDC_TIMEOUT)


def _lazy_endpoint(name: str) -> property:
    # Read when the flow needs it, not at construction: Django builds the backend on every request of a
    # signed-in agent (to load the user), and that must not wait on the provider.
    return property(lambda self: endpoint(name), lambda self, value: None)


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    """Verifies the code flow's tokens and hands the claims to directory_sign_in."""

    OIDC_OP_TOKEN_ENDPOINT = _lazy_endpoint("token_endpoint")
    OIDC_OP_USER_ENDPOINT = _lazy_endpoint("userinfo_endpoint")
    OIDC_OP_JWKS_ENDPOINT = _lazy_endpoint("jwks_uri")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the library's __init__: it reads every endpoint at once.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Only the callback view passes the nonce: anything else (a password sign-in) is not ours.
        if request is None or "nonce" not in kwargs or not settings.SOCDESK_OIDC_ENABLED:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> Any:
        if "nonce" not in kwargs:
            return super().verify_token(token, **kwargs)  # a signed userinfo answer, not the ID token
        return id_token_claims(
            token,
            issuer=settings.SOCDESK_OIDC_ISSUER or None,
            client_id=self.OIDC_RP_CLIENT_ID,
            client_secret=self.OIDC_RP_CLIENT_SECRET,
            nonce=kwargs["nonce"],
            jwks_uri=self.OIDC_OP_JWKS_ENDPOINT,
            algorithm=self.OIDC_RP_SIGN_ALGO,
            timeout=settings.OIDC_TIMEOUT,
        )

    def get_or_create_user(self, access_token: str, id_token: str, payload: Any) -> Any:
        claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
        profile = profile_from_claims(claims)
        try:
            agent = directory_sign_in(
                profile=profile,
                group_map=settings.SOCDESK_OIDC_GROUP_MAP,
                create_agents=settings.SOCDESK_OIDC_CREATE_AGENTS,
                ip=client_ip(self.request),
                map_name="SOCDESK_OIDC_GROUP_MAP",
            )
        except DirectoryRefusal as exc:
            self.request.sso_refusal = exc
            return None
        return agent.user


def profile_from_claims(claims: dict[str, Any]) -> DirectoryProfile:
    """The directory profile in an ID token plus userinfo answer."""
    groups = claims.get(settings.SOCDESK_OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    email = str(claims.get("email") or "")
    return DirectoryProfile(
        provider="oidc",
        subject=str(claims["sub"]),
        username=str(claims.get(settings.SOCDESK_OIDC_USERNAME_CLAIM) or email.partition("@")[0]),
        email=email,
        # Absent means the provider does not say; only an explicit true lets e-mail link an existing agent.
        email_verified=claims.get("email_verified") is True,
        first_name=str(claims.get("given_name") or ""),
        last_name=str(claims.get("family_name") or ""),
        groups=frozenset(str(group) for group in groups if isinstance(group, str | int)),
    )


def refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The page shown when single sign-on does not sign someone in: what happened and what to do."""
    return render(
        request,
        "accounts/sso_refused.html",
        {"message": message, "provider_name": settings.SOCDESK_OIDC_PROVIDER_NAME},
        status=status,
    )


class OIDCStartView(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/: remember state, nonce and PKCE verifier in the session, go to the provider."""

    OIDC_OP_AUTH_ENDPOINT = _lazy_endpoint("authorization_endpoint")

    def __init__(self, **kwargs: Any) -> None:
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.SOCDESK_OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            response: HttpResponse = super().get(request)
        except ProviderUnavailable as exc:
            log.warning("OpenID provider unavailable: %s", exc)
            return refused(request, _unavailable_message(), 502)
        return response


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/: check state, exchange the code, verify the tokens, sign the agent in."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.SOCDESK_OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        ip = client_ip(request)
        try:
            response: HttpResponse = super().get(request)
        except SuspiciousOperation as exc:
            # A forged or replayed callback (state not issued to this browser), a token whose nonce,
            # signature, issuer or audience is wrong.
            record_sign_in_refused(profile=None, ip=ip, reason=f"oidc_rejected: {exc}"[:200], provider="oidc")
            return refused(
                request,
                "This sign-in could not be verified: the answer from the identity provider does not "
                "belong to a sign-in started in this browser, or its token failed the checks. "
                "Nothing was signed in. Start again from the sign-in page.",
                400,
            )
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if 400 <= status < 500:
                # The token endpoint refused the code: used already, expired, or not issued to us.
                record_sign_in_refused(
                    profile=None, ip=ip, reason=f"oidc_code_refused: {status}", provider="oidc"
                )
                return refused(
                    request,
                    "The identity provider refused to complete this sign-in (the sign-in took too long, "
                    "or its link was used already). Nothing was signed in. "
                    "Start again from the sign-in page.",
                    400,
                )
            log.warning("OpenID provider failed during the callback: %s", exc)
            record_sign_in_refused(profile=None, ip=ip, reason="oidc_provider_unavailable", provider="oidc")
            return refused(request, _unavailable_message(), 502)
        except (ProviderUnavailable, requests.RequestException) as exc:
            log.warning("OpenID provider unavailable during the callback: %s", exc)
            record_sign_in_refused(profile=None, ip=ip, reason="oidc_provider_unavailable", provider="oidc")
            return refused(request, _unavailable_message(), 502)
        return response

    def login_failure(self) -> HttpResponse:
        refusal: DirectoryRefusal | None = getattr(self.request, "sso_refusal", None)
        if refusal is not None:  # already audited by directory_sign_in
            return refused(self.request, refusal.message, 403)
        error = self.request.GET.get("error")
        if error:
            reason = f"oidc_error: {error}"[:200]
            message = f"The identity provider did not sign you in ({error[:100]})."
        elif "state" not in self.request.GET or "code" not in self.request.GET:
            reason, message = "oidc_incomplete", "The identity provider's answer was incomplete."
        else:
            reason = "oidc_no_session_state"
            message = (
                "This sign-in was not started in this browser (or the session expired before it came back)."
            )
        record_sign_in_refused(profile=None, ip=client_ip(self.request), reason=reason, provider="oidc")
        return refused(
            self.request, f"{message} Nothing was signed in. Start again from the sign-in page.", 400
        )

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        agent = self.user.agent
        ip = client_ip(self.request)
        record(
            actor=Actor.for_agent(agent, ip=ip),
            action="auth.login",
            target=agent,
            target_label=self.user.get_username(),
            after={"method": "oidc", "provider": settings.SOCDESK_OIDC_PROVIDER_NAME},
        )
        return response


def _unavailable_message() -> str:
    return (
        f"{settings.SOCDESK_OIDC_PROVIDER_NAME} cannot be reached right now, so single sign-on is not "
        "available. Try again in a few minutes; if it persists, tell your administrator."
    )


oidc_start = OIDCStartView.as_view()
oidc_callback = OIDCCallbackView.as_view()
