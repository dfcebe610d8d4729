"""Canned responses over REST: listed and read as the caller may see them, rendered for a ticket, and
managed by administrators (scope `admin`). Agents see the global ones and their departments'; a key that
is not an agent's sees the global ones and its department's. Their files are listed with `tickets:read`,
uploaded (multipart) and deleted by administrators, as in the admin area."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from socdesk.accounts.models import Department
from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import NotFound
from socdesk.mail.canned import (
    canned_attachment_delete,
    canned_attachments_add,
    canned_render,
    canned_response_create,
    canned_response_delete,
    canned_response_get_from,
    canned_response_update,
    canned_responses_for_key,
    canned_responses_visible_to,
)
from socdesk.mail.models import CannedAttachment, CannedResponse
from socdesk.tickets.attachments import IncomingFile, file_too_large

router = Router(tags=["canned responses"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class CannedFileOut(Schema):
    id: int
    filename: str
    size: int
    sha256: str
    content_type: str


class CannedFileList(Schema):
    items: list[CannedFileOut]


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


class RenderFor(QueryParams):
    ticket: str = Field(max_length=64, description="The ticket's number (SOC-1042).")


class CannedFilters(QueryParams):
    q: str = Field(default="", max_length=200, description="Words of the title or body.")
    department_id: DbId | None = Field(default=None, description="Only this department's.")


def _visible(caller: Caller) -> QuerySet[CannedResponse]:
    if caller.agent is not None:
        return canned_responses_visible_to(caller.agent)
    return canned_responses_for_key(caller.key.department if caller.key is not None else None)


def _file_out(a: CannedAttachment) -> dict:
    return {
        "id": a.pk,
        "filename": a.filename,
        "size": a.size,
        "sha256": a.sha256,
        "content_type": a.content_type,
    }


def _out(canned: CannedResponse) -> dict:
    department = canned.department
    return {
        "id": canned.pk,
        "title": canned.title,
        "body": canned.body,
        "department": department and {"id": department.pk, "name": department.name},
        "attachments": [_file_out(a) for a in canned.attachments.all()],
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
def canned_response_rendered(request, canned_id: DbId, params: Query[RenderFor]):
    """The body with the ticket's values (`?ticket=SOC-1042`); 404 for a ticket you cannot see or a
    response that is not for the ticket's department."""
    caller: Caller = request.auth
    found = caller.get_ticket(params.ticket)
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


@router.get(
    "/canned-responses/{canned_id}/attachments",
    response={200: CannedFileList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="canned_attachment_list",
    summary="List a canned response's files",
)
def canned_attachment_list(request, canned_id: DbId):
    """The files every reply using it carries, by name; 404 when the response is another department's."""
    canned = canned_response_get_from(_visible(request.auth), canned_id)
    return {"items": [_file_out(a) for a in canned.attachments.all()]}


@router.post(
    "/canned-responses/{canned_id}/attachments",
    response={201: CannedFileList} | ERRORS,
    auth=requires("admin"),
    url_name="canned_attachment_add",
    summary="Add files to a canned response (administrators)",
)
def canned_attachment_add(request, canned_id: DbId, files: File[list[UploadedFile]]):
    """multipart/form-data with one or more `files` parts. A file over SOCDESK_ATTACHMENT_MAX_BYTES is a
    400 and none of them is stored. Answers with the files added."""
    canned = canned_response_get_from(_visible(request.auth), canned_id)
    for upload in files:
        # Refused by the size the upload announces, before its bytes are read into memory.
        refusal = file_too_large(upload.name or "attachment", upload.size or 0)
        if refusal is not None:
            raise refusal
    incoming = [IncomingFile(upload.name or "attachment", upload.read()) for upload in files]
    stored = canned_attachments_add(actor=request.auth.actor, canned=canned, files=incoming)
    return Status(201, {"items": [_file_out(a) for a in stored]})


@router.delete(
    "/canned-responses/{canned_id}/attachments/{attachment_id}",
    response={204: None} | ERRORS,
    auth=requires("admin"),
    url_name="canned_attachment_delete",
    summary="Remove a file from a canned response (administrators)",
)
def canned_attachment_delete_endpoint(request, canned_id: DbId, attachment_id: DbId):
    canned = canned_response_get_from(_visible(request.auth), canned_id)
    canned_attachment_delete(actor=request.auth.actor, canned=canned, attachment_id=attachment_id)
    return Status(204, None)
