"""The rows an alert makes: the ticket it opens, its alert row, its observables, its repeat line's text.

Pure builders (no writes) used by the planner (socdesk.alerts.ingest.plan).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socdesk.accounts.models import Department
from socdesk.alerts import observables as obs
from socdesk.alerts.adapters import NormalisedAlert, thehive
from socdesk.alerts.choices import AlertStatus
from socdesk.alerts.models import Alert, DedupKey, Integration, WebhookDelivery
from socdesk.alerts.ticket_observables import ObservableLinks
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.instances import unsaved
from socdesk.tickets.choices import Resolution, Source
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft

# Auto-resolved tickets get this verdict: no analyst judged them; the condition cleared at the source.
AUTO_RESOLUTION = Resolution.NOT_APPLICABLE


def default_department(integration: Integration | None) -> Department:
    """Where an alert's ticket goes: its integration's department, else the first one."""
    if integration is not None and integration.department is not None:
        return integration.department
    department = Department.objects.order_by("id").first()
    if department is None:
        raise ServiceError(
            "No department exists to put alert tickets in; create one and set it on the integration."
        )
    return department


def ticket_draft(
    *,
    actor: Actor,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None,
    previous: Ticket | None,
    department: Department | None = None,
) -> TicketDraft:
    """The ticket a new alert opens: its text, tags and routing (department and team)."""
    lines = [alert.description or alert.title, ""]
    lines.append(f"Source: {source}" + (f" (integration {integration.name})" if integration else ""))
    if alert.external_id:
        lines.append(f"External id: {alert.external_id}")
    if alert.occurred_at:
        lines.append(f"Occurred at: {alert.occurred_at.isoformat()}")
    if previous is not None:
        lines.append(
            f"This alert fired before on {previous.number}, "
            f"which was {previous.get_status_display().lower()}."
        )
    extra: dict[str, Any] = {
        "alert": {"source": source, "fingerprint": alert.fingerprint[:255], "external_id": alert.external_id}
    }
    if alert.extra.get("thehive"):
        extra["thehive"] = alert.extra["thehive"]
    if previous is not None:
        extra["previous_ticket"] = previous.number
    tags = list(
        integration.default_tags if integration and isinstance(integration.default_tags, list) else []
    )
    # TheHive's customFields, typed as sent: checked against the custom fields of that name (routing).
    sent = (
        alert.raw.get("customFields") if alert.extra.get("thehive") and isinstance(alert.raw, dict) else None
    )
    custom = thehive.custom_fields(sent) if sent else {}
    return TicketDraft(
        actor=actor,
        subject=(alert.title or "").strip() or "Alert",
        department=department or default_department(integration),
        team=integration.team if integration else None,
        body="\n".join(lines).strip(),
        severity=alert.severity,
        source=Source.ALERT,
        tags=[*tags, source, *alert.tags],
        extra=extra,
        custom_fields=custom,
        origin=f"integration:{integration.pk}" if integration is not None else "",
    )


def alert_row(
    *,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None,
    delivery: WebhookDelivery | None,
    dedup: DedupKey,
    ticket: Ticket | None,
    previous: Ticket | None,
    now: datetime,
) -> Alert:
    """The unsaved Alert row for a normalised alert on `ticket`."""
    return unsaved(
        Alert,
        source=source,
        integration=integration,
        external_id=alert.external_id[:255],
        fingerprint=alert.fingerprint[:255],
        dedup_key=dedup,
        title=(alert.title or "Alert")[:255],
        rule=alert.rule[:255],
        description=alert.description,
        severity=alert.severity,
        occurred_at=alert.occurred_at or now,
        first_seen=now,
        last_seen=now,
        status=alert.status,
        resolved_at=now if alert.status == AlertStatus.RESOLVED else None,
        source_url=alert.source_url,
        ticket=ticket,
        previous_ticket=previous,
        delivery=delivery,
    )


def repeat_text(alert: Alert, now: datetime) -> str:
    """The one thread line a repeating alert keeps up to date on its ticket."""
    return (
        f"Alert repeated: {alert.title} — {alert.occurrence_count} occurrences, "
        f"last at {now:%Y-%m-%d %H:%M:%S} UTC."
    )


def observable_pairs(alert: NormalisedAlert) -> list[tuple[str, str]]:
    """The observables of a normalised alert: its adapter's fields first, then what its text holds."""
    return obs.extract(alert.observables, f"{alert.title}\n{alert.description}")


def observable_links(
    alert: NormalisedAlert, ticket: Ticket | None, record_: Alert, pairs: list[tuple[str, str]] | None = None
) -> ObservableLinks:
    """The observables of a normalised alert (`pairs` if found already), to link to its row and ticket."""
    return ObservableLinks(
        ticket=ticket,
        alert=record_,
        pairs=observable_pairs(alert) if pairs is None else pairs,
        ioc={_norm(p) for p in alert.extra.get("ioc", [])},
        sighted={_norm(p) for p in alert.extra.get("sighted", [])},
    )


def _norm(pair: Any) -> tuple[str, str] | None:
    try:
        return obs.normalise(pair[0], pair[1])
    except (IndexError, TypeError):
        return None
