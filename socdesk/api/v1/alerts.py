"""Alerts: list (filters, cursor pagination), get, and the raw payload on its own URL."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from socdesk.alerts.choices import Adapter, AlertStatus
from socdesk.alerts.models import Alert
from socdesk.alerts.selectors import alert_get_from, alert_raw_payload_from, alerts_on_tickets
from socdesk.api.v1.pagination import page
from socdesk.api.v1.schemas import DbId, ErrorOut, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import Severity
from socdesk.tickets.selectors import normalise_number

router = Router(tags=["alerts"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}
LIST_MAX = 200
ORDER = ("-last_seen", "-id")


class AlertOut(Schema):
    id: int
    source: Adapter
    integration: dict | None = Field(description="{id, name} of the integration it came through.")
    external_id: str
    fingerprint: str
    title: str
    description: str
    severity: Severity
    status: AlertStatus
    occurred_at: datetime
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    occurrence_count: int
    ticket: str | None = Field(description="The ticket number.")
    previous_ticket: str | None
    url: str
    raw_url: str
    source_url: str = Field(description="The alert in the tool that sent it (http/https), or empty.")


class AlertPage(Schema):
    items: list[AlertOut]
    next: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class AlertListParams(QueryParams):
    ticket: str | None = Field(None, description="A ticket number: that ticket's alerts.")
    source: list[Adapter] = Field(default_factory=list, description="Adapters (alertmanager, thehive, ...).")
    integration: list[DbId] = Field(default_factory=list, description="Integration ids.")
    status: AlertStatus | None = None
    severity: list[Severity] = Field(default_factory=list)
    fingerprint: str | None = Field(None, max_length=255)
    since: datetime | None = Field(None, description="Alerts seen at or after this time (ISO 8601).")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=LIST_MAX)


def _utc(moment: datetime) -> datetime:
    """In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 (and pydantic) allow."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ServiceError(
            "since is out of range; give a time such as 2026-11-27T10:00:00Z.",
            fields={"since": "out_of_range"},
        ) from None


def alert_out(alert: Alert) -> dict:
    """The API's view of an alert (ticket, previous ticket and integration loaded with it)."""
    return {
        "id": alert.pk,
        "source": alert.source,
        "integration": alert.integration and {"id": alert.integration_id, "name": alert.integration.name},
        "external_id": alert.external_id,
        "fingerprint": alert.fingerprint,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity,
        "status": alert.status,
        "occurred_at": alert.occurred_at,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "resolved_at": alert.resolved_at,
        "occurrence_count": alert.occurrence_count,
        "ticket": alert.ticket.number if alert.ticket else None,
        "previous_ticket": alert.previous_ticket.number if alert.previous_ticket else None,
        "url": reverse("api-v1:alert_get", kwargs={"alert_id": alert.pk}),
        "raw_url": reverse("api-v1:alert_raw", kwargs={"alert_id": alert.pk}),
        "source_url": alert.source_url,
    }


@router.get(
    "/alerts",
    response={200: AlertPage} | ERRORS,
    auth=requires("tickets:read"),
    url_name="alert_list",
    summary="List alerts",
)
def alert_list(request, params: Query[AlertListParams]):
    """Alerts on tickets the caller may see, most recently seen first. Scope: tickets:read.

    The raw payloads are not in the list; read one at `raw_url`. Page with `next` → `?cursor=`.
    """
    caller: Caller = request.auth
    qs = alerts_on_tickets(caller.visible_tickets())
    if params.ticket:
        qs = qs.filter(ticket__number=normalise_number(params.ticket))
    if params.source:
        qs = qs.filter(source__in=params.source)
    if params.integration:
        qs = qs.filter(integration_id__in=params.integration)
    if params.status:
        qs = qs.filter(status=params.status)
    if params.severity:
        qs = qs.filter(severity__in=params.severity)
    if params.fingerprint:
        qs = qs.filter(fingerprint=params.fingerprint)
    if params.since:
        qs = qs.filter(last_seen__gte=_utc(params.since))
    qs = qs.select_related("ticket", "previous_ticket", "integration").order_by(*ORDER)
    rows, next_cursor = page(qs, ORDER, limit=params.limit, cursor=params.cursor, kind="alerts")
    return {"items": [alert_out(a) for a in rows], "next": next_cursor}


@router.get(
    "/alerts/{alert_id}",
    response={200: AlertOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="alert_get",
    summary="Get an alert",
)
def alert_get(request, alert_id: Path[DbId]):
    """One alert, without its raw payload. Scope: tickets:read; 404 unless you may see its ticket."""
    caller: Caller = request.auth
    return alert_out(alert_get_from(caller.visible_tickets(), alert_id))


@router.get(
    "/alerts/{alert_id}/raw",
    response={200: dict | list | str | int | float | bool | None} | ERRORS,
    auth=requires("tickets:read"),
    url_name="alert_raw",
    summary="Get an alert's raw payload",
)
def alert_raw(request, alert_id: Path[DbId]):
    """The payload exactly as the tool sent it (JSON). Scope: tickets:read; 404 unless visible."""
    caller: Caller = request.auth
    return alert_raw_payload_from(caller.visible_tickets(), alert_id)
