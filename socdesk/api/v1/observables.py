"""Observables: search (which visible tickets an IP, domain, hash... appears in) and adding them by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.urls import reverse
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from socdesk.alerts.choices import ObservableType
from socdesk.alerts.selectors import TICKETS_PER_OBSERVABLE, observables_search
from socdesk.alerts.ticket_observables import ticket_observables_add_list
from socdesk.api.v1.schemas import ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text

router = Router(tags=["observables"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}


class ObservableOut(Schema):
    id: int
    type: ObservableType
    value: str
    ioc: bool = Field(description="Flagged as an IOC on at least one of the tickets you may see.")
    sighted: bool = Field(description="Marked sighted on at least one of the tickets you may see.")
    first_seen: datetime = Field(description="First seen on a ticket you may see (added, or in its alerts).")
    last_seen: datetime = Field(description="Last seen on a ticket you may see (added, or in its alerts).")
    ticket_count: int = Field(description="How many of the tickets you may see it appears in.")
    tickets: list[str] = Field(description=f"The newest {TICKETS_PER_OBSERVABLE} of those ticket numbers.")
    tickets_url: str = Field(description="The ticket list filtered to this observable.")


class ObservableList(Schema):
    items: list[ObservableOut]


class ObservableParams(QueryParams):
    type: ObservableType | None = None
    value: str | None = Field(None, max_length=2048, description="Exact value (refanged, normalised).")
    q: str | None = Field(None, max_length=200, description="Part of the value.")
    limit: int = Field(50, ge=1, le=200)


@router.get(
    "/observables",
    response={200: ObservableList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="observable_search",
    summary="Search observables",
)
def observable_search(request, params: Query[ObservableParams]):
    """Observables on tickets you may see, by type, exact value or part of the value, each with the
    tickets it appears in (only tickets you may see). Scope: tickets:read."""
    caller: Caller = request.auth
    value = clean_text(params.value or "").strip()
    q = clean_text(params.q or "").strip()
    if not (params.type or value or q):
        raise ServiceError(
            "Say what to look for: ?value= (an exact IP, domain, hash...), ?q= (part of one) or ?type=.",
            fields={"value": "required"},
        )
    hits = observables_search(
        caller.visible_tickets(), type=params.type or "", value=value, q=q, limit=params.limit
    )
    tickets_url = reverse("api-v1:ticket_list")
    return {
        "items": [
            {
                "id": hit.observable.pk,
                "type": hit.observable.type,
                "value": hit.observable.value,
                "ioc": hit.ioc,
                "sighted": hit.sighted,
                "first_seen": hit.first_seen,
                "last_seen": hit.last_seen,
                "ticket_count": hit.ticket_count,
                "tickets": hit.tickets,
                "tickets_url": f"{tickets_url}?observable={hit.observable.pk}",
            }
            for hit in hits
        ]
    }


# --- adding by hand ----------------------------------------------------------------------------------

AddType = Literal[
    "auto",
    "ip",
    "domain",
    "hostname",
    "url",
    "email",
    "hash",
    "md5",
    "sha1",
    "sha256",
    "cve",
    "user",
    "filename",
    "other",
]


class ObservablesAddIn(InputSchema):
    values: str = Field(
        min_length=1,
        max_length=20_000,
        description="One value or a list separated by commas, spaces or new lines, defanged or not "
        "(hxxp://, [.], [@]).",
    )
    type: AddType = Field("auto", description="auto: each value typed by itself; otherwise all of this type.")
    ioc: bool = Field(False, description="Flag the values added as IOCs on this ticket.")


class ObservablePair(Schema):
    type: ObservableType
    value: str


class ObservablesAddOut(Schema):
    added: list[ObservablePair] = Field(description="Added to the ticket, typed and normalised.")
    already: list[str] = Field(description="Valid values that were on the ticket already.")
    not_valid: list[str] = Field(description="Entries that are not a valid value, as sent.")
    message: str


@router.post(
    "/tickets/{number}/observables",
    response={201: ObservablesAddOut} | ERRORS | {404: ErrorOut},
    auth=requires("tickets:write"),
    url_name="ticket_observables_add",
    summary="Add observables to a ticket",
)
def ticket_observables_add(request, number: str, payload: ObservablesAddIn):
    """Add one or more observables to a ticket you may see: the valid ones are added (one audit event)
    and the others named in `not_valid`; a 400 when none is valid or all are there already.
    Scope: tickets:write."""
    caller: Caller = request.auth
    result = ticket_observables_add_list(
        actor=caller.actor,
        ticket=caller.get_ticket(number),
        values=payload.values,
        type=payload.type,
        ioc=payload.ioc,
    )
    return Reply(
        201,
        {
            "added": [{"type": o.observable.type, "value": o.observable.value} for o in result.added],
            "already": result.already,
            "not_valid": result.invalid,
            "message": result.message,
        },
    )
