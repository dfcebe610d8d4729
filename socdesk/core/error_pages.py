"""Error pages in the console's style: 403, 404, 405 and 500 say what happened and where to go next.

Nothing internal is ever shown (no exception text, no stack trace, no SQL): the 404 and 403 messages a
view raises can name internals, so the pages use their own sentences. Paths under /api/ answer in the
API's JSON error shape instead, since their callers are programs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils import timezone

from socdesk.core.json_errors import error_response

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the same page for a missing object and one the agent may not see."""
    if _is_api(request):
        return error_response(404, "not_found", f"There is nothing at {request.path}.")
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: a refusal without the reason's internals."""
    if _is_api(request):
        return error_response(403, "forbidden", "This key or account may not do this.")
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: most often a form left open across a sign-out or a server restart."""
    return render(request, "403_csrf.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: rendered without the request's context, since the failure may be the database itself."""
    if _is_api(request):
        return error_response(
            500,
            "server_error",
            "The server failed to answer; the error is logged. Try again, and tell your administrator "
            "if it keeps happening.",
        )
    when = timezone.now().strftime("%Y-%m-%d %H:%M:%S UTC")
    return HttpResponseServerError(loader.get_template("500.html").render({"when": when}))


def _page_above(path: str) -> str:
    """The nearest page above an action's address (/tickets/SOC-1/severity -> /tickets/SOC-1/), else /."""
    parts = path.strip("/").split("/")[:-1]
    while parts:
        base = "/" + "/".join(parts)
        for candidate in (base + "/", base):
            try:
                resolve(candidate)
            except Resolver404:
                continue
            return candidate
        parts.pop()
    return "/"


class MethodNotAllowedPageMiddleware:
    """A GET on an address that only takes POST (a ticket action, a bulk change, a retry) explains itself.

    Django answers such a request with an empty 405; a person who reloaded a result page or followed a
    pasted address sees a page saying the action runs from its button, with a link back. The Allow
    header stays. API paths and any 405 that already has a body are left as they are.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or _is_api(request)
            or request.method not in ("GET", "HEAD")
            or getattr(response, "streaming", False)
            or response.content
        ):
            return response
        page = render(request, "405.html", {"back": _page_above(request.path)}, status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
