"""Integrations (alert sources): list, get, create, change, rotate the URL token, disable or delete, and
try one on a sample payload. Scope: admin. Validation and preview are the admin UI's (alerts.integrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Path, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from socdesk.accounts.models import Department, Team
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.choices import Adapter, GroupBy
from socdesk.alerts.integrations import (
    integration_create,
    integration_preview,
    integration_remove,
    integration_rotate_token,
    integration_update,
)
from socdesk.alerts.models import GRAFANA_SIGNATURE_HEADER, Integration
from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import NotFound, ServiceError
from socdesk.core.json_errors import error_response
from socdesk.tickets.choices import Severity

router = Router(tags=["integrations"])

SCOPE = "admin"
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut}
Ref = int | str  # an id, or a slug / name


class IntegrationIn(InputSchema):
    adapter: Adapter
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    department: Ref | None = Field(None, description="Department id or slug (empty: the first one).")
    team: Ref | None = Field(None, description="Team id or name, in that department.")
    default_severity: Severity = Severity.MEDIUM
    default_tags: list[str] = Field(default_factory=list)
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    grouping_key: str = Field("", max_length=500)
    group_by: GroupBy = Field(
        GroupBy.GROUP,
        description="alertmanager only: group (one ticket per groupKey) or fingerprint (one per alert).",
    )
    field_map: dict[str, str] = Field(default_factory=dict, description="generic only: JMESPath per field.")
    auto_resolve: bool = False
    hmac_secret: str = Field("", max_length=200)
    hmac_header: str = Field(GRAFANA_SIGNATURE_HEADER, max_length=100)
    hmac_timestamp_header: str = Field("", max_length=100)


class IntegrationPatchIn(InputSchema):
    """Only the fields sent are changed; the token changes only through rotate-token."""

    adapter: Adapter | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    enabled: bool | None = None
    department: Ref | None = None
    team: Ref | None = None
    default_severity: Severity | None = None
    default_tags: list[str] | None = None
    severity_map: dict[str, Severity] | None = None
    grouping_key: str | None = Field(None, max_length=500)
    group_by: GroupBy | None = None
    field_map: dict[str, str] | None = None
    auto_resolve: bool | None = None
    hmac_secret: str | None = Field(None, max_length=200)
    hmac_header: str | None = Field(None, max_length=100)
    hmac_timestamp_header: str | None = Field(None, max_length=100)


class IntegrationOut(Schema):
    id: int
    adapter: Adapter
    name: str
    enabled: bool
    department: dict | None
    team: dict | None
    default_severity: Severity
    default_tags: list[Any]
    severity_map: dict[str, Any]
    grouping_key: str
    group_by: GroupBy
    field_map: dict[str, Any]
    auto_resolve: bool
    hmac_secret_set: bool = Field(description="The secret itself is never shown.")
    hmac_header: str
    hmac_timestamp_header: str
    hook_url: str = Field(description="For tools that send the key in a header.")
    created_at: datetime
    url: str


class IntegrationWithTokenOut(IntegrationOut):
    token: str = Field(description="Shown only when created or rotated: keep it now.")
    token_url: str = Field(description="The webhook URL with the token, for tools that cannot set headers.")


class IntegrationList(Schema):
    items: list[IntegrationOut]


class PreviewAlertOut(Schema):
    title: str
    description: str
    severity: Severity
    status: str
    fingerprint: str
    group_key: str
    external_id: str
    occurred_at: datetime | None
    tags: list[str]
    observables: list[list[str]] = Field(description="[type, value] pairs as the pipeline would store them.")


class PreviewOut(Schema):
    alerts: list[PreviewAlertOut]


def integration_out(integration: Integration) -> dict:
    department, team = integration.department, integration.team
    return {
        "id": integration.pk,
        "adapter": integration.adapter,
        "name": integration.name,
        "enabled": integration.enabled,
        "department": department and {"id": department.pk, "name": department.name, "slug": department.slug},
        "team": team and {"id": team.pk, "name": team.name},
        "default_severity": integration.default_severity,
        "default_tags": integration.default_tags,
        "severity_map": integration.severity_map,
        "grouping_key": integration.grouping_key,
        "group_by": integration.group_by,
        "field_map": integration.field_map,
        "auto_resolve": integration.auto_resolve,
        "hmac_secret_set": bool(integration.hmac_secret),
        "hmac_header": integration.hmac_header,
        "hmac_timestamp_header": integration.hmac_timestamp_header,
        "hook_url": reverse("alert-hook", kwargs={"adapter": integration.adapter}),
        "created_at": integration.created_at,
        "url": reverse("api-v1:integration_get", kwargs={"integration_id": integration.pk}),
    }


def with_token(integration: Integration) -> dict:
    token_url = reverse(
        "alert-hook-token", kwargs={"adapter": integration.adapter, "token": integration.token}
    )
    return integration_out(integration) | {"token": integration.token, "token_url": token_url}


def _get(integration_id: int) -> Integration:
    found = Integration.objects.select_related("department", "team").filter(pk=integration_id).first()
    if found is None:
        raise NotFound("That integration was not found.")
    return found


def _refs(values: dict[str, Any]) -> dict[str, Any]:
    """Turn department / team references (id, slug or name) into rows; unknown ones are a 400."""
    if values.get("department") is not None:
        ref = values["department"]
        qs = Department.objects.all()
        found = qs.filter(pk=ref).first() if isinstance(ref, int) else qs.filter(slug=ref.strip()).first()
        if found is None:
            raise ServiceError(
                f"There is no department {ref!r}; give its id or slug.", fields={"department": "unknown"}
            )
        values["department"] = found
    if values.get("team") is not None:
        ref = values["team"]
        teams = Team.objects.all()
        team = (
            teams.filter(pk=ref).first()
            if isinstance(ref, int)
            else teams.filter(name__iexact=ref.strip()).first()
        )
        if team is None:
            raise ServiceError(f"There is no team {ref!r}; give its id or name.", fields={"team": "unknown"})
        values["team"] = team
    return values


@router.get(
    "/integrations",
    response={200: IntegrationList} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_list",
    summary="List integrations",
)
def integration_list(request):
    """Every integration (tokens are not shown). Scope: admin."""
    return {"items": [integration_out(i) for i in Integration.objects.select_related("department", "team")]}


@router.get(
    "/integrations/{integration_id}",
    response={200: IntegrationOut} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_get",
    summary="Get an integration",
)
def integration_get(request, integration_id: Path[DbId]):
    """One integration (its token is not shown). Scope: admin."""
    return integration_out(_get(integration_id))


@router.post(
    "/integrations",
    response={201: IntegrationWithTokenOut} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_create",
    summary="Add an integration",
)
def integration_add(request, payload: IntegrationIn):
    """Add an alert source. The reply carries its URL token, shown this once. Scope: admin."""
    caller: Caller = request.auth
    values = _refs(payload.model_dump())
    integration = integration_create(actor=caller.actor, **values)
    return Reply(201, with_token(_get(integration.pk)))


@router.patch(
    "/integrations/{integration_id}",
    response={200: IntegrationOut} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_update",
    summary="Change an integration",
)
def integration_change(request, integration_id: Path[DbId], payload: IntegrationPatchIn):
    """Change the fields sent, all or nothing (send null for department or team to clear it). Scope: admin."""
    caller: Caller = request.auth
    integration = _get(integration_id)
    sent = payload.model_dump(include=payload.model_fields_set)
    nullable = {"department", "team"}
    refused = sorted(k for k, v in sent.items() if v is None and k not in nullable)
    if refused:
        raise ServiceError(
            f"{', '.join(refused)} cannot be null; leave a field out to keep it.",
            fields={k: "null" for k in refused},
        )
    integration = integration_update(actor=caller.actor, integration=integration, **_refs(sent))
    return integration_out(_get(integration.pk))


@router.post(
    "/integrations/{integration_id}/rotate-token",
    response={200: IntegrationWithTokenOut} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_rotate_token",
    summary="Give an integration a new URL token",
)
def integration_new_token(request, integration_id: Path[DbId]):
    """A new URL token, shown this once; the old webhook URL stops working at once. Scope: admin."""
    caller: Caller = request.auth
    integration = integration_rotate_token(actor=caller.actor, integration=_get(integration_id))
    return with_token(_get(integration.pk))


@router.delete(
    "/integrations/{integration_id}",
    response={200: IntegrationOut, 204: None} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_delete",
    summary="Delete (or disable) an integration",
)
def integration_delete(request, integration_id: Path[DbId]):
    """204 when it never received anything and is gone; otherwise it is disabled (200 with it), so that
    its alerts and deliveries keep saying where they came from. Scope: admin."""
    caller: Caller = request.auth
    integration = _get(integration_id)
    if integration_remove(actor=caller.actor, integration=integration):
        return Reply(204, None)
    return integration_out(_get(integration_id))


@router.post(
    "/integrations/{integration_id}/preview",
    response={200: PreviewOut} | ERRORS,
    auth=requires(SCOPE),
    url_name="integration_preview",
    summary="Try an integration on a sample payload",
)
def integration_try(request: HttpRequest, integration_id: Path[DbId]):
    """Send a sample payload as the body (exactly what the tool would send); get back the normalised
    alerts this integration would make. Nothing is stored. Scope: admin."""
    integration = _get(integration_id)
    try:
        alerts = integration_preview(integration, request.body)
    except AdapterError as exc:
        fields = {name: "required" for name in exc.missing}
        if exc.position:
            fields["body"] = exc.position
        return error_response(400, "invalid", exc.message, fields)
    return {
        "alerts": [
            {
                "title": item["alert"].title,
                "description": item["alert"].description,
                "severity": item["alert"].severity,
                "status": item["alert"].status,
                "fingerprint": item["alert"].fingerprint,
                "group_key": item["alert"].dedup_key,
                "external_id": item["alert"].external_id,
                "occurred_at": item["alert"].occurred_at,
                "tags": item["alert"].tags,
                "observables": [list(pair) for pair in item["observables"]],
            }
            for item in alerts
        ]
    }
