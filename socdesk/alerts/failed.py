"""Reads of failed webhook deliveries, scoped to who asks: the failed-deliveries page, its API, the counts.

A delivery is `failed` once its attempts ran out (or its body can never make an alert): it was
acknowledged with a 2xx, so a person must see it and decide. Who may: admins (every delivery) and
department leads, that is agents whose role grants `manage` in a department, for the deliveries of
integrations whose tickets go to that department. Everyone else is told the page does not exist.
Writes (retry) are `socdesk.alerts.ingest.deliveries_requeue`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent
from socdesk.accounts.selectors import departments_with_perm
from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.models import WebhookDelivery
from socdesk.core.errors import NotFound

PREVIEW_BYTES = 600
# The navigation's badge and /healthz count this far, then say "more" (an index read, never a scan).
COUNT_CAP = 1000


def _failed() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED)


def may_see_failed_deliveries(agent: Agent) -> bool:
    """Admins, and agents who manage at least one department."""
    return agent.is_admin or bool(departments_with_perm(agent, Perm.MANAGE))


def failed_deliveries_visible_to(agent: Agent) -> QuerySet[WebhookDelivery]:
    """Failed deliveries the agent may see and retry, newest first (none for agents who may not).

    A lead sees their departments' integrations' deliveries; deliveries of no integration (a key
    without one) or of one whose department is unset are the admins' to handle.
    """
    managed = departments_with_perm(agent, Perm.MANAGE)
    failed = _failed().select_related("integration__department").order_by("-id")
    if managed is None:
        return failed
    return failed.filter(integration__department_id__in=managed)


def failed_deliveries_all() -> QuerySet[WebhookDelivery]:
    """Every failed delivery, newest first (admin-scoped API keys)."""
    return _failed().select_related("integration__department").order_by("-id")


def failed_delivery_get_from(deliveries: QuerySet[WebhookDelivery], delivery_id: int) -> WebhookDelivery:
    """One failed delivery among those the caller may see; NotFound (a 404) otherwise."""
    found = deliveries.filter(pk=delivery_id).first()
    if found is None:
        raise NotFound(f"There is no failed delivery {delivery_id} that you may see (or it was retried).")
    return found


def failed_count(deliveries: QuerySet[WebhookDelivery] | None = None) -> int:
    """How many failed deliveries (of `deliveries`, default all), counted up to COUNT_CAP."""
    queryset = _failed() if deliveries is None else deliveries
    return queryset.order_by()[:COUNT_CAP].count()


@dataclass(frozen=True)
class PayloadPreview:
    """The start of a delivery's body as text (escaped by the template like any other text)."""

    text: str
    truncated: bool
    size: int


def payload_preview(delivery: WebhookDelivery, limit: int = PREVIEW_BYTES) -> PayloadPreview:
    """The first `limit` bytes of the body, decoded leniently: it may be anything a tool sent."""
    body = bytes(delivery.body or b"")
    text = body[:limit].decode("utf-8", errors="replace")
    return PayloadPreview(text=text, truncated=len(body) > limit, size=len(body))
