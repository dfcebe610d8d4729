"""Writing the audit trail: record an event, seal pending events into the hash chain."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from django.db import connection, models, transaction

from socdesk.audit.chain import GENESIS, content_hash, link_hash, to_json_safe
from socdesk.audit.models import PURGE_CHECKPOINT_ACTION, AuditEvent
from socdesk.core import clock, sql
from socdesk.core.actor import Actor

log = logging.getLogger(__name__)

# Arbitrary constant naming the PostgreSQL advisory lock that serialises sealing (not recording).
SEAL_LOCK_KEY = 0x50C_DE5C
SEAL_BATCH = 1000
# A process seals after its commits at most this often, because sealing after every commit would make
# a busy API spend its requests on the chain; the worker's ingest loop seals whatever is left every second.
SEAL_INTERVAL_SECONDS = 0.25
_last_seal = 0.0


def record(*, actor: Actor, action: str, **details: Any) -> AuditEvent:
    """Append one audit event (details as for `audit_event`); chained by the sealer after the commit."""
    event = audit_event(actor=actor, action=action, **details)
    event.save(force_insert=True)
    _seal_after_commit()
    return event


def record_many(events: list[AuditEvent]) -> None:
    """Append events made with `audit_event` in one INSERT (a batch of alerts), in list order."""
    if events:
        sql.insert_new(events)
        _seal_after_commit()


def audit_event(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved event with its content hash; `record` saves one, `record_many` a list."""
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)[:200]
    fields = {
        "occurred_at": clock.now(),  # the real time, except in the demo's replay
        "actor_type": actor.kind,
        "actor_id": actor.ident[:64],
        "actor_label": actor.label[:200],
        "ip": _normalise_ip(actor.ip),
        "action": action,
        "target_type": target_type,
        "target_id": target_id[:64],
        "target_label": target_label[:200],
        "before": to_json_safe(before) if before is not None else None,
        "after": to_json_safe(after) if after is not None else None,
    }
    return AuditEvent(**fields, content_hash=content_hash(fields))


def _normalise_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


class _SealFlags(Protocol):
    """The two flags this module keeps on each thread's database connection."""

    _socdesk_seal_deferred: bool
    _socdesk_seal_pending: bool


def _seal_flags() -> _SealFlags:
    # `django.db.connection` hands attribute reads and writes to this thread's connection, where the
    # flags live; its type does not declare them.
    return cast(_SealFlags, connection)


@contextmanager
def sealing_deferred() -> Iterator[None]:
    """Within this block this thread's commits leave their events for the caller to seal.

    For a loop that commits many times a second (alert ingest): sealing after every commit would take
    a large share of its time, so it seals when it has a moment, and at least every second.
    """
    conn = _seal_flags()
    conn._socdesk_seal_deferred = True
    try:
        yield
    finally:
        conn._socdesk_seal_deferred = False


def _seal_after_commit() -> None:
    """Seal once per outermost transaction, after it commits, without waiting on another sealer."""
    conn = _seal_flags()
    if getattr(conn, "_socdesk_seal_pending", False) or getattr(conn, "_socdesk_seal_deferred", False):
        return
    conn._socdesk_seal_pending = True

    def run() -> None:
        global _last_seal
        conn._socdesk_seal_pending = False
        now = time.monotonic()
        if now - _last_seal < SEAL_INTERVAL_SECONDS:
            return  # sealed a moment ago: the next writer, or the worker's loop within a second, takes these
        _last_seal = now
        try:
            seal_pending(wait=False)
        except Exception:  # a failed seal is retried by the next write or the periodic job
            log.exception("sealing the audit chain failed; it will be retried")

    # robust: whatever goes wrong after the commit must not look like a failed write to the caller (a
    # group of osTicket requests would be written again).
    transaction.on_commit(run, robust=True)


def seal_pending(*, wait: bool = True) -> int:
    """Chain every committed, unsealed event in id order; returns how many were sealed.

    Only one sealer runs at a time (a named lock, socdesk.core.sql.lock).
    With wait=False the call returns 0 at once when another sealer holds the lock: that sealer, or
    the next one, will pick these events up.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if wait:
                sql.lock(SEAL_LOCK_KEY)
            elif not sql.try_lock(SEAL_LOCK_KEY):
                return sealed
            # The chain needs each event's content hash only: its details (JSON) stay unread.
            pending = list(
                AuditEvent.objects.filter(seq__isnull=True)
                .order_by("id")
                .only("id", "content_hash")[:SEAL_BATCH]
            )
            if not pending:
                return sealed
            last = (
                AuditEvent.objects.filter(seq__isnull=False)
                .order_by("-seq")
                .only("seq", "chain_hash")
                .first()
            )
            seq, prev = (last.seq, last.chain_hash) if last and last.seq is not None else (0, GENESIS)
            for event in pending:
                seq += 1
                event.seq, event.prev_hash = seq, prev
                event.chain_hash = prev = link_hash(prev, event.content_hash)
            sql.bulk_set(pending, ["seq", "prev_hash", "chain_hash"])
            sealed += len(pending)


@dataclass
class AuditPurge:
    """What one audit purge deleted (or, in a dry run, would delete): the oldest events, through a seq."""

    cutoff: datetime
    events: int = 0
    from_seq: int | None = None
    through_seq: int | None = None
    through_hash: str = ""


def audit_purge_before(*, actor: Actor, cutoff: datetime, batch: int, dry_run: bool = False) -> AuditPurge:
    """Delete the oldest sealed events written before `cutoff` (at most `batch`), leaving a checkpoint.

    Only a prefix of the chain goes, so what remains is still one unbroken chain; the same transaction
    records an `audit.purged` event naming the last deleted event's seq and chain hash, from which
    `audit verify` starts. The chain's newest sealed event is always kept: the sealer links new events
    to it. A dry run counts every event that would go, not just one batch.
    """
    seal_pending()
    with transaction.atomic():
        sql.lock(SEAL_LOCK_KEY)  # no sealing while the prefix is measured and cut
        sealed = AuditEvent.objects.filter(seq__isnull=False)
        first = sealed.order_by("seq").values_list("seq", flat=True).first()
        head = sealed.order_by("-seq").values_list("seq", flat=True).first()
        if first is None or head is None:
            return AuditPurge(cutoff)
        # The prefix ends before the first event at or after the cut-off (seq order is commit order, so
        # a late-committed old event stays until everything before it is old too).
        newer = sealed.filter(occurred_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        end = min(head - 1, (newer - 1) if newer is not None else head)
        if not dry_run:
            end = min(end, first + batch - 1)
        if end < first:
            return AuditPurge(cutoff)
        last = sealed.only("chain_hash", "occurred_at").get(seq=end)
        result = AuditPurge(cutoff, end - first + 1, first, end, last.chain_hash)
        if dry_run:
            return result
        record(
            actor=actor,
            action=PURGE_CHECKPOINT_ACTION,
            target_type="audit",
            target_label="audit trail",
            after={
                "cutoff": cutoff.isoformat(),
                "events": result.events,
                "from_seq": first,
                "through_seq": end,
                "through_hash": last.chain_hash,
                "through_occurred_at": last.occurred_at.isoformat(),
            },
        )
        if connection.vendor == "postgresql":
            # The append-only trigger lets this transaction, and only it, delete events up to `end`.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('socdesk.audit_purge_through_seq', %s, true)", [str(end)])
        deleted, _ = AuditEvent.objects.filter(seq__isnull=False, seq__lte=end).delete()
        result.events = deleted
    return result
