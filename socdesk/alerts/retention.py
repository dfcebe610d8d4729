"""Retention: the only deletion of alerts, tickets and audit events, by age, audited.

Per department (Department.*_retention_days, else the SOCDESK_*_RETENTION_DAYS defaults): raw payloads of
alerts last seen before the cut-off (the alert and its ticket stay) and the processed deliveries that carried
them, and closed tickets closed before the cut-off with their thread, alerts and attachment files.
Globally: audit events older than SOCDESK_AUDIT_RETENTION_DAYS, through a checkpoint
(socdesk.audit.services.audit_purge_before).

Each department's pass is one transaction of at most `batch` rows of each kind and records one
`retention.purged` event naming the cut-offs and counts; the worker runs a pass every ten minutes, so a
backlog drains in steps that never hold locks for long. `socdesk retention run` repeats passes until
nothing is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.models import Alert, AlertRaw, WebhookDelivery
from socdesk.audit.services import AuditPurge, audit_purge_before, record
from socdesk.core.actor import Actor
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket

log = logging.getLogger(__name__)

RETENTION_ACTOR = Actor.system("retention")


@dataclass
class RetentionPolicy:
    """How long one department keeps raw payloads and closed tickets (None: forever)."""

    department: Department
    raw_payload_days: int | None
    closed_ticket_days: int | None


@dataclass
class DepartmentPurge:
    """What a pass deleted in one department (or, in a dry run, would delete)."""

    department: Department
    raw_payload_cutoff: datetime | None = None
    closed_ticket_cutoff: datetime | None = None
    raw_payloads: int = 0
    deliveries: int = 0
    tickets: int = 0
    alerts: int = 0
    thread_entries: int = 0
    attachments: int = 0
    ticket_numbers: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.raw_payloads or self.deliveries or self.tickets)


@dataclass
class RetentionReport:
    """One pass over every department and the audit trail."""

    departments: list[DepartmentPurge]
    audit: AuditPurge | None

    @property
    def anything(self) -> bool:
        return any(d.anything for d in self.departments) or bool(self.audit and self.audit.events)


def retention_policies() -> list[RetentionPolicy]:
    """Every department's effective retention: its own setting, else the environment's default."""
    return [
        RetentionPolicy(
            department=dept,
            raw_payload_days=dept.raw_payload_retention_days or settings.SOCDESK_RAW_PAYLOAD_RETENTION_DAYS,
            closed_ticket_days=dept.closed_ticket_retention_days
            or settings.SOCDESK_CLOSED_TICKET_RETENTION_DAYS,
        )
        for dept in Department.objects.order_by("name")
    ]


def retention_run(
    *,
    actor: Actor = RETENTION_ACTOR,
    now: datetime | None = None,
    batch: int | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """One pass: each department's batch, then the audit trail's. A dry run counts everything due."""
    now = now or timezone.now()
    batch = batch or settings.SOCDESK_RETENTION_BATCH
    departments = [
        department_purge(actor=actor, policy=policy, now=now, batch=batch, dry_run=dry_run)
        for policy in retention_policies()
    ]
    audit = None
    if settings.SOCDESK_AUDIT_RETENTION_DAYS:
        cutoff = now - timedelta(days=settings.SOCDESK_AUDIT_RETENTION_DAYS)
        audit = audit_purge_before(actor=actor, cutoff=cutoff, batch=batch, dry_run=dry_run)
    return RetentionReport(departments, audit)


def department_purge(
    *, actor: Actor, policy: RetentionPolicy, now: datetime, batch: int, dry_run: bool = False
) -> DepartmentPurge:
    """Delete one batch of a department's expired raw payloads and closed tickets; one audited transaction."""
    result = DepartmentPurge(policy.department)
    if policy.raw_payload_days:
        result.raw_payload_cutoff = now - timedelta(days=policy.raw_payload_days)
    if policy.closed_ticket_days:
        result.closed_ticket_cutoff = now - timedelta(days=policy.closed_ticket_days)
    if dry_run:
        _count_due(result)
        return result
    with transaction.atomic():
        # Tickets first, so the raw payload count names only payloads of alerts that stay.
        if result.closed_ticket_cutoff:
            _delete_closed_tickets(result, batch)
        if result.raw_payload_cutoff:
            ids = list(_raw_payloads_due(result).values_list("pk", flat=True)[:batch])
            result.raw_payloads, _ = AlertRaw.objects.filter(pk__in=ids).delete()
            ids = list(_deliveries_due(result).values_list("pk", flat=True)[:batch])
            result.deliveries, _ = WebhookDelivery.objects.filter(pk__in=ids).delete()
        if result.anything:
            record(
                actor=actor,
                action="retention.purged",
                target=policy.department,
                after=_describe(result),
            )
    return result


def _describe(result: DepartmentPurge) -> dict:
    return {
        "raw_payload_cutoff": result.raw_payload_cutoff.isoformat() if result.raw_payload_cutoff else None,
        "raw_payloads": result.raw_payloads,
        "deliveries": result.deliveries,
        "closed_ticket_cutoff": result.closed_ticket_cutoff.isoformat()
        if result.closed_ticket_cutoff
        else None,
        "tickets": result.tickets,
        "ticket_numbers": result.ticket_numbers,
        "alerts": result.alerts,
        "thread_entries": result.thread_entries,
        "attachments": result.attachments,
    }


def _raw_payloads_due(result: DepartmentPurge):
    return AlertRaw.objects.filter(
        alert__ticket__department=result.department, alert__last_seen__lt=result.raw_payload_cutoff
    ).order_by("pk")


def _deliveries_due(result: DepartmentPurge) -> QuerySet[WebhookDelivery]:
    """Processed deliveries (request bodies as received: the same raw data) whose alerts are all here.

    A delivery whose alerts went to several departments goes once none of them is elsewhere (their
    tickets deleted), or never: each department's retention covers only its own data. Pending and
    failed deliveries are kept whatever their age: they are work not yet done.
    """
    elsewhere = Alert.objects.filter(delivery__isnull=False).exclude(ticket__department=result.department)
    return (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PROCESSED, received_at__lt=result.raw_payload_cutoff
        )
        .filter(
            Q(alerts__ticket__department=result.department)
            | Q(alerts__isnull=True, integration__department=result.department)
        )
        .exclude(pk__in=elsewhere.values("delivery_id"))
        .distinct()
        .order_by("pk")
    )


def _tickets_due(result: DepartmentPurge):
    return Ticket.objects.filter(
        department=result.department, status=Status.CLOSED, closed_at__lt=result.closed_ticket_cutoff
    ).order_by("closed_at", "pk")


def _count_due(result: DepartmentPurge) -> None:
    raws = _raw_payloads_due(result) if result.raw_payload_cutoff else AlertRaw.objects.none()
    if result.closed_ticket_cutoff:
        tickets = _tickets_due(result)
        raws = raws.exclude(alert__ticket__in=tickets)
        result.tickets = tickets.count()
        result.ticket_numbers = list(tickets.values_list("number", flat=True)[:50])
        result.alerts = Alert.objects.filter(ticket__in=tickets).count()
        result.thread_entries = ThreadEntry.objects.filter(ticket__in=tickets).count()
        result.attachments = Attachment.objects.filter(entry__ticket__in=tickets).count()
    result.raw_payloads = raws.count()
    if result.raw_payload_cutoff:
        result.deliveries = _deliveries_due(result).count()


def _delete_closed_tickets(result: DepartmentPurge, batch: int) -> None:
    rows = list(_tickets_due(result).values_list("pk", "number")[:batch])
    if not rows:
        return
    ids = [pk for pk, _ in rows]
    result.ticket_numbers = [number for _, number in rows]
    # Locked, and re-checked as still closed: an alert or agent may have reopened one since the read.
    ids = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=ids, status=Status.CLOSED, closed_at__lt=result.closed_ticket_cutoff)
        .values_list("pk", flat=True)
    )
    digests = set(Attachment.objects.filter(entry__ticket_id__in=ids).values_list("sha256", flat=True))
    # Alerts go with their ticket (their raw payloads and observable links cascade); an alert on another
    # ticket that merely came back after this one (previous_ticket) stays, unlinked.
    result.alerts = Alert.objects.filter(ticket_id__in=ids).delete()[1].get("alerts.Alert", 0)
    result.attachments = Attachment.objects.filter(entry__ticket_id__in=ids).count()
    result.thread_entries = ThreadEntry.objects.filter(ticket_id__in=ids).count()
    result.tickets = Ticket.objects.filter(pk__in=ids).delete()[1].get("tickets.Ticket", 0)
    if len(ids) < len(rows):
        kept = set(ids)
        result.ticket_numbers = [number for pk, number in rows if pk in kept]
    if digests:
        transaction.on_commit(lambda: _delete_unreferenced_files(digests), robust=True)


def _delete_unreferenced_files(digests: set[str]) -> None:
    """Remove stored files that no attachment names any more (files are shared by identical content)."""
    still_used = set(Attachment.objects.filter(sha256__in=digests).values_list("sha256", flat=True))
    for digest in digests - still_used:
        path = f"{digest[:2]}/{digest}"
        try:
            default_storage.delete(path)
        except OSError:
            log.exception("retention could not delete the attachment file %s; delete it by hand", path)
