"""SLA readings for /metrics: clocks at risk and breached now (the At risk and Overdue queues' index)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from socdesk.routing.choices import ClockState
from socdesk.routing.models import TicketSLA

WATCHED = (ClockState.AT_RISK, ClockState.BREACHED)


def sla_reading() -> Iterator[Metric]:
    """`socdesk_sla_clocks{state}`: running SLA clocks at risk or breached now (ticket_sla_attention_idx)."""
    counts = dict(
        TicketSLA.objects.filter(state__in=WATCHED)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    family = GaugeMetricFamily(
        "socdesk_sla_clocks",
        "SLA clocks of open tickets that are at risk or breached (overdue) now, by state.",
        labels=["state"],
    )
    for state in WATCHED:
        family.add_metric([str(state)], counts.get(state, 0))
    yield family
