"""Recompute the audit chain and report the first event whose content or link does not match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from socdesk.audit.chain import GENESIS, content_hash, link_hash
from socdesk.audit.models import PURGE_CHECKPOINT_ACTION, AuditEvent


@dataclass
class VerifyResult:
    """Outcome of a chain check: how many events matched, and the first that did not."""

    checked: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""
    last_seq: int = 0
    last_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def verify_chain(
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS,
    limit: int | None = None,
    include_unsealed: bool = True,
) -> VerifyResult:
    """Walk the sealed events in chain order, recomputing content and link hashes.

    `after_seq`/`after_hash` resume from a link already verified (the console's incremental check);
    `limit` stops after that many sealed events; `last_seq`/`last_hash` say how far it got.
    """
    if after_seq == 0 and after_hash == GENESIS:
        start = _start_after_purge()
        if isinstance(start, VerifyResult):
            return start
        after_seq, after_hash = start
    prev = after_hash
    expected_seq = after_seq + 1
    checked = 0
    last_seq = after_seq
    while limit is None or checked < limit:
        take = batch if limit is None else min(batch, limit - checked)
        events = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:take])
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return VerifyResult(checked, event.id, event.seq, f"sequence gap: expected {expected_seq}")
            if content_hash(event.hashed_content()) != event.content_hash:
                return VerifyResult(checked, event.id, event.seq, "content does not match its hash")
            if event.prev_hash != prev:
                return VerifyResult(checked, event.id, event.seq, "link to the previous event does not match")
            if link_hash(prev, event.content_hash) != event.chain_hash:
                return VerifyResult(checked, event.id, event.seq, "chain hash does not match")
            prev = event.chain_hash
            expected_seq += 1
            checked += 1
        last_seq = expected_seq - 1  # the last event's seq: every one matched expected_seq above
        if progress:
            progress(checked)
    if not include_unsealed:
        return VerifyResult(checked, last_seq=last_seq, last_hash=prev)
    # Unsealed events (written after the seal that preceded this check) still carry a content hash.
    for event in AuditEvent.objects.filter(seq__isnull=True).order_by("id").iterator():
        if content_hash(event.hashed_content()) != event.content_hash:
            return VerifyResult(
                checked, event.id, None, "content of an unsealed event does not match its hash"
            )
        checked += 1
    return VerifyResult(checked, last_seq=last_seq, last_hash=prev)


def _start_after_purge() -> tuple[int, str] | VerifyResult:
    """Where a check from the beginning starts: the genesis, or the checkpoint of the last purge.

    Retention deletes the oldest events and, in the same transaction, records an `audit.purged` event
    naming the last deleted one (`through_seq`, `through_hash`). The remaining chain must start right
    after it and link to that hash; the checkpoint event itself is checked as part of the chain.
    """
    first = (
        AuditEvent.objects.filter(seq__isnull=False).order_by("seq").only("id", "seq", "prev_hash").first()
    )
    if first is None or first.seq is None or first.seq == 1:
        return 0, GENESIS
    missing = first.seq - 1
    checkpoints = AuditEvent.objects.filter(action=PURGE_CHECKPOINT_ACTION).order_by("-id")
    for checkpoint in checkpoints.only("after").iterator():
        after = checkpoint.after if isinstance(checkpoint.after, dict) else {}
        if after.get("through_seq") != missing:
            continue
        if after.get("through_hash") != first.prev_hash:
            return VerifyResult(
                0,
                first.id,
                first.seq,
                f"link to the purged events does not match checkpoint event id={checkpoint.id}",
            )
        return missing, first.prev_hash
    return VerifyResult(
        0,
        first.id,
        first.seq,
        f"events 1 to {missing} are missing and no audit.purged checkpoint records that they were purged",
    )
