"""Counting and timing every HTTP request for /metrics, per route group (docs/metrics.md).

Labels stay few on purpose (Prometheus keeps one series per label combination): the route group comes
from the URL pattern that answered, never from the path itself (a ticket number or a webhook token in
a label would make a series per ticket), the method from a fixed list, the status as its class.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from socdesk.core.metrics import HTTP_DURATION, HTTP_REQUESTS, labelled

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# URL names whose group is not their path's: osTicket's own paths under /api/, TheHive's legacy one.
GROUP_BY_URL_NAME = {"osticket-create": "osticket", "thehive-legacy-alert": "api_v1"}
# Pattern prefixes, most specific first; anything else an agent's browser asks for is the console.
GROUP_BY_ROUTE = (
    ("api/v1/hooks/", "webhooks"),
    ("api/v1/", "api_v1"),
    ("admin/", "admin"),
    ("metrics", "metrics"),
    ("healthz", "healthz"),
)


def route_group(request: HttpRequest) -> str:
    """The route group a request was answered by: webhooks, api_v1, osticket, console, static..."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Static files are answered by WhiteNoise before any URL is resolved.
        if request.path.startswith(settings.STATIC_URL or "/static/"):
            return "static"
        return "unmatched"
    if match.url_name in GROUP_BY_URL_NAME:
        return GROUP_BY_URL_NAME[match.url_name]
    route = match.route.lstrip("^")
    for prefix, group in GROUP_BY_ROUTE:
        if route.startswith(prefix):
            return group
    return "console"


class RequestMetricsMiddleware:
    """Counts each request (`socdesk_http_requests_total`) and times it (`..._duration_seconds`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        request_observed(route_group(request), request, response, time.perf_counter() - started)
        return response


def request_observed(group: str, request: HttpRequest, response: HttpResponseBase, seconds: float) -> None:
    """Count and time one answered request (also called by the WSGI short way, socdesk.api.fastpath)."""
    method = request.method if request.method in METHODS else "other"
    labelled(HTTP_REQUESTS, group=group, method=method, status=f"{response.status_code // 100}xx").inc()
    labelled(HTTP_DURATION, group=group, method=method).observe(seconds)
