"""Canned responses over REST: listed and read as the caller may see them, rendered for a ticket, and
managed by administrators (scope `admin`). Agents see the global ones and their departments'; a key that
is not an agent's sees the global ones and its department's. Files are added in the admin area."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from ninja import Query, Router, Schema, Status
from pydantic import Field

from socdesk.accounts.models import Department
from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import NotFound
from socdesk.mail.canned import (
    canned_render,
    canned_response_create,
    canned_response_delete,
    canned_response_get_from,
    canned_response_update,
    canned_responses_for_key,
    canned_responses_visible_to,
)
from socdesk.mail.models import CannedResponse

router = Router(tags=["canned responses"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class CannedFileOut(Schema):
    id: int
    filename: str
    size: int
    sha256: str
    content_type: str


class CannedDepartmentOut(Schema):
    id: int
    name: str


class CannedResponseOut(Schema):
    id: int
    title: str
    body: str = Field(description="The template: Django syntax over the mail templates' variables.")
    department: CannedDepartmentOut | None = Field(description="None: every department's tickets.")
    attachments: list[CannedFileOut]
    created_at: datetime
    updated_at: datetime


class CannedResponseList(Schema):
    items: list[CannedResponseOut]


class CannedRenderedOut(Schema):
    id: int
    ticket: str
    text: str = Field(description="The body with the ticket's values filled in.")


class CannedResponseIn(InputSchema):
    title: str = Field(max_length=400)
    body: str = Field(max_length=40_000)
    department_id: DbId | None = Field(default=None, description="Empty: for every department.")


class CannedFilters(QueryParams):
    q: str = Field(default="", max_length=200, description="Words of the title or body.")
    department_id: DbId | None = Field(default=None, description="Only this department's.")


def _visible(caller: Caller) -> QuerySet[CannedResponse]:
    if caller.agent is not None:
        return canned_responses_visible_to(caller.agent)
    return canned_responses_for_key(caller.key.department if caller.key is not None else None)


def _out(canned: CannedResponse) -> dict:
    department = canned.department
    return {
        "id": canned.pk,
        "title": canned.title,
        "body": canned.body,
        "department": department and {"id": department.pk, "name": department.name},
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "size": a.size,
                "sha256": a.sha256,
                "content_type": a.content_type,
            }
            for a in canned.attachments.all()
        ],
        "created_at": canned.created_at,
        "updated_at": canned.updated_at,
    }


def _department(department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise NotFound(f"There is no department {department_id}.", fields={"department_id": "not_found"})
    return department


@router.get(
    "/canned-responses",
    response={200: CannedResponseList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="canned_response_list",
    summary="List the canned responses you may use",
)
def canned_response_list(request, filters: Query[CannedFilters]):
    """The global canned responses and those of your departments (a key: its department's), by title."""
    qs = _visible(request.auth)
    if filters.department_id is not None:
        qs = qs.filter(department_id=filters.department_id)
    for word in filters.q.split()[:8]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return {"items": [_out(c) for c in qs[:500]]}


@router.get(
    "/canned-responses/{canned_id}",
    response={200: CannedResponseOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="canned_response_get",
    summary="Read one canned response",
)
def canned_response_get(request, canned_id: DbId):
    """One canned response; 404 when it is another department's."""
    return _out(canned_response_get_from(_visible(request.auth), canned_id))


@router.get(
    "/canned-responses/{canned_id}/rendered",
    response={200: CannedRenderedOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="canned_response_rendered",
    summary="Render a canned response for a ticket",
)
def canned_response_rendered(request, canned_id: DbId, ticket: str):
    """The body with the ticket's values (`?ticket=SOC-1042`); 404 for a ticket you cannot see or a
    response that is not for the ticket's department."""
    caller: Caller = request.auth
    found = caller.get_ticket(ticket)
    qs = _visible(caller).filter(Q(department__isnull=True) | Q(department_id=found.department_id))
    canned = canned_response_get_from(qs, canned_id)
    return {"id": canned.pk, "ticket": found.number, "text": canned_render(canned, found, agent=caller.agent)}


@router.post(
    "/canned-responses",
    response={201: CannedResponseOut} | ERRORS,
    auth=requires("admin"),
    url_name="canned_response_create",
    summary="Add a canned response (administrators)",
)
def canned_response_create_endpoint(request, payload: CannedResponseIn):
    """A template error is a 400 naming the line; nothing is written."""
    canned = canned_response_create(
        actor=request.auth.actor,
        title=payload.title,
        body=payload.body,
        department=_department(payload.department_id),
    )
    return Status(201, _out(canned))


@router.put(
    "/canned-responses/{canned_id}",
    response={200: CannedResponseOut} | ERRORS,
    auth=requires("admin"),
    url_name="canned_response_update",
    summary="Change a canned response (administrators)",
)
def canned_response_update_endpoint(request, canned_id: DbId, payload: CannedResponseIn):
    """Title, body and department; its files stay."""
    canned = canned_response_get_from(_visible(request.auth), canned_id)
    canned = canned_response_update(
        actor=request.auth.actor,
        canned=canned,
        title=payload.title,
        body=payload.body,
        department=_department(payload.department_id),
    )
    return _out(CannedResponse.objects.prefetch_related("attachments").get(pk=canned.pk))


@router.delete(
    "/canned-responses/{canned_id}",
    response={204: None} | ERRORS,
    auth=requires("admin"),
    url_name="canned_response_delete",
    summary="Delete a canned response (administrators)",
)
def canned_response_delete_endpoint(request, canned_id: DbId):
    canned = canned_response_get_from(_visible(request.auth), canned_id)
    canned_response_delete(actor=request.auth.actor, canned=canned)
    return Status(204, None)
