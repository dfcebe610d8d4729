"""The alert pipeline: store a delivery durably, turn it into alerts, de-duplicate them onto tickets.

Flow: the webhook view calls `delivery_receive`, one INSERT committed before the 202 reply and
nothing else (no queue round trip on the hot path). The worker's ingest loop
(socdesk.alerts.ingest_loop) polls for waiting deliveries and runs `deliveries_drain`, which claims
a batch with a conditional UPDATE, runs the adapters and writes the batch's alerts in one
transaction (socdesk.alerts.batch). A periodic sweep re-runs deliveries left pending by a worker
that died, so an acknowledged delivery is never lost. The steps that change tickets one alert at a
time are in socdesk.alerts.ticketing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from socdesk.accounts.models import ApiKey
from socdesk.alerts import adapters, delivery_writer, ticketing
from socdesk.alerts.adapters import AdapterError, AdapterSettings, NormalisedAlert
from socdesk.alerts.batch import BatchIngest, Incoming
from socdesk.alerts.choices import AlertStatus, DeliveryStatus
from socdesk.alerts.models import Alert, DedupKey, Integration, WebhookDelivery
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
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
MAX_ATTEMPTS = 5
RETRY_PAUSE_SECONDS = 10  # times the attempts so far: 10 s, 20 s, 30 s, 40 s, then failed


def integration_settings(integration: Integration | None) -> AdapterSettings:
    """The adapter-facing view of an integration (defaults when there is none)."""
    if integration is None:
        return AdapterSettings()
    return AdapterSettings(
        default_severity=integration.default_severity,
        severity_map=integration.severity_map if isinstance(integration.severity_map, dict) else {},
        grouping_key=integration.grouping_key or "",
        field_map=integration.field_map if isinstance(integration.field_map, dict) else {},
    )


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
    delivery.pk = delivery_writer.insert(delivery)
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


# --- processing --------------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "SOCDESK_DELIVERY_LEASE_SECONDS", 300))


def _claimable(now) -> Q:
    return Q(status=DeliveryStatus.PENDING) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _lease()))


def deliveries_claim(delivery_ids: list[int]) -> list[int]:
    """Take pending deliveries for processing; returns the ids this caller got, in id order.

    One conditional UPDATE stamps a fresh claim token on every row that is still pending and not
    held by a live claim; it is atomic on both databases, so of two workers racing for a row exactly
    one stamps it. A claim older than the lease is assumed dead (worker crashed) and may be taken over.
    """
    if not delivery_ids:
        return []
    now, token = timezone.now(), secrets.token_hex(8)
    updated = WebhookDelivery.objects.filter(_claimable(now), pk__in=delivery_ids).update(
        claimed_at=now, claim_token=token, attempts=F("attempts") + 1
    )
    if not updated:
        return []
    return list(WebhookDelivery.objects.filter(claim_token=token).order_by("id").values_list("id", flat=True))


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
    """Claim and process deliveries (one commit and one audit seal for the batch); see `_process_claimed`."""
    return _process_claimed(deliveries_claim(list(delivery_ids)), job=job)


def _process_claimed(
    claimed: list[int], *, job: str | None = None, after_turn: int | None = None
) -> dict[int, str]:
    """Process claimed deliveries: read them out of any transaction, write their alerts in one.

    Adapters and observable extraction (a quarter of a batch's time) run first, outside the ingest lock,
    so one ingest loop prepares its batch while another writes. The batch's alerts are then written
    in bulk; if that fails, each delivery is re-run in its own savepoint, so one bad delivery never
    takes the others down: adapter or service errors mark it failed with the reason (kept, never
    deleted); other errors (database trouble) leave it pending for the ingest loop until
    MAX_ATTEMPTS, then failed. `after_turn`: the claim before this one (see `_claim_next_batch`),
    whose batch must be written first.
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
    prepared = {delivery.pk: _prepare(delivery) for delivery in deliveries}
    # Fast path: the whole batch in one transaction, its alerts written in bulk (socdesk.alerts.batch)
    # with no savepoint per delivery. If anything fails, the batch is rolled back and re-run below
    # one delivery at a time, each in a savepoint, so one bad delivery never takes the others down.
    try:
        with transaction.atomic():
            _one_batch_at_a_time(after_turn)
            return _process_batch(deliveries, prepared, job=job)
    except _BatchFailed:
        log.warning(
            "a batch of %d deliveries failed; re-running them one at a time", len(deliveries), exc_info=True
        )
    outcome: dict[int, str] = {}
    with transaction.atomic():
        _one_batch_at_a_time(after_turn)
        for delivery in deliveries:
            outcome[delivery.pk] = _process_one(delivery, prepared[delivery.pk], job=job)
    return outcome


# Arbitrary constants naming PostgreSQL advisory locks: the one that serialises batch writing, the one
# that serialises claims, and the key space (two-int form) of the locks that order batches by claim.
INGEST_LOCK_KEY = 0x50C_A1E7
CLAIM_LOCK_KEY = 0x50C_C1A1
TURN_LOCK_SPACE = 0x50C_7E4
INGEST_TURN_COUNTER = "ingest_turn"


def _one_batch_at_a_time(after_turn: int | None = None) -> None:
    """On PostgreSQL, wait for any other worker's batch to commit before starting this one.

    Two batches that touch the same de-dup keys or observables in different orders deadlock (seen
    under load: PostgreSQL aborts one, and its deliveries wait for the sweep). Only the writing is
    serialised: each loop reads and normalises its next batch while another one writes (see
    `_process_claimed`). With `after_turn`, it first waits for that earlier claim's batch to be
    written, so batches are written in the order they were claimed. SQLite's IMMEDIATE transactions
    serialise writers already. Released at commit or rollback.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if after_turn is not None:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock_shared(%s, %s)", [TURN_LOCK_SPACE, _turn_key(after_turn)]
                )
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK_KEY])


@dataclass
class _Prepared:
    """A delivery read by its adapter, before any write: its alerts in key order, or why it failed."""

    items: list[Incoming] = field(default_factory=list)
    error: AdapterError | None = None  # the payload cannot be read: the delivery fails
    crash: Exception | None = None  # an unexpected error: the delivery is retried later


def _prepare(delivery: WebhookDelivery) -> _Prepared:
    """Run the adapter and find each alert's observables: pure CPU, no database writes.

    Never raises: whatever goes wrong is kept on the result and settled for this delivery alone when
    the batch is written (failed, or retried later), never for the batch around it.
    """
    try:
        alerts = adapters.normalise(
            delivery.adapter, bytes(delivery.body), integration_settings(delivery.integration)
        )
        # One key order for every delivery, so two deliveries sharing keys never deadlock.
        keyed = sorted(
            ((_key_hash(delivery.adapter, delivery.integration, a), a) for a in alerts), key=lambda p: p[0]
        )
        return _Prepared(
            items=[
                Incoming(delivery=delivery, alert=alert, key=key, pairs=ticketing.observable_pairs(alert))
                for key, alert in keyed
            ]
        )
    except AdapterError as exc:
        return _Prepared(error=exc)
    except Exception as exc:  # a bug in an adapter or in extraction: kept pending for a retry, then failed
        return _Prepared(crash=exc)


def _process_batch(
    deliveries: list[WebhookDelivery], prepared: dict[int, _Prepared], *, job: str | None
) -> dict[int, str]:
    """Ingest all the deliveries' alerts in bulk and mark the deliveries processed (or failed)."""
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
        BatchIngest(source_of=lambda delivery: delivery.adapter).ingest(items)
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


def _process_one(delivery: WebhookDelivery, ready: _Prepared, *, job: str | None) -> str:
    """Ingest one delivery's alerts one at a time, in a savepoint, and mark it processed (or failed)."""
    if ready.error is not None:
        _finish(delivery, DeliveryStatus.FAILED, error=ready.error.message)
        return DeliveryStatus.FAILED
    if ready.crash is not None:
        return _crashed(delivery, ready.crash)
    actor = _actor_for(delivery, job=job)
    try:
        with transaction.atomic():  # a savepoint inside the batch
            for item in ready.items:
                alert_ingest(
                    actor=actor,
                    alert=item.alert,
                    source=delivery.adapter,
                    integration=delivery.integration,
                    delivery=delivery,
                )
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
):
    changes = {"status": status, "error": error}
    if status == DeliveryStatus.PROCESSED:
        changes |= {"processed_at": timezone.now(), "alert_count": count}
    if retry_in is not None:  # the claim lapses (see _claimable) once the pause is over
        changes["claimed_at"] = timezone.now() - _lease() + retry_in
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)


def _batch_size() -> int:
    return max(1, getattr(settings, "SOCDESK_DELIVERY_BATCH", 100))


def deliveries_drain() -> dict[int, str]:
    """What the ingest loop runs: claim the oldest waiting deliveries, up to a batch, and process them.

    Returns what happened to each ({} when nothing was waiting). Batches are bounded by count
    (SOCDESK_DELIVERY_BATCH) and by body bytes (SOCDESK_DELIVERY_BATCH_BYTES), since one body may
    hold hundreds of alerts and on SQLite the batch's transaction holds the write lock that every
    webhook reply waits for. The first delivery is always taken, however large.
    """
    if connection.vendor == "postgresql":
        if not WebhookDelivery.objects.filter(_claimable(timezone.now())).exists():
            return {}  # the idle loop's look: one indexed query, no claim transaction
        claimed, turn = _claim_next_batch()
        try:
            return _process_claimed(claimed, after_turn=turn - 1 if claimed else None)
        finally:
            _turn_done(turn)
    candidates = (
        WebhookDelivery.objects.filter(_claimable(timezone.now()))
        .order_by("id")
        .annotate(size=Length("body"))
        .values_list("id", "size")[: _batch_size()]
    )
    budget, waiting = settings.SOCDESK_DELIVERY_BATCH_BYTES, []
    for delivery_id, size in candidates:
        budget -= size or 0
        if budget < 0 and waiting:
            break
        waiting.append(delivery_id)
    return deliveries_process(delivery_ids=waiting) if waiting else {}


def _claim_next_batch() -> tuple[list[int], int | None]:
    """PostgreSQL: claim the oldest waiting deliveries, within the batch's count and bytes; and a turn.

    Several loops each prepare their batch outside the ingest lock (see `_process_claimed`), so a
    later batch could be ready first; yet deliveries must be written in the order they arrived (a
    `resolved` notice written before its `firing` alert would be lost). So claims take turns (a short
    advisory lock), each claim gets the next turn number, and its loop holds a session lock on that
    number until its batch is committed (`_turn_done`); writing waits on the previous number's lock
    (`_one_batch_at_a_time`). A loop that dies releases its lock with its connection, so the next
    turn does not wait on it (its deliveries are taken again after the lease, as before). Returns
    ([], None) when nothing is waiting.
    """
    now, token = timezone.now(), secrets.token_hex(8)
    table = WebhookDelivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
        cursor.execute(
            f"""
            WITH waiting AS (
                SELECT id, octet_length(body) AS size FROM {table}
                WHERE status = %(pending)s AND (claimed_at IS NULL OR claimed_at < %(expired)s)
                ORDER BY id LIMIT %(count)s FOR UPDATE SKIP LOCKED
            ), budget AS (
                SELECT id, ROW_NUMBER() OVER w AS n, SUM(size) OVER w AS total
                FROM waiting WINDOW w AS (ORDER BY id)
            )
            UPDATE {table} SET claimed_at = %(now)s, claim_token = %(token)s, attempts = attempts + 1
            WHERE id IN (SELECT id FROM budget WHERE n = 1 OR total <= %(bytes)s)
            RETURNING id
            """,
            {
                "pending": DeliveryStatus.PENDING,
                "expired": now - _lease(),
                "count": _batch_size(),
                "now": now,
                "token": token,
                "bytes": settings.SOCDESK_DELIVERY_BATCH_BYTES,
            },
        )
        claimed = sorted(row[0] for row in cursor.fetchall())
        if not claimed:
            return [], None
        turn = next_counter_value(INGEST_TURN_COUNTER)
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [TURN_LOCK_SPACE, _turn_key(turn)])
        return claimed, turn


def _turn_key(turn: int) -> int:
    return turn % 2**31  # the two-key advisory locks take int4 keys


def _turn_done(turn: int | None) -> None:
    """Let the next claim's batch be written (its loop waits for this; see `_claim_next_batch`)."""
    if turn is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [TURN_LOCK_SPACE, _turn_key(turn)])


@transaction.atomic
def deliveries_requeue(*, actor: Actor, delivery_ids: list[int]) -> int:
    """Put failed deliveries back to pending (after fixing the integration) for the ingest loop to re-run."""
    failed = list(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=delivery_ids, status=DeliveryStatus.FAILED)
        .values_list("id", flat=True)
    )
    if not failed:
        return 0
    WebhookDelivery.objects.filter(pk__in=failed).update(
        status=DeliveryStatus.PENDING, claimed_at=None, claim_token="", attempts=0, error=""
    )
    record(
        actor=actor,
        action="delivery.requeued",
        target_type="webhookdelivery",
        target_id=",".join(map(str, failed))[:64],
        target_label=f"{len(failed)} webhook deliveries",
        after={"deliveries": failed},
    )
    if HUEY.immediate:
        transaction.on_commit(lambda: deliveries_process(delivery_ids=failed))
    return len(failed)


def deliveries_sweep(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Process deliveries still pending after `older_than` (worker was down, task lost); returns how many."""
    if older_than is None:
        older_than = timedelta(seconds=getattr(settings, "SOCDESK_DELIVERY_SWEEP_AFTER", 30))
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


# --- ingest ------------------------------------------------------------------------------------------


def _key_hash(source: str, integration: Integration | None, alert: NormalisedAlert) -> str:
    scope = f"{source}\x1f{integration.pk if integration else '-'}\x1f{alert.dedup_key}"
    return hashlib.sha256(scope.encode("utf-8", "replace")).hexdigest()


# No savepoint of its own inside a caller's transaction (two round trips per alert saved): its one
# caller, _process_one, isolates each delivery, and a failure here must undo the whole delivery anyway.
@transaction.atomic(savepoint=False)
def alert_ingest(
    *,
    actor: Actor,
    alert: NormalisedAlert,
    source: str,
    integration: Integration | None = None,
    delivery: WebhookDelivery | None = None,
) -> Alert | None:
    """Record one normalised alert: a repeat counts on its open ticket, a new key opens a ticket.

    Race-free: the de-dup key row is inserted-or-ignored, then locked (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), so of N concurrent deliveries
    of a new key exactly one opens the ticket and the others count as repeats on it.
    Returns the Alert, or None for a `resolved` notice about an alert that has no open ticket.
    """
    key = _key_hash(source, integration, alert)
    DedupKey.objects.bulk_create([DedupKey(key=key, label=alert.dedup_key[:300])], ignore_conflicts=True)
    dedup = DedupKey.objects.select_for_update(of=("self",)).select_related("ticket").get(key=key)
    ticket = dedup.ticket
    now = timezone.now()

    if ticket is not None and ticket.is_open:
        existing = Alert.objects.filter(ticket=ticket, fingerprint=alert.fingerprint[:255]).first()
        if existing is not None:
            return ticketing.repeat(
                actor=actor,
                existing=existing,
                alert=alert,
                ticket=ticket,
                integration=integration,
                delivery=delivery,
                now=now,
            )
        if alert.status == AlertStatus.RESOLVED:
            return None
        return ticketing.new_alert(
            actor=actor,
            alert=alert,
            source=source,
            integration=integration,
            delivery=delivery,
            dedup=dedup,
            ticket=ticket,
            previous=None,
            now=now,
            joined=True,
        )

    if alert.status == AlertStatus.RESOLVED:
        latest = (
            Alert.objects.filter(
                dedup_key=dedup, fingerprint=alert.fingerprint[:255], status=AlertStatus.FIRING
            )
            .order_by("-id")
            .first()
        )
        if latest is not None:
            ticketing.mark_resolved(actor, latest, now)
        return latest

    new_ticket = ticketing.open_ticket(
        actor=actor, alert=alert, source=source, integration=integration, previous=ticket
    )
    dedup.ticket = new_ticket
    dedup.save(update_fields=["ticket"])
    return ticketing.new_alert(
        actor=actor,
        alert=alert,
        source=source,
        integration=integration,
        delivery=delivery,
        dedup=dedup,
        ticket=new_ticket,
        previous=ticket,
        now=now,
    )
