"""Prometheus metrics: the counters every layer increments, and the registry of scrape-time readings.

The counters and histograms are defined here, at the bottom of the layers, so that the code where things
happen (the webhook receiver, the ingest engine, the SLA scan, the request middleware) can count them
without importing anything above itself. Readings that come from the database at scrape time (backlog,
open tickets, unsealed audit events...) are registered by the app that owns the table, from its
AppConfig.ready, with `reading_register`: core never imports an app above it.

Several processes serve and work at once (`socdesk serve`: granian's web workers, the worker, the ingest
loops). prometheus-client's multiprocess mode adds their counters up: when PROMETHEUS_MULTIPROC_DIR is
set before the process starts (the supervisor does it, see socdesk/core/metrics_dir.py), every process
writes its values to its own memory-mapped file there, and `exposition()` sums the files. Without it
(runserver, the tests, a single process) the values live in this process's memory. See docs/metrics.md.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from socdesk.core.metrics_dir import MULTIPROC_ENV

log = logging.getLogger(__name__)

# --- counted where things happen ---------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "socdesk_http_requests",
    "HTTP requests answered, by route group, method and status class.",
    ["group", "method", "status"],
)
HTTP_DURATION = Histogram(
    "socdesk_http_request_duration_seconds",
    "Time from the request reaching SOCdesk to the response being returned (a streamed body's first byte).",
    ["group", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DELIVERIES_RECEIVED = Counter(
    "socdesk_deliveries_received",
    "Requests that reached an adapter's alert receiver (webhook or TheHive-compatible API), unchecked.",
    ["adapter"],
)
DELIVERIES_ACKNOWLEDGED = Counter(
    "socdesk_deliveries_acknowledged",
    "Deliveries stored durably and acknowledged to the sender.",
    ["adapter"],
)
DELIVERIES_REFUSED = Counter(
    "socdesk_deliveries_refused",
    "Requests to an alert receiver answered with an error, nothing stored (reason: the error code).",
    ["adapter", "reason"],
)
DELIVERIES_FAILED = Counter(
    "socdesk_deliveries_failed",
    "Acknowledged deliveries whose processing gave up (kept on /deliveries/failed for a person to look at).",
    ["adapter"],
)
ALERTS_PROCESSED = Counter(
    "socdesk_alerts_processed",
    "Alerts written by the ingest engine (new, repeat, grouped, resolved...); rate() gives alerts/second.",
)
SLA_BREACHES = Counter(
    "socdesk_sla_breaches",
    "SLA targets found breached by the SLA scan, as they happen (target: response or resolution).",
    ["target"],
)
for _target in ("response", "resolution"):
    SLA_BREACHES.labels(target=_target)


_children: dict[tuple[object, tuple[tuple[str, str], ...]], Any] = {}
MAX_CHILDREN = 4096  # label combinations remembered per process (metrics keep their label sets few)


def labelled(metric: Counter | Histogram, **labels: str) -> Any:
    """`metric.labels(**labels)`, remembered per process: labels() checks its arguments and takes a
    lock on every call, and the per-request metrics use the same few label sets all the time."""
    key = (metric, tuple(labels.items()))
    child = _children.get(key)
    if child is None:
        if len(_children) >= MAX_CHILDREN:
            _children.clear()
        child = _children[key] = metric.labels(**labels)
    return child


def count_after_commit(
    counter: Counter, amount: float = 1, *, db: BaseDatabaseWrapper | None = None, **labels: str
) -> None:
    """Add to `counter` once the current transaction commits (at once outside one); `db` is the
    default connection when the caller holds it already.

    What a rolled-back transaction did never happened: a batch that fails and is re-run delivery by
    delivery must not count its deliveries twice.
    """
    if amount <= 0:
        return
    child = labelled(counter, **labels) if labels else counter
    (db or transaction.get_connection()).on_commit(lambda: child.inc(amount))


# --- read from the database at scrape time ---------------------------------------------------------


Reading = Callable[[], Iterable[Metric]]


@dataclass
class _Cached:
    """One registered reading and what it last returned (so a tight scrape interval costs few queries)."""

    read: Reading
    at: float = float("-inf")
    families: list[Metric] = field(default_factory=list)
    ok: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


_READINGS: dict[str, _Cached] = {}


def reading_register(name: str, read: Reading) -> None:
    """Register a scrape-time reading (a function returning metric families, e.g. GaugeMetricFamily).

    Called from an app's AppConfig.ready; `name` identifies it in `socdesk_metrics_reading_up`.
    Registering the same name again replaces it.
    """
    _READINGS[name] = _Cached(read=read)


def _read(name: str, cached: _Cached, now: float) -> tuple[list[Metric], bool]:
    with cached.lock:  # web threads scraping at once: one of them queries, the others wait for it
        if now - cached.at >= settings.SOCDESK_METRICS_CACHE_SECONDS:
            try:
                cached.families, cached.ok = list(cached.read()), True
            except Exception:
                # The database down or not migrated: the other readings and the counters still show.
                log.warning("metrics reading %r failed", name, exc_info=True)
                cached.families, cached.ok = [], False
            cached.at = now
        return cached.families, cached.ok


class _ReadingsCollector:
    """Every registered reading, each served from its cache while fresh."""

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        up = GaugeMetricFamily(
            "socdesk_metrics_reading_up",
            "1 when the scrape-time reading answered, 0 when it failed (see the log).",
            labels=["reading"],
        )
        for name, cached in sorted(_READINGS.items()):
            families, ok = _read(name, cached, now)
            yield from families
            up.add_metric([name], 1 if ok else 0)
        yield up


class _Scrape:
    """What one scrape shows: the counters (this process's, or every process's), then the readings."""

    def __init__(self, counters: CollectorRegistry) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        yield from self.counters.collect()
        yield from _ReadingsCollector().collect()


def multiprocess_dir() -> str | None:
    """The directory the processes write their values to, or None in single-process mode."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> tuple[bytes, str]:
    """The Prometheus text exposition of every metric, and its content type."""
    directory = multiprocess_dir()
    if directory:
        counters = CollectorRegistry()
        MultiProcessCollector(counters, path=directory)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    return generate_latest(_Scrape(counters)), CONTENT_TYPE_LATEST


if multiprocess_dir():
    # Live gauges of a process that has exited must not be summed any more (granian respawns workers
    # the supervisor does not know the pids of); counters stay, so that totals never go down.
    atexit.register(lambda: mark_process_dead(os.getpid()))  # type: ignore[no-untyped-call]
