"""osTicket-compatible ticket API: POST /api/tickets.{json,xml,email} (also under /api/http.php/).

A drop-in for tools written against osTicket: same URLs, same X-API-Key header, same fields, a 201 with
the ticket number as the whole body. Replies are text/plain as osTicket's are, but errors are 4xx with
a sentence naming the problem (osTicket answers many of them with a bare 500).

Concurrent requests in one web process open their tickets together, in one transaction with bulk
writes (group commit: socdesk.core.grouping, `ticket_create_many`); the 201 goes out only after that
commit, so the ticket is readable through every API and the console as soon as the client has its
number. The group's leader also waits (up to 20 ms) for the clients the previous group answered, who
come back with their next ticket: under a steady load, one group per round of all the clients. Like an
alert's, the ticket's observables (IPs, domains, URLs, hashes...) are found in its subject and message
and linked to it.

`tickets.email` takes the raw message to `socdesk.mail.inbound.mail_receive`, the same service as mail
piped in by a mail server: a reply to a ticket's mail is added to that ticket (200 and its number)
instead of opening a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from socdesk.accounts.keyauth import (
    ApiAuthError,
    RateLimited,
    authenticate_key,
    check_rate_limit,
    key_from_request,
)
from socdesk.accounts.models import ApiKey, Department
from socdesk.accounts.selectors import api_department
from socdesk.api.osticket_formats import (
    OsTicketRequest,
    PayloadError,
    request_from_json,
    request_from_xml,
)
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.core.grouping import GroupRunner
from socdesk.mail.inbound import mail_receive
from socdesk.routing import snapshot
from socdesk.routing.apply import filters_before_create
from socdesk.routing.selectors import custom_field_names_for_topic
from socdesk.routing.topic_hooks import topic_drafts_apply
from socdesk.tickets.choices import Source
from socdesk.tickets.models import Ticket
from socdesk.tickets.observables import observables_in_text
from socdesk.tickets.services import TicketDraft, ticket_create_many, ticket_drafts_check

SCOPE = "tickets:create"
PARSERS: dict[str, Callable[[bytes], OsTicketRequest]] = {
    "json": request_from_json,
    "xml": request_from_xml,
}


def text(status: int, body: str, **headers: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def create_ticket(request: HttpRequest, fmt: str) -> HttpResponse:
    """Create one ticket from an osTicket-format request body."""
    if request.method != "POST":
        return text(405, "Use POST to create a ticket.", Allow="POST")
    parse = PARSERS.get(fmt)
    if parse is None and fmt != "email":
        return text(404, f"Unknown format {fmt!r}; use tickets.json, tickets.xml or tickets.email.")
    if parse is None:  # tickets.email opens no ticket through the group
        return _create(request, fmt, parse)
    # From here until its ticket is queued, the group writer knows this request is coming.
    with _group.arriving():
        return _create(request, fmt, parse)


def _create(request: HttpRequest, fmt: str, parse: Callable[[bytes], OsTicketRequest] | None) -> HttpResponse:
    try:
        key, actor = authenticate_key(request, key_from_request(request), scope=SCOPE)
        check_rate_limit(key)
    except ApiAuthError as exc:
        return text(exc.status, exc.message)
    except RateLimited as exc:
        return text(429, exc.message, **{"Retry-After": str(exc.retry_after)})

    body = _read_body(request)
    if body is None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return text(413, f"The request body is larger than the {limit:,} byte limit.")
    if parse is None:  # tickets.email
        return _receive_email(body, key, actor)
    try:
        incoming = parse(body)
        department = api_department(
            key, department_id=incoming.department_id, department_slug=incoming.department_slug
        )
        # osTicket's convention: custom fields are top-level keys named like the fields of the topic's form.
        topic_id = incoming.extra.get("topicId")
        topic_id = topic_id if isinstance(topic_id, int) else None
        pending = _Pending(incoming, key, actor, fmt, department, topic_id)
        pending.check()
        # Found before the group, holding no lock (and not for a refused request); linked when the
        # group opens the ticket.
        pending.observables = observables_in_text(incoming.subject, incoming.body)
        ticket = _open(pending)
    except PayloadError as exc:
        return text(400, exc.message)
    except PermissionDenied as exc:
        return text(403, exc.message)
    except (NotFound, ServiceError) as exc:
        # A department named in the body that does not exist is bad input, not a missing resource.
        return text(400, exc.message)
    return text(201, ticket.number)


@dataclass(eq=False)
class _Pending:
    """One request on its way to a group: what it asked for, and its draft as checked at `stamp`."""

    incoming: OsTicketRequest
    key: ApiKey
    actor: Actor
    fmt: str
    department: Department
    topic_id: int | None
    draft: TicketDraft | None = None
    stamp: str = ""  # the routing configuration stamp `draft` was checked against
    refusal: ServiceError | None = None  # the group's check refused it: its own run only re-raises this
    observables: Sequence[tuple[str, str]] = ()

    def check(self) -> None:
        """Check the request against the routing snapshot this process holds (no read of the stamp).

        The group reads the stamp and checks again any request checked at another one, so a change
        saved by any process is still used from the next ticket on. A refusal is only answered once
        confirmed at the current stamp: one decided on a snapshot since replaced is checked again.
        """
        with snapshot.held() as held:
            try:
                self.check_at(held.stamp)
                return
            except snapshot.Stale:
                pass
            except ServiceError:
                if snapshot.confirmed():
                    raise
        with snapshot.pinned() as fresh:
            self.check_at(fresh.stamp)

    def opened(self) -> TicketDraft:
        """The checked draft, with the observables found in the request, as the group opens it."""
        assert self.draft is not None, "checked before it joins a group"
        self.draft.observables = self.observables
        return self.draft

    def check_at(self, stamp: str) -> None:
        """Check the request afresh under the snapshot this thread has pinned, whose stamp is `stamp`."""
        self.draft = _checked_draft(
            self.incoming, self.key, self.actor, self.fmt, self.department, self.topic_id
        )
        self.stamp = stamp


def _checked_draft(
    incoming: OsTicketRequest,
    key: ApiKey,
    actor: Actor,
    fmt: str,
    department: Department,
    topic_id: int | None,
) -> TicketDraft:
    """The request as a draft its help topic and the ticket filters have seen, checked for creation."""
    names = custom_field_names_for_topic(topic_id)
    custom = {k: v for k, v in incoming.extra.items() if k.lower() in names}
    chose_department = incoming.department_id is not None or incoming.department_slug
    draft = TicketDraft(
        actor=actor,
        subject=incoming.subject,
        department=department,
        body=incoming.body,
        body_format=incoming.body_format,
        requester_email=incoming.email,
        requester_name=incoming.name,
        requester_phone=incoming.phone,
        severity=incoming.severity,
        source=Source.EMAIL if fmt == "email" else Source.API,
        extra={k: v for k, v in incoming.extra.items() if k not in custom},
        attachments=incoming.attachments,
        help_topic=topic_id,
        custom_fields=custom,
        # The topic's department applies when neither the request nor the key picked one.
        hints={"department_default": not chose_department and getattr(key, "department_id", None) is None},
    )
    topic_drafts_apply([draft])  # a bad custom field refuses this request alone, not its group
    # Routed alone, before its group: a request a ticket filter refuses gets its 403 and joins no
    # group (unless the configuration changed meanwhile: see `_open_many`); the others' group
    # leaves routed drafts as they are.
    filters_before_create([draft])
    ticket_drafts_check([draft])  # a refused request never joins (and slows) a group
    return draft


def _receive_email(body: bytes, key: ApiKey, actor: Actor) -> HttpResponse:
    """A raw message goes where mail from a mail server goes (socdesk.mail.inbound): a new ticket (201
    and its number), a message on the ticket it answers (200 and that number), or a duplicate or bounce
    (200)."""
    if not body.strip():
        return text(400, "The body is empty; send a raw RFC 822 email message.")
    try:
        receipt = mail_receive(
            body, actor=actor, channel=f"api {actor.label}", department=api_department(key)
        )
    except PermissionDenied as exc:
        return text(403, exc.message)
    except (NotFound, ServiceError) as exc:
        return text(400, exc.message)
    if receipt.outcome == "created" and receipt.ticket is not None:
        return text(201, receipt.ticket.number)
    return text(200, receipt.ticket.number if receipt.ticket is not None else receipt.line())


def _open(pending: _Pending) -> Ticket:
    """Open the ticket with the other requests of this moment, or alone inside a caller's transaction."""
    if transaction.get_connection().in_atomic_block:
        return _open_many([pending])[0]
    return _group.submit(pending)


def _open_many(group: list[_Pending]) -> list[Ticket]:
    """Open the requests' tickets, with their observables, in one transaction.

    A request checked at another routing stamp than the group's is checked again first, outside the
    transaction (so a refusal's filter hits are counted, once, whatever happens to the group). If one
    is refused, the group fails and GroupRunner runs each request alone: that one re-raises its
    refusal (its 403), the others open their tickets.
    """
    with snapshot.pinned() as now:  # the group's checks and hooks follow one routing configuration
        for pending in group:
            if pending.refusal is None and pending.stamp != now.stamp:
                try:
                    pending.check_at(now.stamp)
                except ServiceError as exc:
                    pending.refusal = exc
        for pending in group:
            if pending.refusal is not None:
                raise pending.refusal
        drafts = [pending.opened() for pending in group]
        with transaction.atomic():
            return ticket_create_many(drafts)


_group: GroupRunner[_Pending, Ticket] = GroupRunner(_open_many, max_wait=0.02, wait_for_returning=True)


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is over DATA_UPLOAD_MAX_MEMORY_SIZE (checked before reading)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if limit is not None and declared > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    if limit is not None and len(body) > limit:
        return None
    return body
