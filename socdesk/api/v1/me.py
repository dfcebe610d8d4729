"""The calling agent's own availability: available (auto-assignment may give them new tickets) or away."""

from __future__ import annotations

from ninja import Router

from socdesk.accounts.models import Agent
from socdesk.accounts.services import agent_set_availability
from socdesk.api.v1.schemas import AvailabilityIn, AvailabilityOut, ErrorOut
from socdesk.api.v1.security import ANY_SCOPE, Caller, requires
from socdesk.core.errors import PermissionDenied

router = Router(tags=["me"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}


def _own_agent(request) -> tuple[Caller, Agent]:
    caller: Caller = request.auth
    if caller.agent is None:
        raise PermissionDenied(
            "Availability belongs to an agent, and this key is not an agent's personal token; "
            "sign in to the console or use one of your personal tokens."
        )
    return caller, caller.agent


def _out(agent: Agent) -> dict:
    return {"available": agent.available, "changed_at": agent.available_changed_at}


@router.get(
    "/me/availability",
    response={200: AvailabilityOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="me_availability",
    summary="Your availability (available or away)",
)
def availability_get(request):
    """Whether auto-assignment may give you new tickets (the console's top-bar switch)."""
    _caller, agent = _own_agent(request)
    return _out(agent)


@router.put(
    "/me/availability",
    response={200: AvailabilityOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="me_availability_set",
    summary="Set yourself available or away",
)
def availability_set(request, payload: AvailabilityIn):
    """Away: auto-assignment gives you no new tickets (you keep yours). Audited
    (`agent.availability_changed`); setting the state you already have changes nothing."""
    caller, agent = _own_agent(request)
    return _out(agent_set_availability(actor=caller.actor, agent=agent, available=payload.available))
