"""The v1 NinjaAPI: routers per domain, auth, and one error shape for everything under /api/v1/.

New domains (alerts, observables, integrations, TheHive-compatible endpoints) add a router module
next to tickets.py and one `api.add_router` line below.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from socdesk.accounts.keyauth import ApiAuthError, RateLimited
from socdesk.api.v1 import (
    alerts,
    canned,
    cases,
    collaborators,
    deliveries,
    exports,
    integrations,
    kb,
    links,
    me,
    metrics,
    notifications,
    observables,
    saved_searches,
    thehive,
    tickets,
    tokens,
)
from socdesk.core import json_input
from socdesk.core.errors import ServiceError
from socdesk.core.json_errors import error_response, service_error_response

log = logging.getLogger("socdesk.api")


class StorableJsonParser(Parser):
    """Request bodies parsed as every entry point parses them: numbers the databases cannot store
    (NaN, 1e400, over-long integers) are refused with a 400 before any endpoint runs."""

    def parse_body(self, request: HttpRequest) -> dict:
        return json_input.loads(request.body)


api = NinjaAPI(
    title="SOCdesk API",
    version="1",
    description=(
        "Tickets, threads, saved searches, notifications, alerts, observables, integrations, personal "
        "tokens, TheHive-compatible alert creation and the SOC dashboard's figures (/metrics/now, "
        "/metrics/period). Authenticate with an API key or personal token "
        "(`X-API-Key: KEY` or `Authorization: Bearer KEY`) or a console session. Errors always have "
        'the shape `{"error": {"code", "message", "fields"}}`. See docs/api.md.'
    ),
    urls_namespace="api-v1",
    parser=StorableJsonParser(),
    openapi_url="/openapi.json",
    # Swagger UI from our own static files (ninja's bundled copy, served because "ninja" is an
    # installed app): air-gapped SOCs have no CDN.
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
)
api.add_router("", exports.router)  # before tickets: /tickets/export is not a ticket number
api.add_router("", tickets.router)
api.add_router("", collaborators.router)
api.add_router("", links.router)
api.add_router("", cases.router)
api.add_router("", tokens.router)
api.add_router("", saved_searches.router)
api.add_router("", notifications.router)
api.add_router("", alerts.router)
api.add_router("", observables.router)
api.add_router("", integrations.router)
api.add_router("", deliveries.router)
api.add_router("", thehive.router)
api.add_router("", me.router)
api.add_router("", canned.router)
api.add_router("", kb.router)
api.add_router("", metrics.router)

AUTH_HELP = (
    "Authentication required: send an API key or personal token as X-API-Key: KEY or "
    "Authorization: Bearer KEY, or sign in to the console."
)


PARAM_NAMES = {"payload", "params"}


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """ninja answers 422 by default; we answer 400 naming each field and its problem."""
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = list(err.get("loc", ()))
        where = loc.pop(0) if loc else "body"
        # ninja puts the endpoint's parameter name next; our endpoints call them payload / params.
        if loc and loc[0] in PARAM_NAMES:
            loc.pop(0)
        if where == "query":  # ?tag=a&tag=b: name the parameter, not its position in the list
            loc = [part for part in loc if not isinstance(part, int)]
        loc = [str(part) for part in loc]
        name = ".".join(loc) or "body"
        fields.setdefault(name, str(err.get("msg", "is invalid")).removeprefix("Value error, "))
    message = "Check these fields: " + "; ".join(f"{name}: {msg}" for name, msg in fields.items()) + "."
    return error_response(400, "invalid", message, fields)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "unauthorized", AUTH_HELP, headers={"WWW-Authenticate": "Bearer"})


@api.exception_handler(ApiAuthError)
def on_api_auth_error(request: HttpRequest, exc: ApiAuthError) -> HttpResponse:
    if exc.status != 401:
        return error_response(exc.status, exc.code, exc.message)
    message = f"{exc.message}: the key is unknown, revoked or expired, or not allowed from your address."
    headers = {"WWW-Authenticate": "Bearer"}
    return error_response(exc.status, exc.code, message, headers=headers)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return service_error_response(exc)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return error_response(429, "rate_limited", exc.message, headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        413,
        "too_large",
        f"The request body is larger than the {limit:,}-byte limit (SOCDESK_MAX_BODY_BYTES); send less.",
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, RequestDataTooBig):
        return on_too_big(request, cause)
    if isinstance(cause, json_input.UnstorableNumber):
        return error_response(400, "unstorable_number", cause.message, {"body": "unstorable_number"})
    if isinstance(cause, json.JSONDecodeError):
        return error_response(
            400,
            "malformed_json",
            f"The request body is not valid JSON: {cause.msg} at line {cause.lineno}, column {cause.colno} "
            f"(character {cause.pos}).",
            {"body": f"line {cause.lineno}, column {cause.colno}"},
        )
    if isinstance(cause, UnicodeDecodeError):
        return error_response(
            400,
            "malformed_json",
            f"The request body is not UTF-8 text: invalid byte at position {cause.start}.",
            {"body": f"byte {cause.start}"},
        )
    codes = {
        400: "invalid",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        429: "rate_limited",
    }
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return not_found(request)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(
        500,
        "server_error",
        "Something went wrong on the server; nothing was changed. The error is logged; "
        "if it persists, tell your SOCdesk administrator.",
    )


def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Unknown paths under /api/v1/ answer JSON too."""
    return error_response(
        404, "not_found", f"There is no API endpoint at {request.path}; see /api/v1/docs for the list."
    )


def _json_405(view):
    """ninja answers a wrong method with a bare text 405; give it the house shape and keep Allow."""

    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed or 'another method'}.",
                headers={"Allow": allowed},
            )
        return response

    # Django reads csrf_exempt off the view function; a function's attributes are not typed.
    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    return wrapped


def view(url_name: str):
    """The view of one v1 operation, for mounting it at a second path outside /api/v1/ as well."""
    for pattern in urls()[0]:
        if isinstance(pattern, URLPattern) and pattern.name == url_name:
            return pattern.callback
    raise LookupError(url_name)


def urls():
    """The v1 URL patterns, to be mounted at /api/v1/ (see socdesk/urls.py)."""
    patterns, app_name, namespace = api.urls
    wrapped = []
    for p in patterns:
        if isinstance(p, URLPattern):
            # ninja's root view raises Http404 outside the API (an HTML page): answer JSON instead.
            callback = not_found if p.name == "api-root" else _json_405(p.callback)
            p = URLPattern(p.pattern, callback, p.default_args, p.name)
        wrapped.append(p)
    return wrapped, app_name, namespace
