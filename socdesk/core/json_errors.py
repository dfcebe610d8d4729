"""The one error shape of every SOCdesk JSON endpoint: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import JsonResponse

from socdesk.core.errors import NotFound, PermissionDenied, ServiceError, StaleVersion

STATUS_FOR = {NotFound: 404, PermissionDenied: 403, StaleVersion: 409}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """A JSON error in the house shape."""
    response = JsonResponse(error_body(code, message, fields), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def service_error_response(exc: ServiceError) -> JsonResponse:
    """Turn a refused service call into 400/403/404/409 with its message."""
    return error_response(STATUS_FOR.get(type(exc), 400), exc.code, exc.message, exc.fields)
