"""The calling agent's notifications (personal token or console session): list, mark read.

The same services and selectors as the console's bell: only the agent's own notifications, about
tickets they may still see; anyone else's is a 404.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from socdesk.api.v1.pagination import page
from socdesk.api.v1.schemas import DbId, ErrorOut, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import PermissionDenied
from socdesk.notifications import services
from socdesk.notifications.choices import Kind
from socdesk.notifications.models import Notification
from socdesk.notifications.selectors import (
    notification_get_for_agent,
    notifications_for_agent,
    unread_count,
)

router = Router(tags=["notifications"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}
LIST_MAX = 200


class NotificationTicketOut(Schema):
    number: str
    subject: str
    url: str = Field(description="The ticket in the API.")


class NotificationOut(Schema):
    id: int
    kind: Kind
    kind_label: str
    text: str
    actor: str = Field(description="Who caused it (empty for SLA escalations).")
    ticket: NotificationTicketOut
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    unread: int = Field(description="Your unread notifications, counted up to 100.")
    next: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class NotificationListParams(QueryParams):
    unread: bool = Field(False, description="Only the unread ones.")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=LIST_MAX)


class ReadAllOut(Schema):
    marked: int = Field(description="How many were unread.")


def _agent_caller(request) -> Caller:
    caller: Caller = request.auth
    if caller.agent is None:
        raise PermissionDenied(
            "Notifications belong to agents, and this key is not an agent's personal token; "
            "use one of your personal tokens or sign in to the console."
        )
    return caller


def notification_out(notification: Notification) -> dict:
    ticket = notification.ticket
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "kind_label": notification.get_kind_display(),
        "text": notification.text,
        "actor": notification.actor_label,
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "url": reverse("api-v1:ticket_get", args=[ticket.number]),
        },
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


@router.get(
    "/me/notifications",
    response={200: NotificationPage} | ERRORS,
    auth=requires("tickets:read"),
    url_name="notification_list",
    summary="List your notifications, newest first",
)
def notification_list(request, params: Query[NotificationListParams]):
    """Your notifications (all, or `unread=true`), newest first; page with `next` → `?cursor=`."""
    caller = _agent_caller(request)
    assert caller.agent is not None
    order = ("-created_at", "-id")
    rows, next_cursor = page(
        notifications_for_agent(caller.agent, unread_only=params.unread),
        order,
        limit=params.limit,
        cursor=params.cursor,
        kind=f"notifications:{int(params.unread)}",
    )
    return {
        "items": [notification_out(n) for n in rows],
        "unread": unread_count(caller.agent),
        "next": next_cursor,
    }


@router.post(
    "/me/notifications/{notification_id}/read",
    response={200: NotificationOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="notification_read",
    summary="Mark one of your notifications read",
)
def notification_read(request, notification_id: DbId):
    """Mark it read (one already read stays as it was)."""
    caller = _agent_caller(request)
    assert caller.agent is not None
    notification = notification_get_for_agent(caller.agent, notification_id)
    services.notification_mark_read(actor=caller.actor, notification=notification)
    return notification_out(notification)


@router.post(
    "/me/notifications/read-all",
    response={200: ReadAllOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="notification_read_all",
    summary="Mark all your notifications read",
)
def notification_read_all(request):
    """Mark every unread notification of yours read."""
    caller = _agent_caller(request)
    return {"marked": services.notifications_mark_all_read(actor=caller.actor)}
