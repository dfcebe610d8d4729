"""Hostile input on every machine entry point: a 2xx means "will become a ticket" (docs/security.md, Intake).

Entry points: the webhooks (/api/v1/hooks/<adapter>), the TheHive-compatible API (/api/v1/alert and the
legacy /api/alert), the osTicket-compatible API (/api/tickets.json|email) and the v1 ticket API.
Each refusal is a clear 4xx/503 with nothing stored; each acceptance ends as a ticket. The Django test
client runs them on both databases; the last test sends them over real HTTP to `socdesk serve` (granian).
"""

from __future__ import annotations

import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from huey.contrib.djhuey import HUEY

from socdesk.accounts.models import Department
from socdesk.accounts.services import apikey_create, department_create
from socdesk.alerts.models import Alert, AlertRaw, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.json_input import MAX_INT_DIGITS
from socdesk.tickets.models import Attachment, Ticket
from tests.core.processes import REPO, Background, free_port, run_socdesk, socdesk_env

pytestmark = pytest.mark.django_db

SETUP = Actor.system("test-setup")
FIXTURES = REPO / "tests" / "alerts" / "fixtures"


# --- the entry points --------------------------------------------------------------------------------


def _alertmanager(literal: str) -> bytes:
    body = (FIXTURES / "alertmanager_v4.json").read_text().strip()
    return ('{"x": ' + literal + ", " + body[1:]).encode()


def _thehive(literal: str) -> bytes:
    body = (FIXTURES / "thehive_v1_alert.json").read_text().strip()
    return ('{"x": ' + literal + ", " + body[1:]).encode()


def _generic(literal: str) -> bytes:
    return ('{"title": "bigtime", "occurred_at": ' + literal + ', "fingerprint": "bigtime"}').encode()


def _osticket(literal: str) -> bytes:
    return (
        '{"name": "Angry User", "email": "api@osticket.example", "subject": "Testing API", '
        '"message": "Hi", "x": ' + literal + "}"
    ).encode()


def _v1_ticket(literal: str) -> bytes:
    return ('{"subject": "From a script", "department": "soc", "tags": [' + literal + "]}").encode()


# name: (path, body builder, key scope, success status, what the success creates)
ENTRY_POINTS = {
    "hook-generic": ("/api/v1/hooks/generic", _generic, "alerts:ingest", 202),
    "hook-alertmanager": ("/api/v1/hooks/alertmanager", _alertmanager, "alerts:ingest", 202),
    "thehive": ("/api/v1/alert", _thehive, "alerts:ingest", 201),
    "thehive-legacy": ("/api/alert", _thehive, "alerts:ingest", 201),
    "osticket": ("/api/tickets.json", _osticket, "tickets:create", 201),
    "v1-tickets": ("/api/v1/tickets", _v1_ticket, "tickets:create", None),  # tags must be text
}

# Literals the databases cannot store, and the words the refusal must contain.
UNSTORABLE = {
    "1e400": "too large to store",
    "-1e400": "too large to store",
    "1" + "0" * 400 + ".5": "too large to store",
    "NaN": "not a JSON number",
    "Infinity": "not a JSON number",
    "-Infinity": "not a JSON number",
    "9" * 5000: "5000 digits",
    "1" * (MAX_INT_DIGITS + 1): f"more than {MAX_INT_DIGITS} digits",
    "-" + "1" * (MAX_INT_DIGITS + 1): f"more than {MAX_INT_DIGITS} digits",
}

# Big but storable: accepted, and kept exactly.
STORABLE = ["1" * MAX_INT_DIGITS, "-123456789012345678901234567890", "1.7976931348623157e308", "1e-400"]


@pytest.fixture
def soc(db):
    return department_create(actor=SETUP, name="SOC")


@pytest.fixture
def keys(soc):
    """One raw key per scope the entry points need."""
    return {
        scope: apikey_create(actor=SETUP, name=f"key-{scope}", scopes=[scope])[1]
        for scope in ("alerts:ingest", "tickets:create")
    }


@pytest.fixture
def huey_immediate():
    old = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = old


def send(path: str, body: bytes, key: str, **extra) -> object:
    content_type = "message/rfc822" if path.endswith(".email") else "application/json"
    return Client().post(path, data=body, content_type=content_type, headers={"X-API-Key": key}, **extra)


def stored() -> tuple[int, ...]:
    return (
        WebhookDelivery.objects.count(),
        Alert.objects.count(),
        Ticket.objects.count(),
        Attachment.objects.count(),
        AuditEvent.objects.count(),
    )


def error_text(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        return response.json()["error"]["message"]
    return response.content.decode()


# --- 1. numbers the databases cannot store -------------------------------------------------------------


@pytest.mark.parametrize("literal", UNSTORABLE, ids=lambda v: v if len(v) < 12 else f"{v[:6]}..{len(v)}")
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_unstorable_numbers_are_refused_with_a_400_and_nothing_is_stored(
    entry, literal, keys, huey_immediate
):
    path, build, scope, _ = ENTRY_POINTS[entry]
    before = stored()
    response = send(path, build(literal), keys[scope])
    assert response.status_code == 400, response.content[:300]
    assert UNSTORABLE[literal] in error_text(response), error_text(response)
    assert stored() == before, "a refused request left something behind"


@pytest.mark.parametrize("literal", STORABLE, ids=lambda v: v[:12])
@pytest.mark.parametrize("entry", [name for name, spec in ENTRY_POINTS.items() if spec[3]])
def test_big_but_storable_numbers_become_a_ticket_and_are_kept_exactly(
    entry, literal, keys, huey_immediate, django_capture_on_commit_callbacks
):
    path, build, scope, success = ENTRY_POINTS[entry]
    with django_capture_on_commit_callbacks(execute=True):
        response = send(path, build(literal), keys[scope])
    assert response.status_code == success, response.content[:300]
    ticket = Ticket.objects.get()
    if entry.startswith("osticket"):
        assert same_number(ticket.extra["x"], literal)
        return
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed", delivery.error
    raw = AlertRaw.objects.get(alert__ticket=ticket).payload
    if entry == "hook-generic":
        assert same_number(raw["occurred_at"], literal)  # not a time SOCdesk can use; kept as sent
    elif entry == "hook-alertmanager":
        # Alertmanager's raw payload is the alert's own object; the top-level "x" is in the delivery.
        assert same_number(json.loads(bytes(delivery.body))["x"], literal)
    else:
        assert same_number(raw["x"], literal)


def same_number(stored, literal: str) -> bool:
    """The value as sent. PostgreSQL's jsonb keeps numbers as decimal numerics, so 1.7976931348623157e308
    reads back written out in its 309 digits (an int in Python): the same number, compared as decimals."""
    return Decimal(str(stored)) == Decimal(str(json.loads(literal)))


def test_the_adapters_refuse_unstorable_numbers_in_every_body_form():
    """The elastic repair and the Suricata NDJSON fallback parse again: the same rule holds there."""
    from socdesk.alerts.adapters import AdapterError, elastic, suricata

    with pytest.raises(AdapterError, match="too large to store"):
        elastic.load(b'[{"kibana.alert.uuid": "a", "n": 1e400}{"kibana.alert.uuid": "b"}]')
    with pytest.raises(AdapterError, match="Line 2 of the NDJSON body: The number 1e999"):
        suricata.load(b'{"event_type": "alert"}\n{"event_type": "alert", "n": 1e999}\n')
    assert suricata.load(b'{"a": 1}\n{"b": 2}\n') == [{"a": 1}, {"b": 2}]


# --- 2. no department yet ------------------------------------------------------------------------------


NO_DEPARTMENT_ENTRIES = ["hook-generic", "hook-alertmanager", "thehive", "thehive-legacy"]


@pytest.mark.parametrize("entry", NO_DEPARTMENT_ENTRIES)
def test_without_a_department_alerts_are_refused_with_503_until_one_exists(
    entry, huey_immediate, django_capture_on_commit_callbacks
):
    """A fresh install has no department: the alert is refused (and retried by the sender), not
    acknowledged and then failed. Once a department exists the same request becomes a ticket."""
    path, build, _, success = ENTRY_POINTS[entry]
    key = apikey_create(actor=SETUP, name="tool", scopes=["alerts:ingest"])[1]
    before = stored()
    refused = send(path, build("1"), key)
    assert refused.status_code == 503, refused.content
    assert refused["Retry-After"] == "60"
    error = refused.json()["error"]
    assert error["code"] == "no_department"
    assert "no department to put alert tickets in" in error["message"]
    assert "socdesk department create --name SOC" in error["message"]
    assert stored() == before, "a refused delivery was stored"

    department_create(actor=SETUP, name="SOC")  # forgets the remembered answer in this process
    with django_capture_on_commit_callbacks(execute=True):
        accepted = send(path, build("1"), key)
    assert accepted.status_code == success, accepted.content
    assert Ticket.objects.get().department.slug == "soc"


def test_the_department_check_is_remembered_not_queried_per_delivery(keys, settings):
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 60
    path, build, scope, _ = ENTRY_POINTS["hook-generic"]
    assert send(path, build("1"), keys[scope]).status_code == 202
    with CaptureQueriesContext(connection) as queries:
        assert send(path, build("2"), keys[scope]).status_code == 202
    department_table = Department._meta.db_table
    assert not [q for q in queries if department_table in q["sql"]], "a department query per delivery"


# --- 3. raw email: deep nesting, attachments wherever they sit ---------------------------------------------


def _nested_email(depth: int) -> bytes:
    head = "From: Dana <dana@example.test>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    head += 'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    opening = "".join(
        f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n' for i in range(1, depth)
    )
    leaf = f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nhello from the bottom\r\n"
    closing = "".join(f"--b{i}--\r\n" for i in range(depth - 1, -1, -1))
    return (head + opening + leaf + closing).encode()


@pytest.mark.parametrize(
    ("depth", "problem"),
    [
        (3000, "could not be read as MIME (RecursionError)"),
        (60, "nests too many parts; the deepest ones were not read"),
    ],
)
def test_deeply_nested_multiparts_are_kept_raw_with_a_note_naming_the_problem(keys, depth, problem):
    # Never refused (mail is not lost for being odd) and never a 500: the raw message is the record.
    raw = _nested_email(depth)
    response = send("/api/tickets.email", raw, keys["tickets:create"])
    assert response.status_code == 201, response.content[:300]
    ticket = Ticket.objects.get()
    assert problem in ticket.entries.get(kind="note").body
    original = Attachment.objects.get(entry__ticket=ticket, filename="original.eml")
    assert original.file.read() == raw


def test_moderately_nested_mail_is_read_to_the_bottom(keys):
    response = send("/api/tickets.email", _nested_email(30), keys["tickets:create"])
    assert response.status_code == 201, response.content[:300]
    assert "hello from the bottom" in Ticket.objects.get().entries.get(kind="message").body


ALTERNATIVE_WITH_ATTACHMENT = b"""From: Dana <dana@example.test>
To: soc@example.test
Subject: Invoice with a surprise
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

See the attached invoice.
--alt
Content-Type: text/html; charset=utf-8

<p>See the attached invoice.</p>
--alt
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJSBpbnNpZGUgYWx0ZXJuYXRpdmU=
--alt--
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

top-level attachment
--outer--
"""


def test_an_attachment_inside_multipart_alternative_is_kept(keys):
    response = send("/api/tickets.email", ALTERNATIVE_WITH_ATTACHMENT, keys["tickets:create"])
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    files = {a.filename: a for a in Attachment.objects.filter(entry__ticket=ticket)}
    assert set(files) == {"invoice.pdf", "notes.txt", "original.eml"}  # nothing twice, nothing dropped
    with files["invoice.pdf"].file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4\n% inside alternative"
    assert ticket.entries.get().body == "See the attached invoice."
    assert not ticket.extra.get("parse_incomplete")


# --- 4. chunked bodies (no Content-Length) -----------------------------------------------------------------


class Endless(io.RawIOBase):
    """A client stream that never ends; counts what was read from it."""

    def __init__(self):
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read of a streamed body"
        self.taken += size
        return b" " * size


def chunked(stream) -> dict:
    """What granian hands Django for `Transfer-Encoding: chunked`: the de-chunked stream, no length."""
    return {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream}


@pytest.mark.parametrize("entry", ["hook-generic", "thehive", "osticket"])
def test_a_chunked_body_is_read_and_accepted(entry, keys, huey_immediate, django_capture_on_commit_callbacks):
    path, build, scope, success = ENTRY_POINTS[entry]
    with django_capture_on_commit_callbacks(execute=True):
        response = send(path, b"", keys[scope], **chunked(io.BytesIO(build("7"))))
    assert response.status_code == success, response.content
    assert Ticket.objects.count() == 1


def test_a_chunked_v1_ticket_is_read(keys):
    body = json.dumps({"subject": "streamed", "department": "soc", "body": "by curl -T -"}).encode()
    response = send("/api/v1/tickets", b"", keys["tickets:create"], **chunked(io.BytesIO(body)))
    assert response.status_code == 201, response.content
    assert Ticket.objects.get().subject == "streamed"


@pytest.mark.parametrize("entry", ["hook-generic", "thehive", "osticket", "v1-tickets"])
def test_an_over_limit_chunked_body_is_413_without_reading_it_all(entry, keys, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200_000
    path, _, scope, _ = ENTRY_POINTS[entry]
    stream = Endless()
    before = stored()
    response = send(path, b"", keys[scope], **chunked(stream))
    assert response.status_code == 413, response.content
    assert "200,000" in error_text(response) or "200000" in error_text(response)
    assert stream.taken <= 200_001, f"read {stream.taken} bytes of an over-limit body"
    assert stored() == before


# --- over real HTTP: `socdesk serve` (granian) ------------------------------------------------------------


def _stream(body: bytes):
    """An iterator body: httpx sends it with Transfer-Encoding: chunked and no Content-Length."""
    yield from (body[i : i + 7] for i in range(0, len(body), 7))


def test_over_http_chunked_bodies_hostile_numbers_and_no_department(tmp_path):
    """The production server path (granian, the WSGI fast path): an install with no department
    refuses alerts with 503, then (department and keys made with the CLI, as docs/install.md says)
    chunked deliveries are acknowledged and become tickets; unstorable numbers and over-limit streams
    are refused."""
    data = tmp_path / "data"
    env = socdesk_env(data, SOCDESK_MAX_BODY_BYTES="100000")
    assert run_socdesk("upgrade", env=env).returncode == 0
    created = run_socdesk(
        "apikey", "create", "--name", "alertmanager", "--scope", "alerts:ingest", "--scope", "tickets:create",
        env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    server = Background("serve", f"--bind=127.0.0.1:{port}", "--workers=1", env=env, log=tmp_path / "s.log")
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    try:
        server.wait_healthy(port)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            refused = http.post("/api/v1/hooks/generic", content=_stream(_generic("1")))
            assert refused.status_code == 503, refused.text
            assert "socdesk department create" in refused.json()["error"]["message"]

            made = run_socdesk("department", "create", "--name", "SOC", env=env)
            assert made.returncode == 0 and "slug soc" in made.stdout, made.stderr

            def accepted() -> bool:  # the web process re-reads the department within a second
                return http.post("/api/v1/hooks/generic", content=_stream(_generic("1"))).status_code == 202

            server.wait_for(accepted, "a chunked delivery accepted after the department was created")
            hive = http.post("/api/v1/alert", content=_stream(_thehive("2")))
            assert hive.status_code == 201, hive.text
            ticket = http.post("/api/tickets.json", content=_stream(_osticket("3")))
            assert ticket.status_code == 201, ticket.text

            for path, build in (("/api/v1/hooks/generic", _generic), ("/api/v1/alert", _thehive)):
                bad = http.post(path, content=_stream(build("1e400")))
                assert bad.status_code == 400 and "too large to store" in bad.text, bad.text
                huge = http.post(path, content=_stream(build("9" * 5000)))
                assert huge.status_code == 400 and "5000 digits" in huge.text, huge.text
            osticket_bad = http.post("/api/tickets.json", content=_stream(_osticket("NaN")))
            assert osticket_bad.status_code == 400 and "not a JSON number" in osticket_bad.text

            too_big = http.post("/api/v1/hooks/generic", content=_stream(b"[" + b" " * 150_000 + b"]"))
            assert too_big.status_code == 413, too_big.text
            too_big_ticket = http.post("/api/tickets.json", content=_stream(b" " * 150_000))
            assert too_big_ticket.status_code == 413, too_big_ticket.text

        def tickets() -> int:
            with sqlite3.connect(Path(data) / "socdesk.sqlite3") as db:
                return db.execute("SELECT COUNT(*) FROM tickets_ticket").fetchone()[0]

        # generic hook (the accepted ones are one fingerprint: one ticket), TheHive, osTicket
        server.wait_for(lambda: tickets() == 3, "three tickets")
        with sqlite3.connect(Path(data) / "socdesk.sqlite3") as db:
            statuses = {row[0] for row in db.execute("SELECT status FROM alerts_webhookdelivery")}
        assert statuses == {"processed"}, statuses
    finally:
        server.kill()
