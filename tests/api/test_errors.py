"""One error shape everywhere under /api/v1: 400/401/403/404/405/409/413/429/500 all {"error": {...}}."""

from __future__ import annotations

import json

import pytest

from socdesk.api.v1 import tickets as tickets_module
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _shape(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code and body["error"]["message"].endswith((".", "!"))
    return body["error"]


def test_unknown_routes_are_json_404(tool):
    for path in ("/api/v1/nope", "/api/v1/tickets/SOC-1/nothing", "/api/v1/"):
        _shape(tool.get(path), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(tool, soc_ticket):
    error = _shape(tool.call("PUT", f"tickets/{soc_ticket.number}"), 405, "method_not_allowed")
    assert "PATCH" in error["message"]
    assert "PATCH" in tool.call("PUT", f"tickets/{soc_ticket.number}")["Allow"]


def test_body_over_the_limit_is_413_and_writes_nothing(tool, people, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = Ticket.objects.count()
    error = _shape(
        tool.post("tickets", {"subject": "x", "department": "soc", "body": "A" * 2000}), 413, "too_large"
    )
    assert "1,000" in error["message"]
    assert Ticket.objects.count() == before


@pytest.mark.parametrize(
    "raw, where",
    [
        ('{"subject": "x", "department": "soc",}', "line 1, column 38"),
        ("{\n\n  nope\n}", "line 3, column 3"),
        ("", None),  # empty body: the required fields are missing
    ],
)
def test_malformed_json_is_400_naming_the_position(tool, people, raw, where):
    before = (Ticket.objects.count(), AuditEvent.objects.count())
    r = tool.post("tickets", raw=raw)
    if where:
        assert where in _shape(r, 400, "malformed_json")["message"]
    else:
        assert r.status_code == 400 and r.json()["error"]["fields"]
    assert (Ticket.objects.count(), AuditEvent.objects.count()) == before


def test_body_that_is_not_utf8_is_400(tool, people):
    r = tool.post("tickets", raw=b'{"subject": "\xff\xfe"}')
    _shape(r, 400, "malformed_json")


def test_json_that_is_not_an_object_is_400(tool, people):
    for raw in ("[]", '"text"', "42", "null"):
        assert tool.post("tickets", raw=raw).status_code == 400


def test_validation_error_lists_every_field(tool, people):
    error = _shape(tool.post("tickets", {"severity": "huge", "tags": "x"}), 400, "invalid")
    assert {"subject", "severity", "tags"} <= set(error["fields"])
    assert "subject" in error["message"] and "severity" in error["message"]


def test_unexpected_error_is_json_500_without_details(tool, soc_ticket, monkeypatch):
    def broken(ticket):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(tickets_module, "observables_for_ticket_api", broken)
    error = _shape(tool.get(f"tickets/{soc_ticket.number}"), 500, "server_error")
    assert "internal detail" not in json.dumps(error)


def test_openapi_declares_the_error_shape(anon):
    schema = anon.get("/api/v1/openapi.json").json()
    responses = schema["paths"]["/api/v1/tickets"]["post"]["responses"]
    assert {"201", "400", "401", "403"} <= set(responses)
    assert "ErrorOut" in json.dumps(responses["400"])
