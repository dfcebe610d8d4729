"""The portal's single sign-on pages: /portal/sso/start sends the browser to the requesters' provider,
/portal/sso/callback signs them in (socdesk.portal.sso does the work).

The flow (state, nonce, PKCE verifier) waits for the provider's answer in a signed cookie sent only to
/portal/sso/: never in Django's session, which is the agents'.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from socdesk.core.actor import client_ip
from socdesk.portal.session import portal_sign_in
from socdesk.portal.sso import (
    FLOW_SECONDS,
    SsoRefused,
    provider_name,
    sso_begin,
    sso_complete,
    sso_configured,
)

FLOW_COOKIE = "socdesk_portal_sso"
FLOW_COOKIE_PATH = "/portal/sso/"
FLOW_SALT = "socdesk.portal.sso.flow"


def _portal_target(request: HttpRequest, target: str) -> str:
    """Where to go once signed in: a portal page of this site, else the portal's home."""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith(
        "/portal/"
    ):
        return target
    return reverse("portal:home")


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("portal:sso-callback"))


def _flow(request: HttpRequest) -> dict[str, Any] | None:
    value = request.COOKIES.get(FLOW_COOKIE)
    if not value:
        return None
    try:
        flow = signing.loads(value, salt=FLOW_SALT, max_age=FLOW_SECONDS)
    except signing.BadSignature:  # forged, or older than FLOW_SECONDS (SignatureExpired)
        return None
    return flow if isinstance(flow, dict) else None


def _refused(request: HttpRequest, refusal: SsoRefused) -> HttpResponse:
    response = render(
        request,
        "portal/sso_refused.html",
        {"message": refusal.message, "provider_name": provider_name()},
        status=refusal.status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider, keeping the new flow in the browser's flow cookie."""
    if not sso_configured():
        raise Http404("Single sign-on for the portal is not configured.")
    try:
        url, flow = sso_begin(
            redirect_uri=_callback_uri(request), next_url=_portal_target(request, request.GET.get("next", ""))
        )
    except SsoRefused as refusal:
        return _refused(request, refusal)
    response = HttpResponseRedirect(url)
    response.set_cookie(
        FLOW_COOKIE,
        signing.dumps(flow, salt=FLOW_SALT),
        max_age=FLOW_SECONDS,
        path=FLOW_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        # Lax: the provider's redirect back is a top-level GET, which carries it.
        samesite="Lax",
    )
    return response


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: sign the requester in to the portal's own session, or say why not."""
    if not sso_configured():
        raise Http404("Single sign-on for the portal is not configured.")
    flow = _flow(request)
    response: HttpResponse
    try:
        contact = sso_complete(
            flow=flow, params=request.GET.dict(), redirect_uri=_callback_uri(request), ip=client_ip(request)
        )
    except SsoRefused as refusal:
        response = _refused(request, refusal)
    else:
        response = HttpResponseRedirect(_portal_target(request, str((flow or {}).get("next", ""))))
        portal_sign_in(response, contact)
    # A flow answers once, whatever the outcome.
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH, samesite="Lax")
    return response
