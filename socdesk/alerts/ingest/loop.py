"""The worker's ingest loop: turn waiting webhook deliveries into alerts, batch after batch.

The webhook reply only stores the body (see socdesk.alerts.ingest). This loop, a thread in every
`socdesk worker`, claims the oldest waiting deliveries and processes them; while there is a backlog
it goes straight on to the next batch, and when there is none it looks again every
SOCDESK_INGEST_POLL_SECONDS (each look is one indexed query). Several
workers may run it at once: claims keep them off each other's deliveries. Each loop keeps a heartbeat
and, once per heartbeat period, requeues the claims of loops whose heartbeat stopped
(socdesk.alerts.ingest.claimants): a killed loop's deliveries are taken again within seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from django.conf import settings
from django.db import connection

from socdesk.alerts import observables
from socdesk.alerts.ingest.claimants import Heartbeat, dead_claims_requeue
from socdesk.alerts.ingest.deliveries import deliveries_drain
from socdesk.audit.services import seal_pending

log = logging.getLogger(__name__)

SEAL_EVERY_SECONDS = 1.0
# After an unexpected error (database restarting, say) wait this long before trying again.
ERROR_BACKOFF_SECONDS = 2.0


def run_ingest_loop(stop: threading.Event) -> None:
    """Process deliveries until `stop` is set; never raises (errors are logged and retried).

    It is also the audit trail's sealer: no writer seals after its commit (see docs/audit.md), so every
    SEAL_EVERY_SECONDS it seals whatever any process has committed since.
    """
    poll, last_seal = settings.SOCDESK_INGEST_POLL_SECONDS, time.monotonic()
    last_look = -float("inf")
    heartbeat: Heartbeat | None = None
    observables.warm_up()
    while not stop.is_set():
        try:
            if heartbeat is None:  # here, not before the loop: the database may not answer yet
                heartbeat = Heartbeat().start()
            if time.monotonic() - last_look >= settings.SOCDESK_INGEST_HEARTBEAT_SECONDS:
                dead_claims_requeue()
                last_look = time.monotonic()
            started = time.monotonic()
            done = deliveries_drain()
            if done:
                _log_batch(done, time.monotonic() - started)
            if time.monotonic() - last_seal >= SEAL_EVERY_SECONDS:
                seal_pending(wait=False)
                last_seal = time.monotonic()
        except Exception:
            log.exception("the ingest loop failed; retrying in %s s", ERROR_BACKOFF_SECONDS)
            connection.close()  # a broken connection is replaced on the next query
            stop.wait(ERROR_BACKOFF_SECONDS)
            continue
        if not done:
            stop.wait(poll)
    if heartbeat is not None:
        try:
            heartbeat.stop()
        except Exception:  # its claims then wait to be found dead, as after a kill
            log.exception("the ingest loop could not release its claims on stopping")


def _log_batch(done: dict[int, str], seconds: float) -> None:
    """One line per batch: what an operator watching `socdesk worker` wants to see under a flood."""
    counts = Counter(done.values())
    others = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if status != "processed")
    log.info(
        "ingested %d webhook deliveries in %.2f s%s",
        counts.get("processed", 0),
        seconds,
        f" ({others})" if others else "",
    )


def start_ingest_thread() -> tuple[threading.Thread, threading.Event]:
    """Run the loop in a daemon thread; set the returned event to stop it after its current batch."""
    stop = threading.Event()
    thread = threading.Thread(target=_run, args=(stop,), name="socdesk-ingest", daemon=True)
    thread.start()
    return thread, stop


def _run(stop: threading.Event) -> None:
    try:
        run_ingest_loop(stop)
    finally:
        connection.close()
