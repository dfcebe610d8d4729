"""Saved searches of the calling agent (personal token or console session): list, create, delete.

The same services and selector as the console: own searches and those shared with the agent's
departments are listed with their counts; another department's search is a 404.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from socdesk.accounts.models import Department
from socdesk.api.v1.schemas import DbId, ErrorOut
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import NotFound, PermissionDenied
from socdesk.tickets import services
from socdesk.tickets.models import SavedSearch
from socdesk.tickets.saved_searches import saved_search_counts
from socdesk.tickets.selectors import saved_search_get_for_agent, saved_searches_visible_to

router = Router(tags=["saved searches"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class SavedSearchIn(Schema):
    """A queue filter to keep: the console's query string (e.g. `queue=open&severity=critical`)."""

    name: str = Field(max_length=200, description="Shown as the tab and card title (at most 80 characters).")
    query: str = Field(
        default="",
        max_length=4000,
        description="The queue's query string; only the filter's parameters are kept, and a missing "
        "`queue` means the open tickets, as in the console.",
    )
    department_id: DbId | None = Field(
        default=None,
        description="Share with this department's agents (needs the share_queues permission there); "
        "empty: only you.",
    )


class SavedSearchRefOut(Schema):
    id: int
    name: str


class SavedSearchOwnerOut(Schema):
    id: int
    username: str
    name: str


class SavedSearchOut(Schema):
    id: int
    name: str
    query: str
    department: SavedSearchRefOut | None
    owner: SavedSearchOwnerOut
    position: int
    count: int = Field(description="Tickets it holds for you, counted up to SOCDESK_COUNT_CAP.")
    count_capped: bool = Field(description="True when counting stopped at the cap ('at least count').")
    tickets_url: str = Field(description="GET this for its tickets through the tickets list endpoint.")
    console_url: str
    created_at: datetime
    updated_at: datetime


class SavedSearchList(Schema):
    items: list[SavedSearchOut]


def _agent_caller(request) -> Caller:
    caller: Caller = request.auth
    if caller.agent is None:
        raise PermissionDenied(
            "Saved searches belong to agents, and this key is not an agent's personal token; "
            "use one of your personal tokens or sign in to the console."
        )
    return caller


def saved_search_out(saved: SavedSearch, count: tuple[int, bool]) -> dict:
    owner = saved.owner
    department = saved.department
    return {
        "id": saved.pk,
        "name": saved.name,
        "query": saved.query,
        "department": department and {"id": department.pk, "name": department.name},
        "owner": {"id": owner.pk, "username": owner.user.get_username(), "name": owner.name},
        "position": saved.position,
        "count": count[0],
        "count_capped": count[1],
        "tickets_url": reverse("api-v1:ticket_list") + "?" + saved.query,
        "console_url": reverse("tickets:saved", args=[saved.pk]),
        "created_at": saved.created_at,
        "updated_at": saved.updated_at,
    }


@router.get(
    "/me/saved-searches",
    response={200: SavedSearchList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="saved_search_list",
    summary="List your saved searches and those shared with your departments",
)
def saved_search_list(request):
    """Your own saved searches, then those shared with a department where you hold a role, each with
    its ticket count (capped, as in the console)."""
    caller = _agent_caller(request)
    assert caller.agent is not None
    searches = list(saved_searches_visible_to(caller.agent))
    counts = saved_search_counts(caller.agent, searches)
    return {"items": [saved_search_out(s, counts[s.pk]) for s in searches]}


@router.post(
    "/me/saved-searches",
    response={201: SavedSearchOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="saved_search_create",
    summary="Save a queue filter, for yourself or shared with a department",
)
def saved_search_create(request, payload: SavedSearchIn):
    """Keep a filter under a name; it shows as a tab and a home card in the console."""
    caller = _agent_caller(request)
    assert caller.agent is not None
    department = None
    if payload.department_id is not None:
        department = Department.objects.filter(pk=payload.department_id).first()
        if department is None:
            raise NotFound(
                f"There is no department {payload.department_id}.", fields={"department_id": "not_found"}
            )
    saved = services.saved_search_create(
        actor=caller.actor, name=payload.name, query=payload.query, department=department
    )
    counts = saved_search_counts(caller.agent, [saved])
    return Status(201, saved_search_out(saved, counts[saved.pk]))


@router.delete(
    "/me/saved-searches/{saved_search_id}",
    response={204: None} | ERRORS,
    auth=requires("tickets:read"),
    url_name="saved_search_delete",
    summary="Delete a saved search",
)
def saved_search_delete(request, saved_search_id: DbId):
    """Delete one of your saved searches, or a shared one of a department where you may share."""
    caller = _agent_caller(request)
    assert caller.agent is not None
    saved = saved_search_get_for_agent(caller.agent, saved_search_id)
    services.saved_search_delete(actor=caller.actor, saved_search=saved)
    return Status(204, None)
