"""Canned responses: ready-made replies with ticket variables, per department or for every department.

The body is a plain-text template of the mail templates' sandboxed engine (socdesk.mail.mail_templates:
the same documented variables, no loaders, no libraries), checked at save so a broken one is refused
with its line. An agent inserts one in the composer (rendered on the server for that ticket); a ticket
filter's "reply with canned response" sends one through the ticket services (socdesk.mail.canned_replies).
Who sees which: global ones and those of the departments whose tickets the agent sees; for a ticket,
the global ones and those of the ticket's department. See docs/console.md ("Canned responses").
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from socdesk.accounts.models import Agent, Department
from socdesk.accounts.selectors import visible_department_ids
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.core.text import clean_text
from socdesk.mail.mail_templates import context_for, text_check, text_render
from socdesk.mail.models import CannedAttachment, CannedResponse
from socdesk.tickets.attachments import IncomingFile, check_files, sniff_content_type
from socdesk.tickets.models import Ticket

TITLE_MAX = 200
BODY_MAX = 20_000

# --- selectors ------------------------------------------------------------------------------------------


def canned_responses_visible_to(agent: Agent) -> QuerySet[CannedResponse]:
    """The global canned responses and those of the departments whose tickets the agent sees."""
    qs = CannedResponse.objects.select_related("department").prefetch_related("attachments")
    departments = visible_department_ids(agent)
    if departments is None:
        return qs
    return qs.filter(Q(department__isnull=True) | Q(department_id__in=departments))


def canned_responses_for_key(department: Department | None) -> QuerySet[CannedResponse]:
    """What an API key that is not an agent's token sees: the global ones, and its department's."""
    qs = CannedResponse.objects.select_related("department").prefetch_related("attachments")
    wanted = Q(department__isnull=True)
    if department is not None:
        wanted |= Q(department=department)
    return qs.filter(wanted)


def canned_response_get_from(qs: QuerySet[CannedResponse], pk: int) -> CannedResponse:
    """One canned response of `qs`; NotFound (404) when it does not exist or is not in sight."""
    found = qs.filter(pk=pk).first()
    if found is None:
        raise NotFound("There is no such canned response.")
    return found


def canned_responses_for_ticket(agent: Agent, ticket: Ticket, search: str = "") -> QuerySet[CannedResponse]:
    """What the agent may insert on this ticket: global ones and the ticket's department's, filtered by
    words of the title or body (every word must be in one of them)."""
    qs = canned_responses_visible_to(agent).filter(
        Q(department__isnull=True) | Q(department_id=ticket.department_id)
    )
    for word in clean_text(search).split()[:8]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return qs


def canned_render(canned: CannedResponse, ticket: Ticket, *, agent: Agent | None = None) -> str:
    """The body with this ticket's values (the requester's name, the number ...), for the composer or a
    filter's reply. The body passed the check at save; should it fail now, the error is a fault."""
    return text_render(canned.body, context_for(ticket, agent=agent))


def canned_files(canned: CannedResponse) -> list[IncomingFile]:
    """The canned response's files, as the ticket services take them for a reply."""
    files = []
    for attachment in canned.attachments.all():
        with default_storage.open(attachment.file, "rb") as handle:
            files.append(IncomingFile(name=attachment.filename, content=handle.read()))
    return files


# --- services -------------------------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.kind == "agent" and (actor.agent is None or not actor.agent.is_admin):
        raise PermissionDenied("Only administrators manage canned responses.")


def _clean(title: str, body: str, department: Department | None, *, pk: int | None) -> tuple[str, str]:
    """The title and body as stored, or a ServiceError naming the field (nothing is written)."""
    title = " ".join(clean_text(title).split())
    body = clean_text(body).strip("\n")
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the canned response a title (the picker lists it by its title)."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title has at most {TITLE_MAX} characters."
    if not body.strip():
        errors["body"] = "The body is empty; write the reply it inserts."
    elif len(body) > BODY_MAX:
        errors["body"] = f"The body has at most {BODY_MAX:,} characters."
    else:
        try:
            text_check(body)
        except ServiceError as exc:
            errors["body"] = exc.message
    if not errors.get("title"):
        same = CannedResponse.objects.filter(title=title, department=department)
        if (same.exclude(pk=pk) if pk is not None else same).exists():
            where = department.name if department is not None else "all departments"
            errors["title"] = f"There is already a canned response {title!r} for {where}."
    if errors:
        raise ServiceError(" ".join(errors.values()), fields=errors)
    return title, body


def _store(canned: CannedResponse, files: list[IncomingFile]) -> list[CannedAttachment]:
    stored = []
    for f in files:
        digest = hashlib.sha256(f.content).hexdigest()
        path = f"{digest[:2]}/{digest}"
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(f.content))
        name = (f.name or "attachment").replace("/", "_").replace("\\", "_").strip()[:255] or "attachment"
        stored.append(
            CannedAttachment.objects.create(
                canned_response=canned,
                file=path,
                filename=clean_text(name),
                size=len(f.content),
                sha256=digest,
                content_type=sniff_content_type(f.content),
            )
        )
    return stored


def _state(canned: CannedResponse) -> dict:
    return {
        "title": canned.title,
        "body": canned.body,
        "department": canned.department.name if canned.department is not None else None,
        "attachments": [f"{a.filename} ({a.sha256})" for a in canned.attachments.all()],
    }


@transaction.atomic
def canned_response_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    department: Department | None = None,
    attachments: list[IncomingFile] | None = None,
) -> CannedResponse:
    """Add a canned response (administrators); refused with the field and, for the body, the line of a
    template error."""
    _require_admin(actor)
    files = list(attachments or [])
    title, body = _clean(title, body, department, pk=None)
    check_files(files)
    now = timezone.now()
    canned = CannedResponse.objects.create(
        title=title, body=body, department=department, created_at=now, updated_at=now
    )
    _store(canned, files)
    record(actor=actor, action="canned_response.created", target=canned, after=_state(canned))
    return canned


@transaction.atomic
def canned_response_update(
    *,
    actor: Actor,
    canned: CannedResponse,
    title: str,
    body: str,
    department: Department | None,
    attachments: list[IncomingFile] | None = None,
    remove_attachment_ids: list[int] | None = None,
) -> CannedResponse:
    """Change a canned response: its texts, its department, files added and files removed."""
    _require_admin(actor)
    canned = CannedResponse.objects.select_for_update().get(pk=canned.pk)
    before = _state(canned)
    files = list(attachments or [])
    title, body = _clean(title, body, department, pk=canned.pk)
    check_files(files)
    canned.title, canned.body, canned.department = title, body, department
    canned.updated_at = timezone.now()
    canned.save()
    if remove_attachment_ids:
        canned.attachments.filter(pk__in=remove_attachment_ids).delete()
    _store(canned, files)
    after = _state(CannedResponse.objects.get(pk=canned.pk))
    record(actor=actor, action="canned_response.updated", target=canned, before=before, after=after)
    return canned


@transaction.atomic
def canned_response_delete(*, actor: Actor, canned: CannedResponse) -> None:
    """Remove a canned response (its files stay in the storage: replies that used them share the bytes)."""
    _require_admin(actor)
    record(actor=actor, action="canned_response.deleted", target=canned, before=_state(canned))
    canned.delete()


@transaction.atomic
def canned_attachments_add(
    *, actor: Actor, canned: CannedResponse, files: list[IncomingFile]
) -> list[CannedAttachment]:
    """Add files to a canned response (administrators), stored by SHA-256 like the admin page's; a file
    over the size limit refuses them all (nothing is written)."""
    _require_admin(actor)
    if not files:
        raise ServiceError("Send at least one file (the form field `files`).", fields={"files": "required"})
    check_files(files)
    canned = CannedResponse.objects.select_for_update().get(pk=canned.pk)
    stored = _store(canned, files)
    canned.updated_at = timezone.now()
    canned.save(update_fields=["updated_at"])
    record(
        actor=actor,
        action="canned_response.files_added",
        target=canned,
        after={"files": [f"{a.filename} ({a.sha256})" for a in stored]},
    )
    return stored


@transaction.atomic
def canned_attachment_delete(*, actor: Actor, canned: CannedResponse, attachment_id: int) -> None:
    """Remove one file from a canned response (administrators); NotFound when it is not one of its files.
    The bytes stay in the storage: replies that used the file share them."""
    _require_admin(actor)
    canned = CannedResponse.objects.select_for_update().get(pk=canned.pk)
    attachment = canned.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(
            f"The canned response {canned.title!r} has no file {attachment_id}.",
            fields={"attachment": "not_found"},
        )
    attachment.delete()
    canned.updated_at = timezone.now()
    canned.save(update_fields=["updated_at"])
    record(
        actor=actor,
        action="canned_response.file_removed",
        target=canned,
        before={"file": f"{attachment.filename} ({attachment.sha256})"},
    )


def canned_compose_files(actor: Actor, ticket: Ticket, data: dict) -> list[IncomingFile]:
    """The tickets' `compose_files` hook: the files of the canned responses picked in the composer, each
    one only if the agent may still insert it on this ticket (else refused: nothing is written)."""
    wanted = sorted(set(data.get("canned") or ()))
    if not wanted or actor.agent is None:
        return []
    found = list(canned_responses_for_ticket(actor.agent, ticket).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise NotFound(
            "A canned response you inserted is no longer available on this ticket; "
            "remove its files from the reply and insert it again.",
            fields={"canned": "not_found"},
        )
    return [f for canned in found for f in canned_files(canned)]
