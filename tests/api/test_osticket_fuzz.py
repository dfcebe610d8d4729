"""Hypothesis fuzzing of the osTicket parsers and endpoints: never a crash, never a 5xx."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.accounts.services import apikey_create
from socdesk.api.osticket_formats import (
    OsTicketRequest,
    PayloadError,
    request_from_json,
    request_from_xml,
)
from socdesk.core.actor import Actor
from socdesk.tickets.attachments import IncomingFile

FIELDS = ["name", "email", "subject", "message", "priority", "priorityId", "phone", "ip", "topicId"]
FIELDS += ["alert", "autorespond", "source", "deptId", "department", "attachments", "custom"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        ["data:text/html,<b>x</b>", "data:;base64,QUJD", "data:x", "a@example.test", "3", "\x00"]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=10)
valid_ish = st.fixed_dictionaries(
    {"name": st.text(min_size=1), "email": st.just("a@example.test"), "subject": st.text(min_size=1)},
    optional={"message": json_values, "priority": json_values, "attachments": json_values, "ip": scalars},
)

xml_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@st.composite
def xml_bodies(draw):
    attrs = draw(st.dictionaries(st.sampled_from(FIELDS), xml_text, max_size=4))
    children = draw(
        st.dictionaries(
            st.sampled_from(FIELDS) | st.from_regex(r"[a-z]{1,8}", fullmatch=True), xml_text, max_size=8
        )
    )
    if draw(st.booleans()):  # reach past the required-field check into the per-field handling
        required = {"name": "n", "email": "a@example.test", "subject": "s", "message": "m"}
        children = {**required, **{k: v for k, v in children.items() if k not in required}}
    attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in children.items())
    declaration = draw(
        st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>'])
        | st.from_regex(r'<\?xml version="1\.[01]" encoding="[A-Za-z0-9_-]{0,12}"\?>', fullmatch=True)
    )
    body = f"{declaration}<ticket{attr_text}>{inner}</ticket>"
    cut = draw(st.integers(min_value=0, max_value=len(body)))
    return body if draw(st.booleans()) else body[:cut]


email_bodies = st.builds(
    lambda headers, body: ("\r\n".join(f"{k}: {v}" for k, v in headers) + "\r\n\r\n" + body).encode(
        "utf-8", "surrogateescape"
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["From", "Subject", "Content-Type", "Content-Transfer-Encoding", "To", "X-Odd"]),
            st.text(alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=60)
            | st.sampled_from(
                ["multipart/mixed; boundary=b", "text/html; charset=nope", "base64", "=?utf-8?b?////?="]
            ),
        ),
        max_size=6,
    ),
    st.text(max_size=200) | st.just("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--"),
)


def _only_payload_errors(parse, body):
    try:
        result = parse(body)
    except PayloadError as exc:
        assert exc.message
        return
    assert isinstance(result, OsTicketRequest) and result.subject and result.body
    assert all(isinstance(f, IncomingFile) and isinstance(f.content, bytes) for f in result.attachments)
    for text in (result.subject, result.body, result.name, result.email, result.phone):
        assert "\x00" not in text
    json.dumps(result.extra)  # always storable in a JSONField


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300)
    | json_objects.map(lambda d: json.dumps(d).encode())
    | valid_ish.map(lambda d: json.dumps(d).encode())
)
def test_json_parser_never_crashes(body):
    _only_payload_errors(request_from_json, body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | xml_bodies().map(str.encode))
def test_xml_parser_never_crashes(body):
    _only_payload_errors(request_from_xml, body)


@pytest.fixture
def raw_key(people):
    return apikey_create(actor=Actor.system("fuzz"), name="fuzz", scopes=["tickets:create"])[1]


HTTP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _post(raw_key, fmt, body):
    response = Client().post(
        f"/api/tickets.{fmt}",
        data=body,
        content_type="application/octet-stream",
        headers={"X-API-Key": raw_key},
    )
    assert response.status_code in (201, 400), (response.status_code, response.content)


@pytest.mark.django_db
@HTTP
@given(
    body=json_objects.map(lambda d: json.dumps(d).encode()) | valid_ish.map(lambda d: json.dumps(d).encode())
)
def test_json_endpoint_never_5xx(raw_key, body):
    _post(raw_key, "json", body)


@pytest.mark.django_db
@HTTP
@given(body=xml_bodies().map(str.encode))
def test_xml_endpoint_never_5xx(raw_key, body):
    _post(raw_key, "xml", body)


@pytest.mark.django_db
@HTTP
@given(body=email_bodies | st.binary(max_size=200))
def test_email_endpoint_never_5xx(raw_key, body):
    _post(raw_key, "email", body)
