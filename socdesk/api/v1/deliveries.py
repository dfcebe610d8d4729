"""Failed webhook deliveries: list them and retry them (one, several, or all).

Who may: a key with the admin scope (an admin's personal token sees what that admin sees, which is
everything); in the console session, admins and department leads (a role with `manage`), who see
their departments' integrations' deliveries. Anything else is a 403 naming what is missing; a delivery
the caller may not see is a 404, as if it did not exist. Retrying goes through the audited
`deliveries_requeue` service, exactly as the console's Retry button does.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from ninja import Path, Query, Router, Schema
from pydantic import Field, model_validator

from socdesk.alerts.choices import Adapter
from socdesk.alerts.failed import (
    COUNT_CAP,
    failed_count,
    failed_deliveries_all,
    failed_deliveries_visible_to,
    failed_delivery_get_from,
    may_see_failed_deliveries,
    payload_preview,
)
from socdesk.alerts.ingest import deliveries_requeue
from socdesk.alerts.models import WebhookDelivery
from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import ANY_SCOPE, Caller, requires
from socdesk.core.errors import NotFound, PermissionDenied

router = Router(tags=["deliveries"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}
MAX_PAGE = 200


def _visible(caller: Caller) -> QuerySet[WebhookDelivery]:
    """The failed deliveries this caller may see and retry; PermissionDenied (403) when none at all."""
    agent = caller.agent
    if caller.key is not None:
        if not caller.has_scope("admin"):
            raise PermissionDenied(
                "Failed deliveries need a key with the admin scope (or a signed-in admin or department "
                "lead); this key lacks it."
            )
        return failed_deliveries_visible_to(agent) if agent is not None else failed_deliveries_all()
    if agent is None or not may_see_failed_deliveries(agent):
        raise PermissionDenied("Failed deliveries are for admins and department leads (a role with manage).")
    return failed_deliveries_visible_to(agent)


class IntegrationRef(Schema):
    id: int
    name: str
    department: str | None = Field(description="The department slug its tickets go to.")


class FailedDeliveryOut(Schema):
    id: int
    adapter: Adapter = Field(description="The source's adapter (alertmanager, grafana, ...).")
    integration: IntegrationRef | None = Field(description="None when it came with a key and no integration.")
    received_at: datetime
    client_ip: str | None
    attempts: int
    error: str = Field(description="Why the last attempt failed.")
    content_type: str
    size: int = Field(description="Body size in bytes.")
    payload_preview: str = Field(description="The body's first bytes as text (undecodable bytes replaced).")
    preview_truncated: bool
    retry_url: str


class FailedDeliveryList(Schema):
    items: list[FailedDeliveryOut]
    count: int = Field(description=f"How many failed deliveries you may see, counted up to {COUNT_CAP}.")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )


class FailedListParams(QueryParams):
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    before: DbId | None = Field(None, description="Only deliveries with a smaller id (the next page).")


class RetryIn(InputSchema):
    ids: list[DbId] = Field(default_factory=list, max_length=COUNT_CAP, description="Deliveries to retry.")
    all: bool = Field(False, description=f"Retry every failed delivery you may see (up to {COUNT_CAP}).")

    @model_validator(mode="after")
    def _one_or_the_other(self) -> RetryIn:
        if bool(self.ids) == self.all:
            raise ValueError("send either ids (a non-empty list) or all: true")
        return self


class RetryOut(Schema):
    requeued: int = Field(description="How many went back to the queue (the ingest loop runs them).")
    ids: list[int]


def _out(delivery: WebhookDelivery) -> dict:
    integration = delivery.integration
    preview = payload_preview(delivery)
    return {
        "id": delivery.pk,
        "adapter": delivery.adapter,
        "integration": integration
        and {
            "id": integration.pk,
            "name": integration.name,
            "department": integration.department.slug if integration.department else None,
        },
        "received_at": delivery.received_at,
        "client_ip": delivery.client_ip,
        "attempts": delivery.attempts,
        "error": delivery.error,
        "content_type": delivery.content_type,
        "size": preview.size,
        "payload_preview": preview.text,
        "preview_truncated": preview.truncated,
        "retry_url": reverse("api-v1:failed_delivery_retry", kwargs={"delivery_id": delivery.pk}),
    }


@router.get(
    "/deliveries/failed",
    response={200: FailedDeliveryList} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="failed_delivery_list",
    summary="List failed deliveries",
)
def failed_delivery_list(request, params: Query[FailedListParams]):
    """Acknowledged webhook deliveries that could not become tickets, newest first, with the error and
    the start of the body. Scope: admin (or a signed-in admin or department lead)."""
    visible = _visible(request.auth)
    page = visible.filter(id__lt=params.before) if params.before else visible
    rows = list(page[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return {
        "items": [_out(delivery) for delivery in rows],
        "count": failed_count(visible),
        "next_before": rows[-1].pk if more else None,
    }


@router.post(
    "/deliveries/failed/retry",
    response={200: RetryOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="failed_delivery_retry_many",
    summary="Retry failed deliveries",
)
def failed_delivery_retry_many(request, payload: RetryIn):
    """Put the given failed deliveries (or all you may see) back in the queue; audited as
    `delivery.requeued`. Ids you may not see, or that are no longer failed, are a 404 naming them, and
    nothing is requeued. Scope: admin (or a signed-in admin or department lead)."""
    caller: Caller = request.auth
    visible = _visible(caller)
    if payload.all:
        ids = list(visible.values_list("id", flat=True)[:COUNT_CAP])
    else:
        wanted = sorted(set(payload.ids))
        ids = list(visible.filter(pk__in=wanted).order_by("id").values_list("id", flat=True))
        missing = sorted(set(wanted) - set(ids))
        if missing:
            raise NotFound(
                f"No failed delivery you may see has the id(s) {', '.join(map(str, missing))}; "
                "nothing was retried. List them with GET /api/v1/deliveries/failed.",
                fields={"ids": "unknown"},
            )
    count = deliveries_requeue(actor=caller.actor, delivery_ids=ids)
    return {"requeued": count, "ids": sorted(ids)}


@router.post(
    "/deliveries/{delivery_id}/retry",
    response={200: RetryOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="failed_delivery_retry",
    summary="Retry one failed delivery",
)
def failed_delivery_retry(request, delivery_id: Path[DbId]):
    """Put one failed delivery back in the queue (404 if you may not see it or it is not failed);
    audited as `delivery.requeued`. Scope: admin (or a signed-in admin or department lead)."""
    caller: Caller = request.auth
    delivery = failed_delivery_get_from(_visible(caller), delivery_id)
    count = deliveries_requeue(actor=caller.actor, delivery_ids=[delivery.pk])
    return {"requeued": count, "ids": [delivery.pk]}
