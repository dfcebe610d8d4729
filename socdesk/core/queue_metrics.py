"""The worker queue's length, read at scrape time for /metrics (registered in CoreConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric


def worker_queue_reading() -> Iterator[Metric]:
    """`socdesk_worker_queue_tasks`: tasks waiting in Huey's queue (SQLite table or Redis), not yet taken."""
    from huey.contrib.djhuey import HUEY

    yield GaugeMetricFamily(
        "socdesk_worker_queue_tasks",
        "Background tasks waiting in the worker queue for a worker thread (scheduled ones not included).",
        value=HUEY.pending_count(),
    )
