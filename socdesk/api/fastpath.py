"""A short way in for machine-facing POSTs: straight to their view, around Django's middleware.

A flood of alerts is thousands of small POSTs a second to /api/v1/hooks/..., and tools opening
tickets through the osTicket-compatible API send bursts too. Django's request cycle (URL resolving,
nine middleware, each with its own work) costs more CPU than either view. Neither needs any of it:
both are CSRF-exempt, read no session or user, set no cookie and answer JSON or plain text. So the
WSGI application sends these requests to the same view functions directly, with Django's
request_started/request_finished signals (which manage database connections), and every other
request through Django as usual. The views, and so the behaviour, are the ones the test client
and `runserver` reach through the URLconf.
"""

from __future__ import annotations

import logging
import re

from django.core import signals
from django.core.handlers.wsgi import WSGIRequest, get_path_info
from django.http import HttpResponse

from socdesk.alerts.views import hook
from socdesk.api.errors import error_response
from socdesk.api.osticket import create_ticket

log = logging.getLogger("django.request")


def _hook_crashed() -> HttpResponse:
    return error_response(
        500, "server_error", "The delivery could not be stored; it was not accepted. Retry it."
    )


def _ticket_crashed() -> HttpResponse:
    return HttpResponse(
        "The ticket could not be created because of a server error. Retry it.",
        status=500,
        content_type="text/plain; charset=utf-8",
    )


# The same paths as the URLconf (socdesk/alerts/urls.py and socdesk/urls.py): the path, its methods,
# its view and the answer when the view crashes.
ROUTES = (
    (
        re.compile(r"/api/v1/hooks/(?P<adapter>[^/]+)(?:/(?P<token>[^/]+))?"),
        ("POST", "PUT"),
        hook,
        _hook_crashed,
    ),
    (
        re.compile(r"/api/(?:http\.php/)?tickets\.(?P<fmt>json|xml|email)"),
        ("POST",),
        create_ticket,
        _ticket_crashed,
    ),
)


class MachineFastPath:
    """WSGI middleware: the POSTs of ROUTES go to their views, everything else to Django."""

    def __init__(self, django_app):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method not in ("POST", "PUT") or not environ.get("PATH_INFO", "").startswith("/api/"):
            return self.django_app(environ, start_response)
        path = get_path_info(environ)  # decoded as Django decodes it
        for pattern, methods, view, crashed in ROUTES:
            if method in methods and (match := pattern.fullmatch(path)):
                return self._serve(environ, start_response, view, match.groupdict(), crashed)
        return self.django_app(environ, start_response)

    def _serve(self, environ, start_response, view, kwargs, crashed):
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        try:
            response = view(request, **kwargs)
        except Exception:
            log.exception("Internal Server Error: %s", request.path, extra={"status_code": 500})
            response = crashed()
        return _send(response, start_response)


def _send(response: HttpResponse, start_response):
    """Hand a finished response to the server; closing it sends request_finished (as Django does)."""
    response_headers = [
        *response.items(),
        ("X-Content-Type-Options", "nosniff"),  # what SecurityMiddleware adds to every response
        *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
    ]
    start_response(f"{response.status_code} {response.reason_phrase}", response_headers)
    body = response.content
    response.close()
    return [body]
