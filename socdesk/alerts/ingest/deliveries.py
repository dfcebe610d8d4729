"""Deliveries through the engine: receive and commit, claim, prepare, plan and write, finish.

The webhook reply calls `delivery_receive` (one INSERT, committed before the 202). The ingest loop
(socdesk.alerts.ingest.loop) calls `deliveries_drain`, which claims the oldest waiting deliveries,
prepares them outside any lock (socdesk.alerts.ingest.prepare), and writes their alerts in one
transaction through the engine (socdesk.alerts.ingest.write). The TheHive API's synchronous reply,
the periodic sweep and requeued deliveries go through the same `deliveries_process`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from socdesk.accounts.models import ApiKey
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.ingest import group_commit
from socdesk.alerts.ingest.claimants import claim_token, dead_claims_requeue
from socdesk.alerts.ingest.collector import collection_paused
from socdesk.alerts.ingest.plan import Incoming
from socdesk.alerts.ingest.prepare import Prepared, prepare_delivery
from socdesk.alerts.ingest.write import ingest
from socdesk.alerts.models import Alert, Integration, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.metrics import DELIVERIES_ACKNOWLEDGED, DELIVERIES_FAILED, count_after_commit
from socdesk.core.models import next_counter_value

log = logging.getLogger(__name__)

# Headers worth keeping with a delivery (for support and signature checks); never credentials.
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Grafana-Alert-Signature",
    "X-Forwarded-For",
    "X-Request-Id",
    "X-Splunk-Request-Channel",
)
# Where a WSGI server puts each of them (Content-Type has no HTTP_ prefix, as in Django's HttpHeaders).
_KEPT_META = tuple(
    (name, "CONTENT_TYPE" if name == "Content-Type" else "HTTP_" + name.upper().replace("-", "_"))
    for name in KEPT_HEADERS
)
MAX_ATTEMPTS = 5


def kept_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """The KEPT_HEADERS a request carries, read straight from its META (what `dict(request.headers)`
    gives for them, without turning every header of the request into a dict first)."""
    return {name: meta[key] for name, key in _KEPT_META if key in meta}


RETRY_PAUSE_SECONDS = 10  # times the attempts so far: 10 s, 20 s, 30 s, 40 s, then failed


# --- receiving ---------------------------------------------------------------------------------------


def delivery_receive(
    *,
    adapter: str,
    body: bytes,
    content_type: str = "",
    headers: dict[str, str] | None = None,
    client_ip: str | None = None,
    integration: Integration | None = None,
    api_key: ApiKey | None = None,
) -> WebhookDelivery:
    """Store a request body verbatim and commit it; the worker's ingest loop picks it up.

    The row itself is the receipt (who sent what, when, from where), so no audit event is written
    here; the alerts it produces are audited when they are ingested. With tasks running in-process
    (SOCDESK_TASKS_IMMEDIATE, the tests) the delivery is processed right after the commit instead.
    """
    kept = {name: value[:500] for name, value in (headers or {}).items() if name in KEPT_HEADERS}
    delivery = WebhookDelivery(
        integration=integration,
        adapter=adapter,
        body=body,
        content_type=content_type[:200],
        headers=kept,
        received_at=timezone.now(),
        client_ip=client_ip,
        api_key=api_key,
    )
    db = transaction.get_connection()  # looked up once: each lookup of the thread's connection costs
    delivery.pk = group_commit.insert(delivery, db)
    count_after_commit(DELIVERIES_ACKNOWLEDGED, db=db, adapter=adapter)
    if HUEY.immediate:
        transaction.on_commit(lambda: deliveries_process(delivery_ids=[delivery.pk]))
    return delivery


def delivery_receive_and_process(
    *,
    adapter: str,
    body: bytes,
    content_type: str = "",
    client_ip: str | None = None,
    integration: Integration | None = None,
    api_key: ApiKey | None = None,
) -> tuple[WebhookDelivery, list[Alert]]:
    """Store a body durably, then turn it into alerts at once (for APIs that answer with the alert).

    Used by the TheHive-compatible API, whose clients expect the created alert in the reply. If the
    processing fails the delivery is still stored (failed or pending, never lost) and the reason is in
    `delivery.error`. The ingest loop never sees it: it is claimed here first.
    """
    delivery = delivery_receive(
        adapter=adapter,
        body=body,
        content_type=content_type,
        client_ip=client_ip,
        integration=integration,
        api_key=api_key,
    )
    deliveries_process(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    alerts = list(Alert.objects.filter(delivery=delivery).select_related("ticket").order_by("id"))
    return delivery, alerts


def delivery_rejected_by(delivery: WebhookDelivery) -> str | None:
    """The ticket filter that refused this delivery's alert (its `alert.rejected` event), or None."""
    events = AuditEvent.objects.filter(
        action="alert.rejected",
        target_type="integration",
        target_id=str(delivery.integration_id) if delivery.integration_id else "",
        after__delivery=delivery.pk,
    )
    after = events.values_list("after", flat=True).first()
    return str(after.get("filter") or "") if isinstance(after, dict) else None


# --- processing --------------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.SOCDESK_DELIVERY_LEASE_SECONDS)


def _claimable(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _lease()))


def deliveries_claim(delivery_ids: list[int]) -> list[int]:
    """Take pending deliveries for processing; returns the ids this caller got, in id order.

    One conditional UPDATE stamps a fresh claim token on every row that is still pending and not
    held by a live claim; it is atomic on both databases, so of two workers racing for a row exactly
    one stamps it. A claim older than the lease is assumed dead (worker crashed) and may be taken over;
    so is one whose loop stopped beating (socdesk.alerts.ingest.claimants), within seconds.
    """
    return _claim(delivery_ids)[1]


def _claim(delivery_ids: list[int]) -> tuple[str, list[int]]:
    """`deliveries_claim`, also returning the claim's token (the batch checks it before writing)."""
    token = claim_token()
    if not delivery_ids:
        return token, []
    now = timezone.now()
    updated = WebhookDelivery.objects.filter(_claimable(now), pk__in=delivery_ids).update(
        claimed_at=now, claim_token=token, attempts=F("attempts") + 1
    )
    if not updated:
        return token, []
    claimed = WebhookDelivery.objects.filter(pk__in=delivery_ids, claim_token=token).order_by("id")
    return token, list(claimed.values_list("id", flat=True))


def delivery_claim(delivery_id: int) -> bool:
    """Take one pending delivery; False when another worker holds it or it is done."""
    return deliveries_claim([delivery_id]) == [delivery_id]


def _actor_for(delivery: WebhookDelivery, *, job: str | None) -> Actor:
    """The key that sent the delivery (or the integration token); a sweeper job names the key it acts for."""
    key, integration = delivery.api_key, delivery.integration
    if job is None and key is not None:
        return Actor.for_api_key(key, ip=delivery.client_ip)
    sender = f"key:{key.name}" if key else (f"integration:{integration.name}" if integration else "webhook")
    if job is None:
        return Actor(kind="system", label=sender, ident=sender[:64], ip=delivery.client_ip)
    return Actor(kind="system", label=f"{job} for {sender}", ident=job, ip=delivery.client_ip)


def delivery_process(*, delivery_id: int, job: str | None = None) -> str:
    """Turn one delivery into alerts; idempotent (a processed or claimed delivery is 'skipped')."""
    return deliveries_process(delivery_ids=[delivery_id], job=job).get(delivery_id, "skipped")


def deliveries_process(*, delivery_ids: list[int], job: str | None = None) -> dict[int, str]:
    """Claim and process deliveries (one commit for the batch); see `_process_claimed`."""
    token, claimed = _claim(list(delivery_ids))
    return _process_claimed(claimed, token=token, job=job)


@collection_paused()
def _process_claimed(
    claimed: list[int], *, token: str, job: str | None = None, after_turn: int | None = None
) -> dict[int, str]:
    """Process claimed deliveries: read them out of any transaction, write their alerts in one.

    Adapters and observable extraction run first, outside the ingest lock,
    so one ingest loop prepares its batch while another writes. The batch's alerts are then written
    in bulk; if that fails, each delivery is re-run in its own savepoint, so one bad delivery never
    takes the others down: adapter or service errors mark it failed with the reason (kept, never
    deleted); other errors (database trouble) leave it pending for the ingest loop until
    MAX_ATTEMPTS, then failed. `after_turn`: the claim before this one (see `_claim_next_batch`),
    whose batch must be written first. Only deliveries this claim (`token`) still holds when
    the batch writes are written (see `_still_held`). The garbage collector waits for the batch to
    end (socdesk.alerts.ingest.collector).
    """
    if not claimed:
        return {}
    deliveries = list(
        WebhookDelivery.objects.select_related(
            "integration__department", "integration__team", "api_key__agent__user"
        )
        .filter(pk__in=claimed)
        .order_by("id")
    )
    prepared = {delivery.pk: prepare_delivery(delivery) for delivery in deliveries}
    # The whole batch in one transaction with no savepoint per delivery. If anything fails, the batch
    # is rolled back and re-run below one delivery at a time (each a batch of one, in a savepoint),
    # so one bad delivery never takes the others down.
    try:
        with transaction.atomic():
            _one_batch_at_a_time(after_turn)
            return _process_batch(_still_held(deliveries, token), prepared, job=job)
    except _BatchFailed:
        log.warning(
            "a batch of %d deliveries failed; re-running them one at a time", len(deliveries), exc_info=True
        )
    outcome: dict[int, str] = {}
    with transaction.atomic():
        _one_batch_at_a_time(after_turn)
        for delivery in _still_held(deliveries, token):
            outcome[delivery.pk] = _process_one(delivery, prepared[delivery.pk], job=job)
    return outcome


def _still_held(deliveries: list[WebhookDelivery], token: str) -> list[WebhookDelivery]:
    """The deliveries this claim still holds, locked until the batch commits; drops the others.

    A loop stalled longer than SOCDESK_INGEST_CLAIMANT_TIMEOUT (or the lease) is taken for dead and
    its claims are requeued and perhaps taken by another loop, which may even have written them. This
    is what makes that harmless: read inside the batch's transaction, under the row locks on
    PostgreSQL (a takeover's UPDATE then waits for this commit and finds the rows no longer pending)
    and under the write lock on SQLite, so each delivery is written by exactly one claim.
    """
    ids = [delivery.pk for delivery in deliveries]
    held = set(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=ids, claim_token=token, status=DeliveryStatus.PENDING)
        .values_list("id", flat=True)
    )
    if len(held) < len(deliveries):
        log.warning(
            "%d of a batch's deliveries were taken over by another ingest loop; leaving them to it",
            len(deliveries) - len(held),
        )
    return [delivery for delivery in deliveries if delivery.pk in held]


# Arbitrary constants naming the locks that serialise batch writing and claims, and the key space
# of the locks that order batches by claim (socdesk.core.sql.lock / hold).
INGEST_LOCK_KEY = 0x50C_A1E7
CLAIM_LOCK_KEY = 0x50C_C1A1
TURN_LOCK_SPACE = 0x50C_7E4
INGEST_TURN_COUNTER = "ingest_turn"


def _one_batch_at_a_time(after_turn: int | None = None) -> None:
    """Wait for any other worker's batch to commit before writing this one.

    Two batches that touch the same de-dup keys or observables in different orders would deadlock.
    Only the writing is serialised: each loop reads and normalises its next batch while another one
    writes (see `_process_claimed`). With `after_turn`, it first waits for that earlier claim's
    batch to be written, so batches are written in the order they were claimed. Released at commit
    or rollback (on SQLite the writer lock serialises writers already).
    """
    if after_turn is not None:
        sql.lock(TURN_LOCK_SPACE, _turn_key(after_turn), shared=True)
    sql.lock(INGEST_LOCK_KEY)


def _process_batch(
    deliveries: list[WebhookDelivery], prepared: dict[int, Prepared], *, job: str | None
) -> dict[int, str]:
    """Ingest all the deliveries' alerts as one batch and mark the deliveries processed (or failed)."""
    outcome: dict[int, str] = {}
    items: list[Incoming] = []
    done: dict[int, list[int]] = {}  # alert count -> deliveries, marked processed together
    for delivery in deliveries:
        ready = prepared[delivery.pk]
        if ready.error is not None:
            _finish(delivery, DeliveryStatus.FAILED, error=ready.error.message)
            outcome[delivery.pk] = DeliveryStatus.FAILED
            continue
        if ready.crash is not None:
            outcome[delivery.pk] = _crashed(delivery, ready.crash)
            continue
        actor = _actor_for(delivery, job=job)
        for item in ready.items:
            item.actor = actor
        items += ready.items
        done.setdefault(len(ready.items), []).append(delivery.pk)
        outcome[delivery.pk] = DeliveryStatus.PROCESSED
    try:
        ingest(items)
    except Exception as exc:
        raise _BatchFailed from exc
    now = timezone.now()
    for count, ids in done.items():
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PROCESSED, error="", processed_at=now, alert_count=count
        )
    return outcome


class _BatchFailed(Exception):
    """A delivery failed inside an un-isolated batch: roll the batch back and re-run it isolated."""


def _process_one(delivery: WebhookDelivery, ready: Prepared, *, job: str | None) -> str:
    """Ingest one delivery's alerts as a batch of its own, in a savepoint; mark it processed (or failed)."""
    if ready.error is not None:
        _finish(delivery, DeliveryStatus.FAILED, error=ready.error.message)
        return DeliveryStatus.FAILED
    if ready.crash is not None:
        return _crashed(delivery, ready.crash)
    actor = _actor_for(delivery, job=job)
    try:
        with transaction.atomic():  # a savepoint inside the batch
            for item in ready.items:
                item.actor = actor
            ingest(ready.items)
            _finish(delivery, DeliveryStatus.PROCESSED, count=len(ready.items))
        return DeliveryStatus.PROCESSED
    except (AdapterError, ServiceError) as exc:
        _finish(delivery, DeliveryStatus.FAILED, error=exc.message)
        return DeliveryStatus.FAILED
    except Exception as exc:
        return _crashed(delivery, exc)


def _crashed(delivery: WebhookDelivery, exc: Exception) -> str:
    """An unexpected error: pending again, retried after a growing pause, until MAX_ATTEMPTS, then failed.

    The pause matters: the ingest loop goes straight on while it finds work, so a delivery released
    at once would use up its attempts within a second of a brief database hiccup.
    """
    log.exception("processing delivery %s failed", delivery.pk)
    failed = delivery.attempts >= MAX_ATTEMPTS  # attempts already counts this claim
    status = DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING
    retry_in = timedelta(seconds=RETRY_PAUSE_SECONDS * delivery.attempts)
    _finish(delivery, status, error=f"{type(exc).__name__}: {exc}"[:2000], retry_in=retry_in)
    return status


def _finish(
    delivery: WebhookDelivery,
    status: str,
    *,
    error: str = "",
    count: int = 0,
    retry_in: timedelta | None = None,
) -> None:
    changes: dict[str, Any] = {"status": status, "error": error}
    if status == DeliveryStatus.FAILED:
        count_after_commit(DELIVERIES_FAILED, adapter=delivery.adapter)
    if status == DeliveryStatus.PROCESSED:
        changes |= {"processed_at": timezone.now(), "alert_count": count}
    if retry_in is not None:  # the claim lapses (see _claimable) once the pause is over
        changes["claimed_at"] = timezone.now() - _lease() + retry_in
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)


def _batch_size() -> int:
    return max(1, settings.SOCDESK_DELIVERY_BATCH)


def deliveries_drain() -> dict[int, str]:
    """What the ingest loop runs: claim the oldest waiting deliveries, up to a batch, and process them.

    Returns what happened to each ({} when nothing was waiting). Batches are bounded by count
    (SOCDESK_DELIVERY_BATCH) and by body bytes (SOCDESK_DELIVERY_BATCH_BYTES), since one body may
    hold hundreds of alerts and on SQLite the batch's transaction holds the write lock that every
    webhook reply waits for. The first delivery is always taken, however large.
    """
    if not WebhookDelivery.objects.filter(_claimable(timezone.now())).exists():
        return {}  # the idle loop's look: one indexed query, no claim transaction
    claimed, token, turn = _claim_next_batch()
    try:
        return _process_claimed(claimed, token=token, after_turn=turn - 1 if turn is not None else None)
    finally:
        _turn_done(turn)


def _claim_next_batch() -> tuple[list[int], str, int | None]:
    """Claim the oldest waiting deliveries, within the batch's count and bytes; and a turn.

    Several loops each prepare their batch outside the ingest lock (see `_process_claimed`), so a
    later batch could be ready first; yet deliveries must be written in the order they arrived (a
    `resolved` notice written before its `firing` alert would be lost). So claims take turns (a short
    lock), each claim gets the next turn number, and its loop holds a session lock on that number
    until its batch is committed (`_turn_done`); writing waits on the previous number's lock
    (`_one_batch_at_a_time`). A loop that dies releases its lock with its connection, so the next
    turn does not wait on it (its deliveries are taken again once its heartbeat is found stopped).
    Returns ([], token, None) when nothing is waiting.
    """
    now, token = timezone.now(), claim_token()
    with transaction.atomic():
        sql.lock(CLAIM_LOCK_KEY)
        claimed = sql.claim_oldest(
            WebhookDelivery,
            expired=now - _lease(),
            count=_batch_size(),
            max_bytes=settings.SOCDESK_DELIVERY_BATCH_BYTES,
            now=now,
            token=token,
            pending=DeliveryStatus.PENDING,
        )
        if not claimed:
            return [], token, None
        turn = next_counter_value(INGEST_TURN_COUNTER)
        sql.hold(TURN_LOCK_SPACE, _turn_key(turn))
        return claimed, token, turn


def _turn_key(turn: int) -> int:
    return turn % 2**31  # the two-key locks take int4 keys


def _turn_done(turn: int | None) -> None:
    """Let the next claim's batch be written (its loop waits for this; see `_claim_next_batch`)."""
    if turn is not None:
        sql.release(TURN_LOCK_SPACE, _turn_key(turn))


@transaction.atomic
def deliveries_requeue(*, actor: Actor, delivery_ids: list[int]) -> int:
    """Put failed deliveries back to pending (after fixing the integration) for the ingest loop to re-run.

    The caller has already narrowed `delivery_ids` to what its user may see (socdesk.alerts.failed);
    ids that are not failed (any more) are left alone. Returns how many were requeued; one audit
    event names them with the error each had, so the trail keeps why they failed the first time.
    """
    failed = list(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=delivery_ids, status=DeliveryStatus.FAILED)
        .order_by("id")
        .values_list("id", "error", "attempts")
    )
    if not failed:
        return 0
    ids = [row[0] for row in failed]
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, claimed_at=None, claim_token="", attempts=0, error=""
    )
    record(
        actor=actor,
        action="delivery.requeued",
        target_type="webhookdelivery",
        target_id=",".join(map(str, ids))[:64],
        target_label=f"{len(ids)} webhook deliveries" if len(ids) > 1 else f"webhook delivery {ids[0]}",
        before={"failed": [{"id": pk, "error": error[:300], "attempts": n} for pk, error, n in failed]},
        after={"deliveries": ids},
    )
    if HUEY.immediate:
        transaction.on_commit(lambda: deliveries_process(delivery_ids=ids))
    return len(ids)


def deliveries_sweep(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Process deliveries still pending after `older_than` (worker was down, task lost); returns how many."""
    if older_than is None:
        older_than = timedelta(seconds=settings.SOCDESK_DELIVERY_SWEEP_AFTER)
    dead_claims_requeue()  # also here: a worker with its ingest loop stuck still recovers others' claims
    now = timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(_claimable(now), received_at__lte=now - older_than)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for start in range(0, len(ids), _batch_size()):
        done += len(deliveries_process(delivery_ids=ids[start : start + _batch_size()], job="alert-sweeper"))
    return done
