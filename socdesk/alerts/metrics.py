"""The ingest engine's readings for /metrics: the backlog of deliveries waiting for an ingest loop."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from socdesk.alerts.selectors import BACKLOG_COUNT_CAP, ingest_backlog


def backlog_reading() -> Iterator[Metric]:
    """Waiting deliveries, the oldest one's age and the failed ones kept, from `ingest_backlog` (the
    partial index of pending rows; counts capped at BACKLOG_COUNT_CAP so a flood costs a bounded scan)."""
    backlog = ingest_backlog()
    yield GaugeMetricFamily(
        "socdesk_ingest_backlog_deliveries",
        f"Webhook deliveries acknowledged and waiting for an ingest loop (counted to {BACKLOG_COUNT_CAP}).",
        value=backlog["waiting"],
    )
    yield GaugeMetricFamily(
        "socdesk_ingest_backlog_oldest_age_seconds",
        "How long the oldest waiting delivery has waited (0 when none waits).",
        value=backlog["oldest_waiting_seconds"] or 0,
    )
    yield GaugeMetricFamily(
        "socdesk_deliveries_failed_kept",
        f"Failed deliveries kept for a person to look at on /deliveries/failed (up to {BACKLOG_COUNT_CAP}).",
        value=backlog["failed"],
    )
