"""The agent's availability switch in the top bar: available (auto-assignment may give them new tickets)
or away (it gives them none). htmx swaps the switch in place; without JavaScript the form posts and
comes back to the page it was on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from socdesk.accounts.services import agent_set_availability
from socdesk.accounts.web import agent_view


@require_POST
@agent_view
def availability_view(request: HttpRequest) -> HttpResponse:
    """POST /account/availability (`available` = 1 or 0): set the signed-in agent's own availability."""
    wanted = request.POST.get("available")
    if wanted not in ("0", "1"):
        return HttpResponse(
            "Send available=1 (available) or available=0 (away).", status=400, content_type="text/plain"
        )
    agent = agent_set_availability(
        actor=request.actor,  # type: ignore[attr-defined]
        agent=request.agent,  # type: ignore[attr-defined]
        available=wanted == "1",
    )
    if request.headers.get("HX-Request"):
        return render(request, "accounts/_availability.html", {"availability_agent": agent})
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)
