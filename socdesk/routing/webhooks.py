"""Outgoing webhooks of ticket filters: queued with the ticket, sent after commit, signed, retried.

A filter's `webhook` action writes a `FilterWebhookDelivery` row in the transaction that ran the filter
and enqueues a worker task after commit; the task claims the row with a conditional UPDATE (so two
workers never send it twice), POSTs the JSON body with an HMAC-SHA256 signature, and records the result.
A failed attempt waits `SOCDESK_FILTER_WEBHOOK_BACKOFF` seconds, doubled at each attempt, and the
periodic retry job sends it again, until `SOCDESK_FILTER_WEBHOOK_ATTEMPTS` attempts have failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from socdesk.routing.choices import WebhookStatus
from socdesk.routing.models import FilterRule, FilterWebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SOCdesk-Signature"
DELIVERY_HEADER = "X-SOCdesk-Delivery"
EVENT_HEADER = "X-SOCdesk-Event"
MAX_RESPONSE_READ = 4096  # bytes of a receiver's answer read (and dropped) before closing


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys, the same at every attempt."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def webhook_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the body with the secret (a receiver recomputes and compares)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the attempt numbered `attempts` failed (1 → the base, then doubling)."""
    return timedelta(seconds=settings.SOCDESK_FILTER_WEBHOOK_BACKOFF * 2 ** max(attempts - 1, 0))


def webhook_deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """Send one due delivery if this process wins its claim; returns its status afterwards.

    Idempotent: a delivery already sent, given up, not yet due or claimed by another worker is left
    alone (its status is returned).
    """
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.SOCDESK_FILTER_WEBHOOK_TIMEOUT + 60)
    claimed = FilterWebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=lease)
    delivery = FilterWebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if not claimed:
        return delivery.status
    code, error = _post(delivery)
    if error is None:
        delivery.status, delivery.delivered_at, delivery.last_error = WebhookStatus.DELIVERED, now, ""
    elif delivery.attempts >= settings.SOCDESK_FILTER_WEBHOOK_ATTEMPTS:
        delivery.status, delivery.last_error = WebhookStatus.FAILED, error
        log.warning(
            "Filter webhook %s to %s given up after %s attempts: %s",
            delivery.pk,
            delivery.url,
            delivery.attempts,
            error,
        )
    else:
        delivery.last_error = error
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.response_code = code
    delivery.save(update_fields=["status", "delivered_at", "last_error", "next_attempt_at", "response_code"])
    return delivery.status


def webhooks_retry_due(*, limit: int = 200) -> int:
    """Send the deliveries whose next attempt is due (the periodic job); returns how many were tried."""
    due = list(
        FilterWebhookDelivery.objects.filter(
            status=WebhookStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        webhook_deliver(pk)
    return len(due)


def _secret_for(delivery: FilterWebhookDelivery) -> str:
    own = (
        FilterRule.objects.filter(pk=delivery.rule_id).values_list("webhook_secret", flat=True).first()
        if delivery.rule_id
        else None
    )
    return own or settings.SOCDESK_FILTER_WEBHOOK_SECRET


def _post(delivery: FilterWebhookDelivery) -> tuple[int | None, str | None]:
    """POST the delivery; (response code, None) on a 2xx, else (code or None, what went wrong)."""
    body = webhook_body(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SOCdesk-ticket-filters",
        DELIVERY_HEADER: str(delivery.pk),
        EVENT_HEADER: delivery.event,
    }
    secret = _secret_for(delivery)
    if secret:
        headers[SIGNATURE_HEADER] = webhook_signature(secret, body)
    request = urllib.request.Request(delivery.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.SOCDESK_FILTER_WEBHOOK_TIMEOUT) as response:
            response.read(MAX_RESPONSE_READ)
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"The receiver answered HTTP {exc.code} {exc.reason}."[:500]
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"Could not reach {delivery.url}: {reason}."[:500]
