"""A short way in for webhook deliveries: straight to the hook view, around Django's middleware.

A flood of alerts is thousands of small POSTs a second to /api/v1/hooks/..., and Django's request
cycle (URL resolving, nine middleware, each with its own work) costs more CPU than the view does.
The hook view needs none of it: it is CSRF-exempt, reads no session or user, sets no cookie and
answers JSON. So the WSGI application sends webhook requests to the same view function directly,
with Django's request_started/request_finished signals (which manage database connections), and
every other request through Django as usual. The view, and so the behaviour, is the one the
test client and `runserver` reach through the URLconf.
"""

from __future__ import annotations

import logging
import re

from django.core import signals
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse

from socdesk.alerts.views import hook
from socdesk.api.errors import error_response

log = logging.getLogger("django.request")

# The same paths as socdesk/alerts/urls.py: /api/v1/hooks/<adapter> and /api/v1/hooks/<adapter>/<token>.
HOOK_PATH = re.compile(r"/api/v1/hooks/(?P<adapter>[^/]+)(?:/(?P<token>[^/]+))?")


class HookFastPath:
    """WSGI middleware: webhook POST/PUT requests go to the hook view, everything else to Django."""

    def __init__(self, django_app):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("POST", "PUT") or not environ.get(
            "PATH_INFO", ""
        ).startswith("/api/v1/hooks/"):
            return self.django_app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        match = HOOK_PATH.fullmatch(request.path_info)
        if match is None:  # not a hook URL after all: let the URLconf answer (404 and friends)
            signals.request_finished.send(sender=self.__class__)
            return self.django_app(environ, start_response)
        try:
            response = hook(request, **match.groupdict())
        except Exception:
            log.exception("Internal Server Error: %s", request.path, extra={"status_code": 500})
            response = error_response(
                500, "server_error", "The delivery could not be stored; it was not accepted. Retry it."
            )
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
