"""TheHive-compatible alert API: `POST /api/v1/alert` (TheHive 5, thehive4py) and `POST /api/alert`
(TheHive 3/4 legacy body with artifacts, as ElastAlert2's hivealerter sends it).

The body goes through the alert pipeline like any webhook (stored durably, then ingested at once so the
reply can carry the alert), and the reply is shaped like TheHive's so that its clients read it unchanged.
One difference, documented in docs/integrations/thehive.md: TheHive refuses a repeat of the same
(type, source, sourceRef) with 400 "alert already exists"; SOCdesk de-duplicates it onto the open ticket
and answers 201 with the same alert `_id`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja import Status as Reply

from socdesk.alerts.adapters import AdapterError, thehive
from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.ingest import delivery_receive_and_process, delivery_rejected_by
from socdesk.alerts.models import Alert
from socdesk.alerts.selectors import alert_department_ready, integration_for_key_request
from socdesk.alerts.views import no_department_response
from socdesk.api.v1.schemas import ErrorOut
from socdesk.api.v1.security import ApiKeyAuth, BearerKeyAuth, Caller
from socdesk.core.actor import client_ip
from socdesk.core.json_errors import error_response
from socdesk.core.metrics import DELIVERIES_RECEIVED
from socdesk.routing.topic_hooks import alert_custom_fields_check

router = Router(tags=["TheHive-compatible"])

SCOPE = "alerts:ingest"
ADAPTER = "thehive"
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    413: ErrorOut,
    429: ErrorOut,
    503: ErrorOut,
}

SEVERITY_LABELS = {1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "CRITICAL"}
TLP_LABELS = {0: "CLEAR", 1: "GREEN", 2: "AMBER", 3: "AMBER+STRICT", 4: "RED"}
PAP_LABELS = {0: "CLEAR", 1: "GREEN", 2: "AMBER", 3: "RED"}
SEVERITY_NUMBERS = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def _body(request: HttpRequest) -> bytes:
    """The alert JSON: the whole body, or the `_json` part of thehive4py's multipart form (an alert
    sent with file observables; the files themselves are not kept)."""
    if request.content_type == "multipart/form-data":
        return request.POST.get("_json", "").encode()
    return request.body


@router.post(
    "/alert",
    response={201: dict, 202: dict} | ERRORS,
    auth=[ApiKeyAuth(SCOPE), BearerKeyAuth(SCOPE)],
    url_name="thehive_alert_create",
    summary="Create an alert (TheHive-compatible)",
)
def alert_create(request: HttpRequest):
    """TheHive 5's alert creation: `type`, `source`, `sourceRef`, `title` required; `observables` (or the
    legacy `artifacts` at `/api/alert`). Scope: alerts:ingest. A repeat of the same type, source and
    sourceRef while its ticket is open is de-duplicated: 201 with the same `_id`.
    """
    # django-ninja sets request.auth once the key is checked; HttpRequest does not declare it.
    caller: Caller = request.auth  # type: ignore[attr-defined]
    DELIVERIES_RECEIVED.labels(adapter=ADAPTER).inc()
    legacy = not request.path.startswith("/api/v1/")
    body = _body(request)
    try:
        payload = thehive.load(body)
    except AdapterError as exc:
        return error_response(
            400, "malformed_json", exc.message, {"body": exc.position} if exc.position else {}
        )
    problems = thehive.problems(payload)
    if not problems:
        # Named like a custom field, a value must fit it: refused before the alert is stored.
        checked = alert_custom_fields_check(thehive.custom_fields(payload.get("customFields")))
        problems = {f"customFields.{name}": sentence for name, sentence in checked.errors.items()}
        if problems:
            return error_response(400, "invalid", checked.message, problems)
    if problems:
        message = "Check these fields: " + "; ".join(f"{k} {v}" for k, v in problems.items()) + "."
        return error_response(400, "invalid", message, problems)

    integration = integration_for_key_request(ADAPTER, request.GET.get("integration", "").strip())
    if not alert_department_ready(integration):
        return no_department_response()
    delivery, alerts = delivery_receive_and_process(
        adapter=ADAPTER,
        body=body,
        content_type="application/json",
        client_ip=client_ip(request),
        integration=integration,
        api_key=caller.key,
    )
    if delivery.status == DeliveryStatus.FAILED:
        return error_response(
            400,
            "not_ingested",
            f"The alert was received (delivery {delivery.pk}, kept) but could not be turned into a ticket: "
            f"{delivery.error} An administrator can fix the cause and re-queue the delivery.",
        )
    if (
        not alerts
        and delivery.status == DeliveryStatus.PROCESSED
        and delivery_rejected_by(delivery) is not None
    ):
        return error_response(
            403,
            "forbidden",
            f"A ticket filter refused this alert (delivery {delivery.pk}, kept); no ticket was opened.",
        )
    if not alerts:  # left pending by an unexpected error: the sweep will retry it
        return HttpResponse(
            json.dumps({"status": "accepted", "delivery": delivery.pk}),
            status=202,
            content_type="application/json",
        )
    shape = legacy_alert_out if legacy else alert_out
    # TheHive names the creating user's login: the agent behind a personal token, else the key's name.
    if caller.agent is not None:
        created_by = caller.agent.user.get_username()
    else:  # a caller without an agent is a key (the actor's label only satisfies the type)
        created_by = caller.key.name if caller.key else caller.actor.label
    return Reply(201, shape(alerts[0], payload, created_by=created_by))


def _common(alert: Alert, payload: dict[str, Any]) -> dict[str, Any]:
    severity = payload.get("severity")
    severity = severity if isinstance(severity, int) else SEVERITY_NUMBERS.get(alert.severity, 2)
    tlp = payload.get("tlp") if isinstance(payload.get("tlp"), int) else 2
    pap = payload.get("pap") if isinstance(payload.get("pap"), int) else 2
    date = payload.get("date") if isinstance(payload.get("date"), int) else _ms(alert.occurred_at)
    return {
        "type": payload["type"],
        "source": payload["source"],
        "sourceRef": payload["sourceRef"],
        "externalLink": payload.get("externalLink"),
        "title": payload["title"],
        "description": payload.get("description") or "",
        "severity": severity,
        "date": date,
        "tags": payload.get("tags") or [],
        "tlp": tlp,
        "pap": pap,
        "follow": True,
        # SOCdesk's own fields: where the alert went and how often it came.
        "ticket": alert.ticket.number if alert.ticket else None,
        "occurrenceCount": alert.occurrence_count,
        "deduplicated": alert.occurrence_count > 1,
    }


def alert_out(alert: Alert, payload: dict[str, Any], *, created_by: str) -> dict[str, Any]:
    """TheHive 5's OutputAlert (what thehive4py returns) for a SOCdesk alert.

    SOCdesk turns every alert into a ticket at once, so the alert is reported as imported into a
    case whose id is the ticket number.
    """
    created = _ms(alert.first_seen)
    common = _common(alert, payload)
    custom = thehive.custom_fields(payload.get("customFields"))
    items = payload.get("observables") or []
    out = {
        "_id": str(alert.pk),
        "_type": "Alert",
        "_createdBy": created_by,
        "_createdAt": created,
        **common,
        "severityLabel": SEVERITY_LABELS.get(common["severity"], "MEDIUM"),
        "tlpLabel": TLP_LABELS.get(common["tlp"], "AMBER"),
        "papLabel": PAP_LABELS.get(common["pap"], "AMBER"),
        "customFields": [{"name": k, "value": v, "order": i} for i, (k, v) in enumerate(custom.items())],
        "observableCount": sum(len(o["data"]) if isinstance(o.get("data"), list) else 1 for o in items),
        "caseId": common["ticket"],
        "status": "Imported",
        "stage": "Imported",
        "summary": payload.get("summary"),
        "extraData": {},
        "newDate": created,
        "importedDate": created,
        "timeToDetect": max(0, created - common["date"]) if common["date"] is not None else 0,
    }
    if alert.occurrence_count > 1:
        out["_updatedAt"] = _ms(alert.last_seen)
        out["_updatedBy"] = created_by
    return out


def legacy_alert_out(alert: Alert, payload: dict[str, Any], *, created_by: str) -> dict[str, Any]:
    """TheHive 3/4's alert (POST /api/alert) for a SOCdesk alert: `id`, `createdAt`, `artifacts`."""
    created = _ms(alert.first_seen)
    common = _common(alert, payload)
    return {
        "_id": str(alert.pk),
        "id": str(alert.pk),
        "_type": "alert",
        "_version": alert.occurrence_count,
        "createdAt": created,
        "createdBy": created_by,
        "updatedAt": _ms(alert.last_seen) if alert.occurrence_count > 1 else None,
        "updatedBy": created_by if alert.occurrence_count > 1 else None,
        **common,
        "artifacts": payload.get("artifacts") or payload.get("observables") or [],
        "customFields": payload.get("customFields") or {},
        "caseTemplate": payload.get("caseTemplate"),
        "status": "Imported",
        "case": common["ticket"],
        "lastSyncDate": _ms(alert.last_seen),
    }
