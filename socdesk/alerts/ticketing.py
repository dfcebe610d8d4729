"""How alerts change tickets: open one, join one, count a repeat, note a resolve, auto-resolve.

The steps of `socdesk.alerts.services.alert_ingest`, which holds the de-dup key lock while it calls
them; every ticket change goes through socdesk.tickets.services.
"""

from __future__ import annotations

from django.db import transaction

from socdesk.accounts.models import Department
from socdesk.alerts import observables as obs
from socdesk.alerts.adapters import NormalisedAlert
from socdesk.alerts.choices import AlertStatus
from socdesk.alerts.models import Alert, AlertRaw, DedupKey, Integration, WebhookDelivery
from socdesk.alerts.ticket_observables import ObservableLinks, observables_attach_many
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import SEVERITY_RANK, Resolution, Source, Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import (
    TicketDraft,
    ticket_change_severity,
    ticket_change_status,
    ticket_create,
    ticket_log_event,
)

# Auto-resolved tickets get this verdict: no analyst judged them; the condition cleared at the source.
AUTO_RESOLUTION = Resolution.NOT_APPLICABLE


def default_department(integration: Integration | None) -> Department:
    if integration is not None and integration.department_id:
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
    extra = {
        "alert": {"source": source, "fingerprint": alert.fingerprint[:255], "external_id": alert.external_id}
    }
    if alert.extra.get("thehive"):
        extra["thehive"] = alert.extra["thehive"]
    if previous is not None:
        extra["previous_ticket"] = previous.number
    tags = list(
        integration.default_tags if integration and isinstance(integration.default_tags, list) else []
    )
    return TicketDraft(
        actor=actor,
        subject=alert.title or "Alert",
        department=department or default_department(integration),
        team=integration.team if integration else None,
        body="\n".join(lines).strip(),
        severity=alert.severity,
        source=Source.ALERT,
        tags=[*tags, source, *alert.tags],
        extra=extra,
    )


def open_ticket(
    *,
    actor: Actor,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None,
    previous: Ticket | None,
) -> Ticket:
    draft = ticket_draft(actor=actor, alert=alert, source=source, integration=integration, previous=previous)
    return ticket_create(**vars(draft))  # a draft's fields are ticket_create's arguments


def alert_row(
    *,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None,
    delivery: WebhookDelivery | None,
    dedup: DedupKey,
    ticket: Ticket,
    previous: Ticket | None,
    now,
) -> Alert:
    """The unsaved Alert row for a normalised alert on `ticket`."""
    return Alert(
        source=source,
        integration=integration,
        external_id=alert.external_id[:255],
        fingerprint=alert.fingerprint[:255],
        dedup_key=dedup,
        title=(alert.title or "Alert")[:255],
        description=alert.description,
        severity=alert.severity,
        occurred_at=alert.occurred_at or now,
        first_seen=now,
        last_seen=now,
        status=alert.status,
        resolved_at=now if alert.status == AlertStatus.RESOLVED else None,
        ticket=ticket,
        previous_ticket=previous,
        delivery=delivery,
    )


def ingested_event(*, actor: Actor, record_: Alert, source: str, observables: int):
    """The `alert.ingested` audit event (unsaved) for a new alert row."""
    ticket, previous, delivery = record_.ticket, record_.previous_ticket, record_.delivery
    return audit_event(
        actor=actor,
        action="alert.ingested",
        target=record_,
        target_label=f"{source}: {record_.title}"[:200],
        after={
            "ticket": ticket.number,
            "fingerprint": record_.fingerprint,
            "severity": record_.severity,
            "status": record_.status,
            "delivery": delivery.pk if delivery else None,
            "previous_ticket": previous.number if previous else None,
            "observables": observables,
        },
    )


def repeat_text(alert: Alert, now) -> str:
    """The one thread line a repeating alert keeps up to date on its ticket."""
    return (
        f"Alert repeated: {alert.title} — {alert.occurrence_count} occurrences, "
        f"last at {now:%Y-%m-%d %H:%M:%S} UTC."
    )


def new_alert(
    *,
    actor: Actor,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None,
    delivery: WebhookDelivery | None,
    dedup: DedupKey,
    ticket: Ticket,
    previous: Ticket | None,
    now,
    joined: bool = False,
) -> Alert:
    record_ = alert_row(
        alert=alert,
        source=source,
        integration=integration,
        delivery=delivery,
        dedup=dedup,
        ticket=ticket,
        previous=previous,
        now=now,
    )
    record_.save(force_insert=True)
    AlertRaw.objects.create(alert=record_, payload=alert.raw if alert.raw is not None else {})
    links = observable_links(alert, ticket, record_)
    observables_attach_many([links], now=now)
    if joined:
        escalate(actor, ticket, record_.severity)
        ticket_log_event(
            actor=actor, ticket=ticket, body=f"Another alert joined this ticket: {record_.title}"
        )
    record_many([ingested_event(actor=actor, record_=record_, source=source, observables=len(links.pairs))])
    return record_


def observable_pairs(alert: NormalisedAlert) -> list[tuple[str, str]]:
    """The observables of a normalised alert: its adapter's fields first, then what its text holds."""
    return obs.extract(alert.observables, f"{alert.title}\n{alert.description}")


def observable_links(
    alert: NormalisedAlert, ticket: Ticket, record_: Alert, pairs: list[tuple[str, str]] | None = None
) -> ObservableLinks:
    """The observables of a normalised alert (`pairs` if found already), to link to its row and ticket."""
    return ObservableLinks(
        ticket=ticket,
        alert=record_,
        pairs=observable_pairs(alert) if pairs is None else pairs,
        ioc={_norm(p) for p in alert.extra.get("ioc", [])},
        sighted={_norm(p) for p in alert.extra.get("sighted", [])},
    )


def _norm(pair) -> tuple[str, str] | None:
    try:
        return obs.normalise(pair[0], pair[1])
    except (IndexError, TypeError):
        return None


def repeat(
    *,
    actor: Actor,
    existing: Alert,
    alert: NormalisedAlert,
    ticket: Ticket,
    integration: Integration | None,
    delivery: WebhookDelivery | None,
    now,
) -> Alert:
    if alert.status == AlertStatus.RESOLVED:
        if existing.status == AlertStatus.FIRING:
            mark_resolved(actor, existing, now)
            _maybe_auto_resolve(actor, ticket, integration)
        return existing  # a resent "resolved" is a no-op
    before = {"occurrence_count": existing.occurrence_count, "status": existing.status}
    existing.occurrence_count += 1
    existing.last_seen = now
    existing.status = AlertStatus.FIRING
    if SEVERITY_RANK.get(alert.severity, 0) > SEVERITY_RANK.get(existing.severity, 0):
        existing.severity = alert.severity
        escalate(actor, ticket, alert.severity)
    existing.resolved_at = None
    if delivery is not None:
        existing.delivery = delivery
    entry = ticket_log_event(
        actor=actor, ticket=ticket, body=repeat_text(existing, now), replace_entry_id=existing.repeat_entry_id
    )
    existing.repeat_entry_id = entry.pk
    existing.save(
        update_fields=[
            "occurrence_count",
            "last_seen",
            "status",
            "resolved_at",
            "delivery",
            "repeat_entry_id",
            "severity",
        ]
    )
    record(
        actor=actor,
        action="alert.deduplicated",
        target=existing,
        target_label=f"{existing.source}: {existing.title}"[:200],
        before=before,
        after={
            "occurrence_count": existing.occurrence_count,
            "ticket": ticket.number,
            "status": existing.status,
        },
    )
    return existing


def mark_resolved(actor: Actor, alert: Alert, now) -> None:
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.last_seen = now
    alert.save(update_fields=["status", "resolved_at", "last_seen"])
    if alert.ticket_id:
        ticket_log_event(
            actor=actor, ticket=alert.ticket, body=f"Alert resolved at the source: {alert.title}"
        )
    record(
        actor=actor,
        action="alert.resolved",
        target=alert,
        target_label=f"{alert.source}: {alert.title}"[:200],
        before={"status": AlertStatus.FIRING},
        after={"status": AlertStatus.RESOLVED, "ticket": alert.ticket.number if alert.ticket_id else None},
    )


def _maybe_auto_resolve(actor: Actor, ticket: Ticket, integration: Integration | None) -> None:
    """With the integration's auto-resolve on, resolve the ticket once none of its alerts still fires."""
    if integration is None or not integration.auto_resolve:
        return
    if Alert.objects.filter(ticket=ticket, status=AlertStatus.FIRING).exists():
        return
    ticket.refresh_from_db()
    if not ticket.is_open:
        return
    try:
        with transaction.atomic():  # a refused auto-resolve must not undo the alert's own update
            if ticket.status == Status.NEW:  # the state machine goes through "in progress"
                ticket = ticket_change_status(actor=actor, ticket=ticket, status=Status.IN_PROGRESS)
            ticket_change_status(
                actor=actor,
                ticket=ticket,
                status=Status.RESOLVED,
                resolution=AUTO_RESOLUTION,
                comment="every alert on this ticket resolved at the source (auto-resolve)",
            )
    except ServiceError as exc:
        ticket_log_event(actor=actor, ticket=ticket, body=f"Auto-resolve was refused: {exc.message}")


def escalate(actor: Actor, ticket: Ticket, severity: str) -> None:
    """Raise the ticket's severity when an alert on it is more severe (never lowers it)."""
    ticket.refresh_from_db(fields=["severity", "version", "status"])
    if SEVERITY_RANK.get(severity, 0) <= SEVERITY_RANK.get(ticket.severity, 0):
        return
    try:
        with transaction.atomic():  # a refused escalation must not undo the alert's own update
            ticket_change_severity(actor=actor, ticket=ticket, severity=severity)
    except ServiceError as exc:
        ticket_log_event(
            actor=actor, ticket=ticket, body=f"Raising the severity to {severity} was refused: {exc.message}"
        )
