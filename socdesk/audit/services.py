"""Writing the audit trail: record an event, seal pending events into the hash chain.

Writers only insert their events, each with its content hash; none seals after its commit. The workers
seal (each ingest loop every second, the periodic job every minute), and so do `audit verify`, backups
and retention before they read the chain: see docs/audit.md for why and what that promises.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction

from socdesk.audit.chain import GENESIS, content_hash, link_hash, to_json_safe
from socdesk.audit.models import HASHED_FIELDS, PURGE_CHECKPOINT_ACTION, AuditEvent
from socdesk.core import clock, sql
from socdesk.core.actor import Actor

# Arbitrary constant naming the PostgreSQL advisory lock that serialises sealing (not recording).
SEAL_LOCK_KEY = 0x50C_DE5C
SEAL_BATCH = 1000


def record(*, actor: Actor, action: str, **details: Any) -> AuditEvent:
    """Append one audit event (details as for `audit_event`); a worker's sealer chains it after the commit."""
    event = audit_event(actor=actor, action=action, **details)
    event.save(force_insert=True)
    return event


def record_many(events: list[AuditEvent]) -> None:
    """Append events made with `audit_event` in one INSERT (a batch of alerts), in list order."""
    if events:
        sql.insert_new(events)


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
        "ip": _normalise_ip(actor.ip) if actor.ip else None,
        "action": action,
        "target_type": target_type,
        "target_id": target_id[:64],
        "target_label": target_label[:200],
        "before": to_json_safe(before) if before is not None else None,
        "after": to_json_safe(after) if after is not None else None,
    }
    # Positional, in the model's column order (_COLUMNS): Django's keyword path pops every field and
    # asks the unnamed ones for their defaults, which cost as much as hashing the event.
    return _new_event(None, *fields.values(), content_hash(fields), None, "", "")


# AuditEvent's concrete fields in declaration order, as `audit_event` passes them (checked by a test).
_COLUMNS = ("id", *HASHED_FIELDS, "content_hash", "seq", "prev_hash", "chain_hash")
# The model's constructor, for positional values: django-stubs checks positional arguments one field at a
# time, and a dict's values unpacked into them read to it as one argument.
_new_event: Callable[..., AuditEvent] = AuditEvent


@functools.lru_cache(maxsize=1024)
def _normalise_ip(ip: str) -> str | None:
    # Cached: a handful of addresses (the API clients, the agents, the proxies) write nearly every event,
    # and parsing one costs a fifth of building an event.
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


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
