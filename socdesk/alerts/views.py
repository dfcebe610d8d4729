"""Webhook receivers (machine-facing, JSON errors) and the ticket observables panel (htmx partial)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from socdesk.accounts.keyauth import (
    ApiAuthError,
    RateLimited,
    authenticate_key,
    check_rate_limit,
    key_from_request,
    rate_limited_response,
)
from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.ingest import delivery_receive, group_commit, integration_settings, kept_headers
from socdesk.alerts.models import GRAFANA_SIGNATURE_HEADER, GRAFANA_SIGNATURE_HEADER_ALT, Integration
from socdesk.alerts.selectors import (
    NO_DEPARTMENT,
    NO_DEPARTMENT_RETRY_SECONDS,
    alert_department_ready,
    integration_for_key_request,
    integration_for_token,
    ticket_observable_rows,
)
from socdesk.alerts.ticket_observables import (
    ticket_observable_flag,
    ticket_observable_remove,
    ticket_observables_add_list,
)
from socdesk.core.actor import Actor, client_ip
from socdesk.core.errors import NotFound, ServiceError
from socdesk.core.json_errors import error_response
from socdesk.core.metrics import DELIVERIES_RECEIVED, DELIVERIES_REFUSED, labelled
from socdesk.tickets.selectors import ticket_get_for_agent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

INGEST_SCOPE = "alerts:ingest"
SIGNATURE_MAX_AGE = 300  # seconds; a signed request older than this is a replay


@csrf_exempt
def hook(request: HttpRequest, adapter: str, token: str | None = None) -> HttpResponse:
    """POST /api/v1/hooks/<adapter>[/<token>]: check, store durably, reply 202 with the delivery id."""
    if adapter not in adapters.ADAPTERS:
        # Not counted per adapter: the label would take whatever name a scanner tries.
        return error_response(
            404, "not_found", f"There is no {adapter!r} webhook; use one of: {', '.join(adapters.ADAPTERS)}."
        )
    labelled(DELIVERIES_RECEIVED, adapter=adapter).inc()
    # From here until its row is queued, the group writer knows this request is coming.
    with group_commit.arriving():
        response = _receive(request, adapter, token)
    if response.status_code >= 400:
        reason = json.loads(response.content).get("error", {}).get("code", "error")
        DELIVERIES_REFUSED.labels(adapter=adapter, reason=reason).inc()
    return response


def _receive(request: HttpRequest, adapter: str, token: str | None) -> HttpResponse:
    """The checks, the durable store and the reply of `hook`, for a known adapter."""
    if request.method not in ("POST", "PUT"):  # Grafana can be set to PUT
        return error_response(
            405, "method_not_allowed", "Send alerts with POST.", headers={"Allow": "POST, PUT"}
        )

    integration, api_key = None, None
    if token is not None:
        integration = integration_for_token(adapter, token)
        if integration is None:
            return error_response(
                401, "unauthorized", "This webhook URL's token is not valid (or it is disabled)."
            )
    else:
        try:
            api_key, _actor = authenticate_key(request, key_from_request(request), scope=INGEST_SCOPE)
            check_rate_limit(api_key)
        except ApiAuthError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except RateLimited as exc:
            return rate_limited_response(exc)
        found = _integration_for_key(request, adapter)
        if isinstance(found, JsonResponse):
            return found
        integration = found

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        if limit is not None and int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return _too_big(limit)
        body = request.body
    except RequestDataTooBig:
        return _too_big(limit)
    except ValueError:
        return error_response(400, "invalid", "The Content-Length header is not a number.")

    if integration is not None and integration.hmac_secret:
        problem = _signature_problem(request, body, integration)
        if problem:
            return error_response(401, "bad_signature", problem)

    try:
        adapters.check(adapter, body, integration_settings(integration))
    except AdapterError as exc:
        fields = {name: "required" for name in exc.missing}
        if exc.position:
            fields["body"] = exc.position
        return error_response(400, "invalid", exc.message, fields)

    if not alert_department_ready(integration):
        return no_department_response()

    delivery = delivery_receive(
        adapter=adapter,
        body=body,
        content_type=request.content_type or "",
        headers=kept_headers(request.META),
        client_ip=client_ip(request),
        integration=integration,
        api_key=api_key,
    )
    return accepted_response(delivery.pk)


def accepted_response(delivery_id: int) -> HttpResponse:
    """202 with `{"status": "accepted", "delivery": <id>}`, the bytes JsonResponse would write.

    Every acknowledged webhook answers this: written by hand it skips JsonResponse's JSON encoder
    object and its extra header checks, which cost more than the rest of the reply.
    """
    body = b'{"status": "accepted", "delivery": %d}' % delivery_id
    return HttpResponse(body, content_type="application/json", status=202)


def no_department_response() -> JsonResponse:
    """503 + Retry-After: the install is not ready for alerts. A 5xx, not a 4xx, because the request
    is fine and senders (Alertmanager, Grafana, Splunk's retries, thehive4py users' loops) retry a 5xx:
    the alert arrives once an administrator has created a department, instead of being dropped."""
    return error_response(
        503,
        "no_department",
        NO_DEPARTMENT,
        headers={"Retry-After": str(NO_DEPARTMENT_RETRY_SECONDS)},
    )


def _too_big(limit: int) -> JsonResponse:
    return error_response(
        413,
        "too_large",
        f"The body is larger than the {limit} bytes this server accepts; send smaller batches.",
    )


def _integration_for_key(request: HttpRequest, adapter: str) -> Integration | JsonResponse | None:
    """With a key, `?integration=<name>` picks the integration; else the adapter's oldest enabled one."""
    # Without a query string there is no name to read: request.GET would build a QueryDict (and its
    # parser) on every webhook for nothing.
    name = request.GET.get("integration", "").strip() if request.META.get("QUERY_STRING") else ""
    try:
        return integration_for_key_request(adapter, name)
    except NotFound as exc:
        return error_response(404, "not_found", exc.message)


def _signature_problem(request: HttpRequest, body: bytes, integration: Integration) -> str:
    """'' when the HMAC-SHA256 of the raw body (or '<timestamp>:<body>') matches, else what is wrong."""
    header = integration.hmac_header or GRAFANA_SIGNATURE_HEADER
    sent = request.headers.get(header, "").strip()
    if not sent and header == GRAFANA_SIGNATURE_HEADER:
        sent = request.headers.get(GRAFANA_SIGNATURE_HEADER_ALT, "").strip()
    if not sent:
        return f"The {header} signature header is missing; this integration requires signed requests."
    if sent.lower().startswith("sha256="):
        sent = sent[7:]
    signed = body
    if integration.hmac_timestamp_header:
        stamp = request.headers.get(integration.hmac_timestamp_header, "").strip()
        if not stamp.isdigit():
            return f"The {integration.hmac_timestamp_header} timestamp header is missing or not a number."
        if abs(time.time() - int(stamp)) > SIGNATURE_MAX_AGE:
            return "The signed timestamp is over 5 minutes away from this server's clock; check both clocks."
        signed = stamp.encode() + b":" + body
    expected = hmac.new(integration.hmac_secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sent.lower()):
        return f"The {header} signature does not match the body; check the secret on both sides."
    return ""


# --- observables panel -------------------------------------------------------------------------------


def _ticket(request: HttpRequest, number: str):
    agent = getattr(request.user, "agent", None)
    if agent is None:
        raise Http404("Not an agent.")
    try:
        return ticket_get_for_agent(agent, number)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _panel(
    request: HttpRequest, ticket, *, error: str = "", notice: str = "", status: int = 200
) -> HttpResponse:
    agent = cast("User", request.user).agent  # behind the agent login: never AnonymousUser
    rows = ticket_observable_rows(ticket, agent)
    context = {"ticket": ticket, "rows": rows, "error": error, "notice": notice}
    return render(request, "alerts/observables_panel.html", context, status=status)


@login_required
@require_GET
def observables_panel(request: HttpRequest, number: str) -> HttpResponse:
    """GET /tickets/<number>/observables: the panel HTML (swapped in by htmx)."""
    return _panel(request, _ticket(request, number))


@login_required
@require_POST
def observable_add(request: HttpRequest, number: str) -> HttpResponse:
    """POST /tickets/<number>/observables/add: one value or a list (commas, spaces, new lines)."""
    ticket = _ticket(request, number)
    try:
        result = ticket_observables_add_list(
            actor=Actor.for_request(request),
            ticket=ticket,
            type=request.POST.get("type", "") or "auto",
            values=request.POST.get("value", ""),
            ioc=request.POST.get("ioc") in ("on", "1", "true"),
        )
    except ServiceError as exc:
        return _service_error(request, ticket, exc)
    # Some entries of a list may be refused while the others are added: say both.
    notice = result.message if (result.invalid or result.already) else ""
    return _panel(request, ticket, notice=notice)


@login_required
@require_POST
def observable_remove(request: HttpRequest, number: str, link_id: int) -> HttpResponse:
    ticket = _ticket(request, number)
    try:
        ticket_observable_remove(actor=Actor.for_request(request), ticket=ticket, link_id=link_id)
    except ServiceError as exc:
        return _service_error(request, ticket, exc)
    return _panel(request, ticket)


@login_required
@require_POST
def observable_flag(request: HttpRequest, number: str, link_id: int) -> HttpResponse:
    ticket = _ticket(request, number)
    try:
        ticket_observable_flag(
            actor=Actor.for_request(request),
            ticket=ticket,
            link_id=link_id,
            flag=request.POST.get("flag", ""),
            on=request.POST.get("on") in ("on", "1", "true"),
        )
    except ServiceError as exc:
        return _service_error(request, ticket, exc)
    return _panel(request, ticket)


def _service_error(request, ticket, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    status = 403 if exc.code == "forbidden" else 400
    # htmx leaves 4xx bodies unswapped unless told: HX-Reswap is that signal (socdesk/static/socdesk/app.js),
    # so the panel shows the sentence instead of the request failing silently.
    response = _panel(request, ticket, error=exc.message, status=status)
    response["HX-Reswap"] = "outerHTML"
    return response
