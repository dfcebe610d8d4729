"""Scrape-time readings for /metrics of the tickets and mail tables, registered by the ops app.

Ops sits above every app, so it may read both; each query runs on a partial index of the rows it
counts (the open tickets, the mail still waiting), so its cost follows the work outstanding, not the
size of the tables.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from socdesk.mail.models import OutboundMessage, OutboundStatus
from socdesk.mail.spool_drain import spool_counts
from socdesk.tickets.choices import OPEN_STATUSES, Severity
from socdesk.tickets.models import Ticket

MAIL_WAITING = (OutboundStatus.QUEUED, OutboundStatus.FAILED)


def _counts(queryset, field: str) -> dict[str, int]:
    return dict(queryset.order_by().values_list(field).annotate(n=Count("pk")).values_list(field, "n"))


def tickets_reading() -> Iterator[Metric]:
    """`socdesk_tickets_open{severity}`: new, in progress and on hold tickets (ticket_open_activity_idx)."""
    counts = _counts(Ticket.objects.filter(status__in=OPEN_STATUSES), "severity")
    family = GaugeMetricFamily(
        "socdesk_tickets_open", "Open tickets (new, in progress, on hold), by severity.", labels=["severity"]
    )
    for severity in Severity.values:
        family.add_metric([severity], counts.get(severity, 0))
    yield family


def mail_reading() -> Iterator[Metric]:
    """`socdesk_mail_outgoing_waiting{status}`: e-mail not sent yet (outbound_waiting_idx); and
    `socdesk_mail_spool_messages{state}`: the mail spool's folders (a directory listing each)."""
    counts = _counts(OutboundMessage.objects.filter(status__in=MAIL_WAITING), "status")
    family = GaugeMetricFamily(
        "socdesk_mail_outgoing_waiting",
        "Outgoing e-mail not sent yet: queued, or failed and to be retried.",
        labels=["status"],
    )
    for status in MAIL_WAITING:
        family.add_metric([str(status)], counts.get(status, 0))
    yield family
    spool = GaugeMetricFamily(
        "socdesk_mail_spool_messages",
        "Messages in the mail spool (`mail pipe --queue`): waiting, being imported, refused, failed.",
        labels=["state"],
    )
    for state, count in spool_counts().items():
        spool.add_metric([{"new": "waiting", "cur": "importing"}.get(state, state)], count)
    yield spool
