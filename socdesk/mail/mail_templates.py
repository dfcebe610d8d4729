"""The mail SOCdesk sends to requesters, as templates administrators may edit (Admin → Mail templates).

Each kind (the new ticket's auto-response, an agent's reply) has a default in code; an administrator's
global `MailTemplate` replaces it, and a department's replaces that for the department's tickets.
Templates are Django template syntax rendered by an engine of their own: no loaders (no `include` or
`extends` of files), no template libraries to `load`, and a context of plain strings only (the
documented variables), so a template can show those values and nothing else of SOCdesk.
See docs/email.md ("Templates").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template import Context, Engine
from django.utils import timezone

from socdesk.accounts.models import Agent, Department
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.mail.models import MailTemplate, TemplateKind
from socdesk.tickets.models import Ticket

# The line the inbound reader cuts a reply at (socdesk.mail.text.reply_part): the defaults carry it.
REPLY_MARKER = "-- reply above this line --"

# The only names a template can use (each a plain string), with what they hold: shown on the edit page.
VARIABLES: dict[str, str] = {
    "ticket.number": "The ticket's number (SOC-1042).",
    "ticket.subject": "The ticket's subject.",
    "ticket.status": "The ticket's status (New, In progress ...).",
    "ticket.link": "The ticket's page (SOCDESK_BASE_URL/tickets/SOC-1042/).",
    "agent.name": "The agent who replied (empty in an auto-response).",
    "requester.name": "The requester's name (their address when they gave no name).",
    "requester.email": "The requester's address.",
    "message": "The last message: the agent's reply, the requester's first message, or the requester's "
    "reply that reopened the ticket.",
    "department.name": "The ticket's department.",
}


@dataclass(frozen=True)
class TemplateSource:
    """The three texts of one kind of mail (Django template syntax)."""

    subject: str
    text_body: str
    html_body: str


@dataclass(frozen=True)
class RenderedMail:
    """One mail ready to queue: one-line subject, text body, HTML body ("" when the template has none)."""

    subject: str
    text: str
    html: str


DEFAULTS: dict[str, TemplateSource] = {
    TemplateKind.AUTO_RESPONSE: TemplateSource(
        subject="[#{{ ticket.number }}] {{ ticket.subject }}",
        text_body=(
            REPLY_MARKER + "\n\n"
            "Hello {{ requester.name }},\n\n"
            "We received your message and opened ticket {{ ticket.number }} for it. "
            "An analyst of {{ department.name }} will answer you here.\n\n"
            "To add to the ticket, reply to this e-mail above the line at the top.\n\n"
            "-- \nTicket {{ ticket.number }} · {{ department.name }}\n"
        ),
        html_body=(
            '<p style="color:#888">' + REPLY_MARKER + "</p>\n"
            "<p>Hello {{ requester.name }},</p>\n"
            "<p>We received your message and opened ticket <strong>{{ ticket.number }}</strong> for it. "
            "An analyst of {{ department.name }} will answer you here.</p>\n"
            "<p>To add to the ticket, reply to this e-mail above the line at the top.</p>\n"
            '<p style="color:#888">Ticket {{ ticket.number }} · {{ department.name }}</p>\n'
        ),
    ),
    TemplateKind.REOPEN_ACK: TemplateSource(
        subject="Re: {{ ticket.subject }} [#{{ ticket.number }}]",
        text_body=(
            REPLY_MARKER + "\n\n"
            "Hello {{ requester.name }},\n\n"
            "Your reply reopened ticket {{ ticket.number }}. "
            "An analyst of {{ department.name }} will look at it again and answer you here.\n\n"
            "-- \nTicket {{ ticket.number }} · {{ department.name }}\n"
        ),
        html_body=(
            '<p style="color:#888">' + REPLY_MARKER + "</p>\n"
            "<p>Hello {{ requester.name }},</p>\n"
            "<p>Your reply reopened ticket <strong>{{ ticket.number }}</strong>. "
            "An analyst of {{ department.name }} will look at it again and answer you here.</p>\n"
            '<p style="color:#888">Ticket {{ ticket.number }} · {{ department.name }}</p>\n'
        ),
    ),
    TemplateKind.REPLY: TemplateSource(
        subject="Re: {{ ticket.subject }} [#{{ ticket.number }}]",
        text_body=(
            REPLY_MARKER + "\n\n"
            "{{ message }}\n\n"
            "-- \n{{ agent.name }} · {{ department.name }}\n"
            "Ticket {{ ticket.number }} · reply to this message to add to the ticket.\n"
        ),
        html_body=(
            '<p style="color:#888">' + REPLY_MARKER + "</p>\n"
            "<div>{{ message|linebreaksbr }}</div>\n"
            '<p style="color:#888">{{ agent.name }} · {{ department.name }}<br>'
            "Ticket {{ ticket.number }} · reply to this message to add to the ticket.</p>\n"
        ),
    ),
}

# No loaders and no libraries: `{% include %}`, `{% extends %}` and `{% load %}` of anything fail.
_TEXT_ENGINE = Engine(debug=True, autoescape=False, libraries={}, loaders=[])
_HTML_ENGINE = Engine(debug=True, autoescape=True, libraries={}, loaders=[])
_FIELDS = (("subject", _TEXT_ENGINE), ("text_body", _TEXT_ENGINE), ("html_body", _HTML_ENGINE))
_LABELS = {"subject": "subject", "text_body": "text body", "html_body": "HTML body"}


def ticket_link(ticket_number: str) -> str:
    """The ticket's console page as agents and mail reach it (SOCDESK_BASE_URL)."""
    return f"{settings.SOCDESK_BASE_URL.rstrip('/')}/tickets/{ticket_number}/"


def context_for(ticket: Ticket, *, agent: Agent | None = None, message: str = "") -> dict[str, Any]:
    """The documented variables for a ticket, as plain strings (nothing a template could call into)."""
    requester = ticket.requester
    email = requester.email if requester is not None else ""
    name = (requester.name if requester is not None else "") or email
    return {
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.get_status_display(),
            "link": ticket_link(ticket.number),
        },
        "agent": {"name": agent.name if agent is not None else ""},
        "requester": {"name": name, "email": email},
        "message": message,
        "department": {"name": ticket.department.name},
    }


def sample_context() -> dict[str, Any]:
    """A sample ticket's variables, for the edit page's preview and the check at save."""
    return {
        "ticket": {
            "number": "SOC-1042",
            "subject": "Suspicious login from 203.0.113.7",
            "status": "New",
            "link": ticket_link("SOC-1042"),
        },
        "agent": {"name": "Alice Analyst"},
        "requester": {"name": "Dana Requester", "email": "dana@example.test"},
        "message": "We blocked the address and reset your password.\nPlease sign in again.",
        "department": {"name": "SOC"},
    }


def _render(source: TemplateSource, context: dict[str, Any]) -> RenderedMail:
    texts = {}
    for name, engine in _FIELDS:
        template = getattr(source, name)
        rendered = engine.from_string(template).render(Context(context, autoescape=engine.autoescape))
        texts[name] = rendered if template else ""
    # One line: a header cannot carry a line break (the mail library refuses the message).
    subject = " ".join(clean_text(texts["subject"]).split())
    return RenderedMail(subject=subject[:255], text=clean_text(texts["text_body"]), html=texts["html_body"])


def _error_sentence(field: str, exc: Exception) -> str:
    return error_sentence(_LABELS[field], exc)


def error_sentence(label: str, exc: Exception) -> str:
    """'The body has an error on line 3: ...': what a template's author reads when it is refused."""
    info = getattr(exc, "template_debug", None)
    where = f" on line {info['line']}" if info else ""
    return f"The {label} has an error{where}: {exc}"


def text_render(text: str, context: dict[str, Any]) -> str:
    """One plain-text template (no escaping) rendered with these variables, by the mail templates'
    sandboxed engine: canned responses (socdesk.mail.canned) use it too, so there is one engine."""
    return clean_text(_TEXT_ENGINE.from_string(text).render(Context(context, autoescape=False)))


def text_check(text: str, *, label: str = "body") -> str:
    """The text rendered against the sample ticket; ServiceError naming the line and the error when it
    cannot be compiled or rendered (bad syntax, an unknown tag or filter, an include of a file)."""
    try:
        return text_render(text, sample_context())
    except Exception as exc:  # bad syntax, or a render fault (an include of a file) is refused too
        raise ServiceError(error_sentence(label, exc), fields={label: error_sentence(label, exc)}) from exc


def template_check(source: TemplateSource) -> RenderedMail:
    """Compile and render the texts against the sample ticket; ServiceError naming the part, the line and
    the error when one cannot be (bad syntax, an unknown tag or filter, an include of a file)."""
    errors = {}
    for name, engine in _FIELDS:
        try:
            engine.from_string(getattr(source, name)).render(
                Context(sample_context(), autoescape=engine.autoescape)
            )
        except Exception as exc:  # bad syntax, or a render fault (an include of a file) is refused too
            errors[name] = _error_sentence(name, exc)
    if not source.subject.strip():
        errors["subject"] = "The subject is empty; give it one (the ticket's number is added to it)."
    if not source.text_body.strip():
        errors["text_body"] = "The text body is empty; every message carries a plain-text part."
    if errors:
        raise ServiceError(" ".join(errors.values()), fields=errors)
    return _render(source, sample_context())


def template_source(kind: str, department: Department | None) -> tuple[TemplateSource, MailTemplate | None]:
    """The texts in use for this kind in this department (its own row, else the global row, else the
    default), and the row they come from (None: the default)."""
    wanted = Q(department__isnull=True) | (Q(department=department) if department else Q())
    rows = {row.department_id: row for row in MailTemplate.objects.filter(wanted, kind=kind)}
    row = rows.get(department.pk if department else None) or rows.get(None)
    if row is None:
        return DEFAULTS[kind], None
    return TemplateSource(row.subject, row.text_body, row.html_body), row


def mail_render(kind: str, ticket: Ticket, *, agent: Agent | None = None, message: str = "") -> RenderedMail:
    """The mail of this kind for the ticket, its `[#number]` token in the subject whatever the template.

    A stored template that fails to render (it passed the check at save, so this is a fault) falls back
    to the default, so a requester is never left without the mail."""
    source, row = template_source(kind, ticket.department)
    context = context_for(ticket, agent=agent, message=message)
    try:
        rendered = _render(source, context)
    except Exception:
        if row is None:
            raise
        rendered = _render(DEFAULTS[kind], context)
    token = f"[#{ticket.number}]"
    if token not in rendered.subject:
        rendered = RenderedMail(f"{rendered.subject} {token}".strip()[:255], rendered.text, rendered.html)
    return rendered


# --- services ----------------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    if kind not in TemplateKind.values:
        raise ServiceError(
            f"There is no mail template {kind!r}; use one of {', '.join(TemplateKind.values)}.",
            fields={"kind": "unknown"},
        )
    return kind


@transaction.atomic
def mail_template_save(
    *, actor: Actor, kind: str, department: Department | None, source: TemplateSource
) -> MailTemplate:
    """Store an administrator's template for a kind (global, or one department's), after checking that it
    compiles and renders; refused with the part, line and error otherwise (nothing is written)."""
    _kind(kind)
    texts = (source.subject, source.text_body, source.html_body)
    source = TemplateSource(*(clean_text(text) for text in texts))
    template_check(source)
    row = (
        MailTemplate.objects.select_for_update()
        .filter(kind=kind, department=department)
        .order_by("pk")
        .first()
    )
    before = {"subject": row.subject, "text_body": row.text_body, "html_body": row.html_body} if row else {}
    if row is None:
        row = MailTemplate(kind=kind, department=department)
    row.subject, row.text_body, row.html_body = source.subject, source.text_body, source.html_body
    row.updated_at = timezone.now()
    row.save()
    record(
        actor=actor,
        action="mail_template.saved",
        target=row,
        before=before,
        after={
            "kind": kind,
            "department": department.name if department else None,
            "subject": row.subject,
            "text_body": row.text_body,
            "html_body": row.html_body,
        },
    )
    return row


@transaction.atomic
def mail_template_reset(*, actor: Actor, kind: str, department: Department | None) -> bool:
    """Go back to what applies without this row (the global template, else the default); False when there
    was no row to remove."""
    _kind(kind)
    row = (
        MailTemplate.objects.select_for_update()
        .filter(kind=kind, department=department)
        .order_by("pk")
        .first()
    )
    if row is None:
        return False
    record(
        actor=actor,
        action="mail_template.reset",
        target=row,
        before={"subject": row.subject, "text_body": row.text_body, "html_body": row.html_body},
        after={"kind": kind, "department": department.name if department else None},
    )
    row.delete()
    return True
