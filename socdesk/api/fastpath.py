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
import time

from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_path_info
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware

from socdesk.alerts.views import hook
from socdesk.api.osticket import create_ticket, text
from socdesk.core.bodies import read_streamed_body
from socdesk.core.json_errors import error_response
from socdesk.core.request_metrics import request_observed

log = logging.getLogger("django.request")
security_log = logging.getLogger("django.security.DisallowedHost")


def _no_response(request):  # SecurityMiddleware wants a next handler; the view is called here instead
    return None


def _hook_error(status: int, code: str, message: str) -> HttpResponse:
    return error_response(status, code, message)


def _ticket_error(status: int, code: str, message: str) -> HttpResponse:
    return text(status, message)


# The same paths as the URLconf (socdesk/alerts/urls.py and socdesk/urls.py): the path, its methods,
# its view, how it answers an error in its own format (JSON for hooks, text for osTicket), and its
# route group in /metrics (the one socdesk.core.request_metrics gives it on Django's way).
ROUTES = (
    (
        re.compile(r"/api/v1/hooks/(?P<adapter>[^/]+)(?:/(?P<token>[^/]+))?"),
        ("POST", "PUT"),
        hook,
        _hook_error,
        "webhooks",
    ),
    (
        re.compile(r"/api/(?:http\.php/)?tickets\.(?P<fmt>json|xml|email)"),
        ("POST",),
        create_ticket,
        _ticket_error,
        "osticket",
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
        for pattern, methods, view, error, group in ROUTES:
            if method in methods and (match := pattern.fullmatch(path)):
                return self._serve(environ, start_response, view, match.groupdict(), error, group)
        return self.django_app(environ, start_response)

    def _serve(self, environ, start_response, view, kwargs, error, group):
        started = time.perf_counter()
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        # What the short way keeps of the middleware: the HTTPS redirect and security headers, the
        # ALLOWED_HOSTS check and chunked bodies read within the limit (the rest reads sessions,
        # users, CSRF tokens and messages; these views use none).
        _security = _security_middleware()
        try:
            request.get_host()  # the ALLOWED_HOSTS check CommonMiddleware makes
            read_streamed_body(request)  # what StreamedBodyMiddleware does on Django's way
            response = _security.process_request(request) or view(request, **kwargs)
        except DisallowedHost as exc:
            security_log.error(str(exc))
            response = error(400, "bad_request", "This server does not answer for that Host header.")
        except Exception:
            log.exception("Internal Server Error: %s", request.path, extra={"status_code": 500})
            response = error(
                500,
                "server_error",
                "The server failed before keeping this request; nothing was stored. Retry it.",
            )
        response = _security.process_response(request, response)
        request_observed(group, request, response, time.perf_counter() - started)
        return _send(response, start_response)


_security_instance: SecurityMiddleware | None = None


def _security_middleware() -> SecurityMiddleware:
    """One SecurityMiddleware per process, as Django makes one per process; it reads its settings
    when made, so a settings change (tests' override_settings) makes it again."""
    global _security_instance
    if _security_instance is None:
        _security_instance = SecurityMiddleware(_no_response)
    return _security_instance


@receiver(setting_changed, dispatch_uid="socdesk-fastpath-security-settings")
def _forget_security_middleware(**_kwargs) -> None:
    global _security_instance
    _security_instance = None


def _send(response: HttpResponse, start_response):
    """Hand a finished response to the server; closing it sends request_finished (as Django does)."""
    response_headers = [
        *response.items(),
        *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
    ]
    start_response(f"{response.status_code} {response.reason_phrase}", response_headers)
    body = response.content
    response.close()
    return [body]
