"""Who holds deliveries: each ingest loop's heartbeat, and requeueing the claims of a loop that died.

A claim on a delivery lapses after SOCDESK_DELIVERY_LEASE_SECONDS (300 s by default): long enough
for the slowest batch, far too long to leave alerts waiting after a `kill -9`. So every process that
runs an ingest loop registers an `IngestClaimant` row with a random prefix, starts every claim token it
stamps with that prefix, and refreshes the row's `beat_at` from a thread of its own every
SOCDESK_INGEST_HEARTBEAT_SECONDS, however long its current batch takes. A claimant that has not beaten
for SOCDESK_INGEST_CLAIMANT_TIMEOUT seconds is dead: any loop (they all look, every heartbeat period)
puts its pending claims back in the queue and removes its row.

The heartbeat works the same on SQLite and PostgreSQL (it is a row, not a session lock). It only
decides *when* a claim may be taken over; it is never what prevents double processing. A process that
was only stalled (swapped out, paused in a debugger) longer than the timeout may wake up holding
deliveries that were requeued and taken by another loop: before writing, a batch re-reads which of its
deliveries still carry its claim token and are pending, under the rows' locks, and drops the others
(socdesk.alerts.ingest.deliveries._still_held). A delivery is written by exactly one claim.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.models import IngestClaimant, WebhookDelivery
from socdesk.audit.services import record
from socdesk.core.actor import Actor

log = logging.getLogger(__name__)

PREFIX_LENGTH = 8
# Starts the claim tokens of processes that run no ingest loop (a web process answering TheHive's
# synchronous API): nothing beats for them, so their claims lapse only with the lease.
NO_CLAIMANT = "-" * PREFIX_LENGTH

_current = ""  # this process's prefix while its heartbeat runs


def claim_token() -> str:
    """A new claim token: this process's claimant prefix (if it runs a heartbeat) and 8 random hex digits."""
    return (_current or NO_CLAIMANT) + secrets.token_hex(4)


def current_claimant() -> str:
    """This process's claimant prefix, '' when it runs no heartbeat."""
    return _current


def claimant_register() -> str:
    """Register this process as a claimant (a fresh prefix and heartbeat); returns the prefix."""
    global _current
    now = timezone.now()
    claimant = IngestClaimant.objects.create(
        prefix=secrets.token_hex(PREFIX_LENGTH // 2),
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        started_at=now,
        beat_at=now,
    )
    _current = claimant.prefix
    return claimant.prefix


def claimant_beat(prefix: str) -> bool:
    """Refresh the heartbeat; False when the row is gone (another loop took this one for dead)."""
    return bool(IngestClaimant.objects.filter(prefix=prefix).update(beat_at=timezone.now()))


@transaction.atomic
def claimant_forget(prefix: str) -> int:
    """A clean stop: put this claimant's pending claims back in the queue and remove its row.

    Nothing would ever find those claims dead once the row is gone, so they are released here;
    returns how many. Normally none: the loop stops after its batch commits.
    """
    global _current
    released = _release_claims([prefix])
    IngestClaimant.objects.filter(prefix=prefix).delete()
    if _current == prefix:
        _current = ""
    return released


def _release_claims(prefixes: list[str]) -> int:
    held = Q()
    for prefix in prefixes:
        held |= Q(claim_token__startswith=prefix)
    # claimed_at None: claimable at once by the next claim (see deliveries._claimable).
    return WebhookDelivery.objects.filter(held, status=DeliveryStatus.PENDING).update(
        claimed_at=None, claim_token=""
    )


def dead_claims_requeue(*, now: datetime | None = None) -> int:
    """Requeue the pending claims of every claimant whose heartbeat stopped; returns how many.

    Cheap when nobody died (one indexed read of a table with a row per running loop), so every loop
    calls it once per heartbeat period. The dead claimants' rows are locked (PostgreSQL) or the write
    lock is held (SQLite) while their claims are released, so a claimant that beats again in the
    meantime is either seen alive or beats on a row that is gone (and registers anew).
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SOCDESK_INGEST_CLAIMANT_TIMEOUT)
    if not IngestClaimant.objects.filter(beat_at__lt=cutoff).exists():
        return 0
    with transaction.atomic():
        dead = list(IngestClaimant.objects.select_for_update().filter(beat_at__lt=cutoff))
        if not dead:
            return 0
        released = _release_claims([claimant.prefix for claimant in dead])
        IngestClaimant.objects.filter(pk__in=[claimant.pk for claimant in dead]).delete()
        for claimant in dead:
            silent = (timezone.now() - claimant.beat_at).total_seconds()
            log.warning(
                "ingest loop %s (pid %s on %s) has not beaten for %.0f s: taken for dead",
                claimant.prefix,
                claimant.pid,
                claimant.host,
                silent,
            )
        # One event for the lot: an operator reading the trail sees that (and when) a loop died and
        # that its deliveries went back to the queue instead of waiting for the lease.
        record(
            actor=Actor.system("ingest-recovery"),
            action="ingest.claimant_died",
            target_type="ingestclaimant",
            target_id=",".join(claimant.prefix for claimant in dead)[:64],
            target_label=", ".join(f"pid {c.pid} on {c.host}" for c in dead)[:200],
            after={
                "claimants": [
                    {"prefix": c.prefix, "pid": c.pid, "host": c.host, "last_beat": c.beat_at.isoformat()}
                    for c in dead
                ],
                "deliveries_requeued": released,
            },
        )
    if released:
        log.warning("requeued %d webhook deliveries held by dead ingest loops", released)
    return released


class Heartbeat:
    """This process's claimant row, kept fresh by a daemon thread until `stop()`."""

    def __init__(self) -> None:
        self.prefix = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        self.prefix = claimant_register()
        self._thread = threading.Thread(target=self._run, name="socdesk-ingest-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.SOCDESK_INGEST_HEARTBEAT_SECONDS):
                try:
                    if not claimant_beat(self.prefix):
                        # Taken for dead while stalled: our claims went back to the queue. A new
                        # identity for new claims; the old ones' batch drops what it no longer holds.
                        log.warning("ingest loop %s was taken for dead; registering anew", self.prefix)
                        self.prefix = claimant_register()
                except Exception:  # the database restarting, say: beat again next period
                    log.exception("the ingest heartbeat failed; retrying")
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop beating and release what this loop still holds (call after its last batch)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.prefix:
            claimant_forget(self.prefix)
