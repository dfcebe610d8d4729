"""osTicket-compatible ticket API: formats, fields, errors (nothing half-written), auth, limits."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socdesk.accounts.keyauth import check_rate_limit
from socdesk.accounts.models import Contact, Department
from socdesk.accounts.services import apikey_create, apikey_revoke
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing import snapshot
from socdesk.routing.models import FilterRule, RulesetVersion
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.routing.snapshot import configuration_changed
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket

SETUP = Actor.system("test")
SAMPLE = Path("/work/shared/samples/alerts/osticket_mydfir.xml")
GIF = base64.b64decode(
    "R0lGODdhMAAwAPAAAAAAAP///ywAAAAAMAAwAAAC8IyPqcvt3wCcDkiLc7C0qwyGHhSWpjQu5yqmCYsapyuvUUlvONmOZtfzgFzB"
    "yTB10QgxOR0TqBQejhRNzOfkVJ+5YiUqrXF5Y5lKh/DeuNcP5yLWGsEbtLiOSpa/TPg7JpJHxyendzWTBfX0cxOnKPjgBzi4dii"
    "nWGdkF8kjdfnycQZXZeYGejmJlZeGl9i2icVqaNVailT6F5iJ90m6mvuTS4OK05M0vDk0Q4XUtwvKOzrcd3iq9uisF81M1OIcR7l"
    "EewwcLp7tuNNkM3uNna3F2JQFo97Vriy/Xl4/f1cf5VWzXyym7PHhhx4dbgYKAAA7"
)
BASE = {"name": "Angry User", "email": "api@osticket.example", "subject": "Testing API", "message": "Hi"}


@pytest.fixture
def key(people):
    """A tickets:create key with no default department (falls back to the first: SOC)."""
    return apikey_create(actor=SETUP, name="osticket-client", scopes=["tickets:create"])[1]


def post(body, fmt="json", key="", *, prefix="/api/", ip="127.0.0.1", **headers):
    if isinstance(body, dict | list):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    if key:
        headers.setdefault("X-API-Key", key)
    content_type = {"json": "application/json", "xml": "application/xml", "email": "message/rfc822"}[fmt]
    return Client().post(
        f"{prefix}tickets.{fmt}", data=body, content_type=content_type, REMOTE_ADDR=ip, headers=headers
    )


def created(response) -> Ticket:
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("text/plain")
    return Ticket.objects.get(number=response.content.decode())


def counts():
    return (
        Ticket.objects.count(),
        Contact.objects.count(),
        Attachment.objects.count(),
        ThreadEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def assert_refused(response, status, message, before):
    assert response.status_code == status, response.content
    assert message in response.content.decode(), response.content
    assert counts() == before, "something was written"


# --- JSON -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["/api/", "/api/http.php/"])
def test_json_creates_ticket_with_every_field(key, people, prefix):
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="General"))
    body = {
        **BASE,
        "alert": True,
        "autorespond": False,
        "source": "API",
        "ip": "123.211.233.122",
        "phone": "3185558634X123",
        "priority": 3,
        "topicId": str(topic.pk),
        "custom_case_ref": "INC-991",
        "nested": {"a": [1, 2]},
        "attachments": [
            {"file.txt": "data:text/plain;charset=utf-8,content%20here"},
            {"image.gif": "data:image/gif;base64," + base64.b64encode(GIF).decode()},
        ],
    }
    ticket = created(post(body, key=key, prefix=prefix))
    assert ticket.subject == "Testing API" and ticket.source == "api" and ticket.severity == "high"
    assert ticket.department == people.soc
    assert ticket.requester.email == "api@osticket.example" and ticket.requester.name == "Angry User"
    assert ticket.requester.phone == "3185558634 x123"
    assert ticket.extra == {
        "alert": True,
        "autorespond": False,
        "source": "API",
        "ip": "123.211.233.122",
        "topicId": topic.pk,
        "custom_case_ref": "INC-991",
        "nested": {"a": [1, 2]},
    }
    entry = ticket.entries.get()
    assert entry.body == "Hi" and entry.body_format == "text" and entry.kind == "message"
    files = {a.filename: a for a in entry.attachments.all()}
    assert files["file.txt"].file.read() == b"content here"
    assert files["image.gif"].sha256 == hashlib.sha256(GIF).hexdigest()
    assert files["image.gif"].content_type == "image/gif" and files["image.gif"].size == len(GIF)
    event = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert event.actor_type == "apikey" and event.actor_label == "key:osticket-client"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "priority, severity",
    [
        (1, "low"),
        ("2", "medium"),
        (3, "high"),
        ("4", "critical"),
        ("normal", "medium"),
        ("Emergency", "critical"),
    ],
)
def test_priority_mapping(key, priority, severity):
    assert created(post({**BASE, "priorityId": priority}, key=key)).severity == severity
    assert created(post({**BASE, "priority": priority}, key=key)).severity == severity


@pytest.mark.django_db
@pytest.mark.parametrize(
    "message, body, fmt",
    [
        ("data:text/plain;charset=utf-8,Caf%C3%A9%20ok", "Café ok", "text"),
        (
            "data:text/plain;charset=iso-8859-1;base64,"
            + base64.b64encode("Café".encode("latin-1")).decode(),
            "Café",
            "text",
        ),
        (
            "data:text/html,<p>Hello <b>there</b><script>alert(1)</script></p>",
            "<p>Hello <b>there</b></p>",
            "html",
        ),
        (
            "data:text/html;base64," + base64.b64encode(b"<i onclick='x()'>hi</i>").decode(),
            "<i>hi</i>",
            "html",
        ),
        ("  plain text, kept as is  ", "plain text, kept as is", "text"),
    ],
)
def test_message_data_urls(key, message, body, fmt):
    entry = created(post({**BASE, "message": message}, key=key)).entries.get()
    assert (entry.body, entry.body_format) == (body, fmt)


@pytest.mark.django_db
def test_bearer_header_and_key_default_department(people):
    _, raw = apikey_create(actor=SETUP, name="it", scopes=["tickets:create"], department=people.it)
    ticket = created(post(BASE, Authorization=f"Bearer {raw}"))
    assert ticket.department == people.it


@pytest.mark.django_db
def test_request_chooses_department_by_id_or_slug(key, people):
    assert created(post({**BASE, "deptId": people.it.pk}, key=key)).department == people.it
    assert created(post({**BASE, "department": "it-help-desk"}, key=key)).department == people.it


@pytest.mark.django_db
def test_settings_default_department(key, people, settings):
    settings.SOCDESK_DEFAULT_DEPARTMENT = "it-help-desk"
    assert created(post(BASE, key=key)).department == people.it


@pytest.mark.django_db
def test_no_department_at_all_is_a_400():
    _, raw = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    before = counts()
    assert_refused(post(BASE, key=raw), 400, "There is no department to put the ticket in", before)


# --- XML --------------------------------------------------------------------------------------------

XML_FULL = """<?xml version="1.0" encoding="UTF-8"?>
<ticket alert="false" autorespond="true" source="API" priority="4">
    <name>Angry User</name>
    <email>api@osticket.example</email>
    <subject>Testing API</subject>
    <phone ext="123">318-555-8634</phone>
    <message type="text/html"><![CDATA[<p>Message <b>content</b> here<img src=x onerror=f()></p>]]></message>
    <attachments>
        <file name="file.txt" type="text/plain"><![CDATA[
            File content is here and is automatically trimmed
        ]]></file>
        <file name="image.gif" type="image/gif" encoding="base64">
            %s
        </file>
    </attachments>
    <ip>123.211.233.122</ip>
    <topicId>2</topicId>
    <siem><rule id="5710">sshd brute force</rule></siem>
</ticket>"""


@pytest.mark.django_db
def test_xml_every_field(key):
    b64 = base64.b64encode(GIF).decode()
    wrapped = "\n            ".join(b64[i : i + 60] for i in range(0, len(b64), 60))
    # The sample's help topic 2, as a help topic that exists here (an unknown one is refused).
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Sample topic"))
    body = (XML_FULL % wrapped).replace("<topicId>2</topicId>", f"<topicId>{topic.pk}</topicId>")
    ticket = created(post(body, "xml", key=key, prefix="/api/http.php/"))
    assert ticket.severity == "critical" and ticket.source == "api"
    assert ticket.requester.phone == "318-555-8634 x123"
    assert ticket.extra == {
        "alert": False,
        "autorespond": True,
        "source": "API",
        "ip": "123.211.233.122",
        "topicId": topic.pk,
        "siem": {"rule": "sshd brute force"},
    }
    entry = ticket.entries.get()
    assert entry.body_format == "html"
    assert entry.body == '<p>Message <b>content</b> here<img src="x"></p>'
    files = {a.filename: a for a in entry.attachments.all()}
    assert files["file.txt"].file.read() == b"File content is here and is automatically trimmed"
    assert files["image.gif"].sha256 == hashlib.sha256(GIF).hexdigest()


@pytest.mark.django_db
def test_xml_attributes_form(key):
    xml = (
        '<ticket name="Ann" email="ann@example.test" subject="Attr subject" message="Attr message" '
        'priorityId="1" phone="555 x9" customer="ACME"/>'
    )
    ticket = created(post(xml, "xml", key=key))
    assert (ticket.subject, ticket.severity, ticket.requester.name) == ("Attr subject", "low", "Ann")
    assert ticket.requester.phone == "555 x9" and ticket.extra == {"customer": "ACME"}
    assert ticket.entries.get().body == "Attr message"


@pytest.mark.django_db
def test_kibana_mydfir_sample_verbatim(key):
    """The body a SOC lab's Kibana Webhook connector sends, with the mustache variables filled in."""
    body = (
        SAMPLE.read_text()
        .replace("{{rule.name}}", "Potential SSH Brute Force Detected")
        .replace("{{rule.url}}", "https://kibana.lab.local:5601/app/security/rules/id/8e2f-11ee?x=1&y=2")
        .replace("{{alert.id}}", "a3f9c1d2-5b6e-4f70-8a9b-0c1d2e3f4a5b")
    )
    assert "{{" not in body
    ticket = created(post(body, "xml", key=key))
    assert ticket.subject == "Potential SSH Brute Force Detected"
    assert ticket.requester.email == "api@osticket.com" and ticket.requester.name == "Elastic"
    assert ticket.extra == {"alert": True, "autorespond": True, "source": "API"}
    entry = ticket.entries.get()
    assert entry.body_format == "text"
    assert entry.body.splitlines() == [
        "Please investigate Potential SSH Brute Force Detected",
        "Rule URL: https://kibana.lab.local:5601/app/security/rules/id/8e2f-11ee?x=1&y=2",
        "Alert ID: a3f9c1d2-5b6e-4f70-8a9b-0c1d2e3f4a5b",
    ]


# --- email ------------------------------------------------------------------------------------------

EMAIL_MULTIPART = b"""From: =?utf-8?q?Ren=C3=A9_Analyst?= <Rene@Example.test>
To: soc@example.test
Subject: =?utf-8?q?Phishing_report_=E2=80=93_invoice?=
Message-ID: <abc123@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=utf-8

Please look at the attached invoice.
--ALT
Content-Type: text/html; charset=utf-8

<p>Please look at the <b>attached</b> invoice.</p>
--ALT--
--XYZ
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="invoice.gif"
Content-Transfer-Encoding: base64

%s
--XYZ--
"""


@pytest.mark.django_db
def test_email_multipart(key):
    raw = EMAIL_MULTIPART % base64.encodebytes(GIF)
    ticket = created(post(raw, "email", key=key))
    assert ticket.source == "email" and ticket.subject == "Phishing report \u2013 invoice"
    assert (ticket.requester.email, ticket.requester.name) == ("rene@example.test", "René Analyst")
    assert ticket.extra["message-id"] == "<abc123@example.test>"
    entry = ticket.entries.get()
    assert (entry.body, entry.body_format) == ("Please look at the attached invoice.", "text")
    attachment, original = entry.attachments.order_by("id")
    assert attachment.filename == "invoice.gif" and attachment.sha256 == hashlib.sha256(GIF).hexdigest()
    assert original.filename == "original.eml" and original.sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.django_db
def test_email_html_only_is_sanitised(key):
    raw = (
        b"From: a@example.test\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p onmouseover='x()'>Hi<script>steal()</script></p>"
    )
    entry = created(post(raw, "email", key=key)).entries.get()
    # Stored as text (the mail reader turns the HTML into text: no markup of the sender's is kept).
    assert (entry.body, entry.body_format) == ("Hi", "text")
    assert list(entry.attachments.values_list("filename", flat=True)) == ["original.eml"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\xff\xfe garbage that is not a message at all",
        b"From: <<<not an address>>>\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
        b"From: x@example.test\r\nSubject: bad charset\r\nContent-Type: text/plain; charset=klingon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!notbase64",
    ],
)
def test_email_that_cannot_be_fully_parsed_is_kept(key, raw):
    ticket = created(post(raw, "email", key=key))
    assert ticket.extra.get("parse_incomplete") is True
    original = ticket.entries.get(kind="message").attachments.get(filename="original.eml")
    assert original.file.read() == raw and original.sha256 == hashlib.sha256(raw).hexdigest()
    assert ticket.entries.get(kind="note").body.startswith("This e-mail could not be fully read:")


# --- bad input: clear 400s and nothing written ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fmt, body, message",
    [
        (
            "json",
            '{\n  "name": "x",\n  "email": "a@b.c",\n    oops\n}',
            "Malformed JSON at line 4 column 5: ",
        ),
        ("json", '{"name": NaN}', "The body contains NaN, which is not a JSON number"),
        ("json", "[1, 2]", "The JSON body must be an object"),
        ("json", b"\xff\xfe{}", "The body is not UTF-8 text (invalid byte at position 0)."),
        ("json", "", "The body is empty"),
        ("json", "{}", "Required field(s) missing: name, email, subject, message."),
        (
            "json",
            {"name": "n", "email": "e@x.test", "subject": "  "},
            "Required field(s) missing: subject, message.",
        ),
        ("json", {**BASE, "email": "not-an-email"}, "'not-an-email' is not a valid email address."),
        ("json", {**BASE, "priority": 9}, "Unknown priority '9'; use 1 (low), 2 (normal), 3 (high) or 4"),
        ("json", {**BASE, "ip": "999.1.1.1"}, "'999.1.1.1' is not an IP address."),
        ("json", {**BASE, "topicId": "help"}, "topicId must be a whole number, not 'help'."),
        ("json", {**BASE, "deptId": 99999}, "There is no department 99999."),
        ("json", {**BASE, "department": "nope"}, "There is no department 'nope'."),
        ("json", {**BASE, "message": ["x"]}, "message must be text or a data URL."),
        ("json", {**BASE, "subject": {"a": 1}}, "subject must be text, not a list or object."),
        (
            "json",
            {**BASE, "message": "data:image/png;base64,iVBORw0KGgo="},
            "message must be text/plain or text/html, not image/png; send files as attachments.",
        ),
        ("json", {**BASE, "message": "data:text/plain;base64,@@@"}, "message has invalid base64 data."),
        ("json", {**BASE, "message": "data:text/plain"}, "message is not a valid data URL"),
        (
            "json",
            {**BASE, "attachments": [{"a.bin": "data:;base64,%%%"}]},
            "Attachment 'a.bin' has invalid base64",
        ),
        ("json", {**BASE, "attachments": ["x"]}, "Attachment 1 must be an object such as"),
        ("json", {**BASE, "attachments": [{"": "data:,x"}]}, "Attachment 1 has no file name."),
        ("json", {**BASE, "attachments": [{"a.txt": 5}]}, "Attachment 'a.txt' must be a data URL string."),
        (
            "xml",
            "<ticket><name>x</name>\n  <email>a@b.c</ticket>",
            "Malformed XML at line 2 column 17: mismatched tag.",
        ),
        ("xml", "<alert><name>x</name></alert>", "The XML root element must be <ticket>, not <alert>."),
        (
            "xml",
            "<ticket name='x'><email>a@b.c</email></ticket>",
            "Required field(s) missing: subject, message.",
        ),
        ("xml", "   ", "The body is empty"),
        (
            "xml",
            '<ticket name="a" email="a@example.test" subject="s" message="m" attachments="x.txt"/>',
            "attachments must be <file> elements inside <attachments>, not an attribute.",
        ),
        (
            "xml",
            '<?xml version="1.0" encoding="klingon"?><ticket/>',
            "Malformed XML: unknown encoding: klingon; send UTF-8.",
        ),
        (
            "xml",
            "<ticket><attachments><file>x</file></attachments></ticket>",
            "Attachment 1 has no file name.",
        ),
        ("email", "", "The body is empty; send a raw RFC 822 email message."),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(key, fmt, body, message):
    before = counts()
    assert_refused(post(body, fmt, key=key), 400, message, before)


@pytest.mark.django_db
def test_all_problems_are_listed_at_once(key):
    before = counts()
    response = post({**BASE, "email": "bad", "priority": "x", "ip": "y"}, key=key)
    assert_refused(response, 400, "'bad' is not a valid email address.", before)
    assert (
        "Unknown priority 'x'" in response.content.decode()
        and "'y' is not an IP" in response.content.decode()
    )


@pytest.mark.django_db
def test_oversized_attachment_writes_nothing(key, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    before = counts()
    body = {**BASE, "attachments": [{"big.txt": "data:text/plain,01234567890123"}]}
    assert_refused(post(body, key=key), 400, "The file 'big.txt' is 14 bytes; the limit is 10 bytes.", before)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ticket><name>&lol3;</name><email>a@example.test</email><subject>s</subject><message>m</message></ticket>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE ticket [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ticket><name>x</name><email>a@example.test</email><subject>s</subject><message>&xxe;</message></ticket>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE ticket SYSTEM "http://127.0.0.1:9/evil.dtd">
<ticket><name>x</name><email>a@example.test</email><subject>s</subject><message>m</message></ticket>"""


@pytest.mark.django_db
@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD])
def test_xml_entities_and_external_references_are_refused(key, body):
    before = counts()
    response = post(body, "xml", key=key)
    assert_refused(response, 400, "XML DTDs, entity declarations and external references are refused", before)
    assert "root:" not in response.content.decode()


@pytest.mark.django_db
def test_body_over_limit_is_413(key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    big = {**BASE, "message": "x" * 2000}
    assert_refused(post(big, key=key), 413, "larger than the 1,000 byte limit", before)
    assert_refused(post(b"From: a@b.c\r\n\r\n" + b"y" * 2000, "email", key=key), 413, "byte limit", before)


# --- auth, scope, rate limit ------------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_missing_revoked_expired_or_outside_allow_list_is_401(people):
    key, raw = apikey_create(
        actor=SETUP,
        name="k",
        scopes=["tickets:create"],
        allowed_cidrs=["10.0.0.0/8", "2001:db8::/32"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    before = counts()
    for response in [
        post(BASE, ip="10.1.2.3"),
        post(BASE, key="sdk_nope_nope", ip="10.1.2.3"),
        post(BASE, key=raw[:-2] + "xx", ip="10.1.2.3"),
        post(BASE, key=raw, ip="192.0.2.1"),
        post(BASE, "xml", key=raw, ip="2001:db9::1"),
        post(BASE, key=raw, ip="192.0.2.1", **{"X-Forwarded-For": "10.1.2.3"}),  # untrusted proxy
    ]:
        assert_refused(response, 401, "Valid API key required", before)
        assert response.content == b"Valid API key required"
    created(post(BASE, key=raw, ip="10.1.2.3"))
    created(post(BASE, key=raw, ip="2001:db8::7"))
    key.expires_at = timezone.now() - timedelta(seconds=1)
    key.save()
    before = counts()
    assert_refused(post(BASE, key=raw, ip="10.1.2.3"), 401, "Valid API key required", before)
    key.expires_at = None
    key.save()
    apikey_revoke(actor=SETUP, key=key)
    before = counts()
    assert_refused(post(BASE, key=raw, ip="10.1.2.3"), 401, "Valid API key required", before)


@pytest.mark.django_db
def test_trusted_proxy_forwarded_for_is_believed(people, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    _, raw = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"], allowed_cidrs=["10.0.0.0/8"])
    created(post(BASE, key=raw, ip="127.0.0.1", **{"X-Forwarded-For": "10.9.9.9"}))
    assert AuditEvent.objects.filter(action="ticket.created").last().ip == "10.9.9.9"


@pytest.mark.django_db
def test_missing_scope_is_403(people):
    _, raw = apikey_create(actor=SETUP, name="k", scopes=["alerts:ingest"])
    before = counts()
    assert_refused(post(BASE, key=raw), 403, "This API key lacks the tickets:create scope.", before)


@pytest.mark.django_db
def test_personal_token_cannot_create_outside_agents_departments(people):
    _, raw = apikey_create(actor=SETUP, name="carol-token", scopes=["tickets:create"], agent=people.carol)
    before = counts()
    assert_refused(
        post({**BASE, "deptId": people.soc.pk}, key=raw), 403, "You may not open tickets in SOC", before
    )
    assert created(post({**BASE, "deptId": people.it.pk}, key=raw)).department == people.it
    # Without a choice it lands where carol may open tickets (IT), not in the first department (SOC).
    assert created(post(BASE, key=raw)).department == people.it


@pytest.mark.django_db
def test_rate_limit_429_with_retry_after(people, settings):
    settings.SOCDESK_API_RATE_LIMIT = 2
    _, raw = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    _, other = apikey_create(actor=SETUP, name="other", scopes=["tickets:create"])
    created(post(BASE, key=raw))
    created(post(BASE, key=raw))
    before = counts()
    response = post(BASE, key=raw)
    assert_refused(response, 429, "This API key is limited to 2 requests per minute; retry in", before)
    assert 1 <= int(response["Retry-After"]) <= 60
    created(post(BASE, key=other))  # counted per key
    settings.SOCDESK_API_RATE_LIMIT = 0  # 0 disables
    created(post(BASE, key=raw))


@pytest.mark.django_db
def test_get_is_405(key):
    response = Client().get("/api/tickets.json", headers={"X-API-Key": key})
    assert response.status_code == 405 and response["Allow"] == "POST"


@pytest.mark.django_db(transaction=True)
def test_rate_limit_counts_exactly_under_concurrency(settings):
    """Threads hitting one key at once: every request is counted once (atomic increment)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from socdesk.accounts.keyauth import RateLimited

    settings.SOCDESK_API_RATE_LIMIT = 30
    Department.objects.create(name="SOC", slug="soc")
    key, _ = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])

    def hit(_):
        try:
            check_rate_limit(key)
            return True
        except RateLimited:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(hit, range(40)))
    assert results.count(True) == 30


@pytest.mark.django_db
def test_rate_limited_json_shape_for_other_surfaces(people, settings):
    from socdesk.accounts.keyauth import RateLimited, rate_limited_response

    settings.SOCDESK_API_RATE_LIMIT = 1
    key, _ = apikey_create(actor=SETUP, name="k", scopes=["alerts:ingest"])
    check_rate_limit(key)
    with pytest.raises(RateLimited) as err:
        check_rate_limit(key)
    response = rate_limited_response(err.value)
    assert response.status_code == 429 and response["Retry-After"] == str(err.value.retry_after)
    assert json.loads(response.content)["error"]["code"] == "rate_limited"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_one_new_requester():
    """Ten tools posting at once for one new email: ten tickets, one contact, no error."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    Department.objects.create(name="SOC", slug="soc")
    _, raw = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])

    def send(i):
        try:
            return post({**BASE, "subject": f"alert {i}", "email": "New.Person@example.test"}, key=raw)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(send, range(10)))
    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.content for r in responses}) == 10
    assert Contact.objects.filter(email="new.person@example.test").count() == 1
    assert Ticket.objects.filter(requester__email="new.person@example.test").count() == 10


@pytest.mark.django_db
def test_rate_counter_is_a_normal_cache_entry_and_old_windows_are_dropped(people):
    import time

    from django.core.cache import cache
    from django.db import connection

    key, _ = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    cache.set("socdesk:ratelimit:old", 7)
    past = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE socdesk_cache SET expires = %s", [past])
    check_rate_limit(key)
    check_rate_limit(key)
    window = int(time.time() // 60)
    counts_now = [cache.get(f"socdesk:ratelimit:{key.prefix}:{w}") for w in (window - 1, window)]
    assert sum(c or 0 for c in counts_now) == 2  # a minute boundary may fall between the two calls
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM socdesk_cache WHERE cache_key LIKE %s", ["%ratelimit:old"])
        assert cursor.fetchone()[0] == 0


def _refusing_filter() -> FilterRule:
    conditions = [{"field": "subject", "operator": "starts_with", "value": "Testing"}]
    definition = FilterDefinition(name="No tests", conditions=conditions, actions=[{"type": "reject"}])
    return filter_create(actor=SETUP, definition=definition)


def _stamp_reads(queries) -> int:
    return sum("routing_rulesetversion" in q["sql"] for q in queries.captured_queries)


def test_a_request_reads_the_routing_stamp_once_for_its_group_none_for_its_checks(key):
    post(BASE, key=key)  # the first request builds the snapshot
    with CaptureQueriesContext(connection) as queries:
        created(post({**BASE, "subject": "Second"}, key=key))
    assert _stamp_reads(queries) == 1


def test_a_process_with_no_snapshot_yet_reads_the_stamp_for_its_checks(key, monkeypatch):
    monkeypatch.setattr(snapshot, "_current", None)
    with CaptureQueriesContext(connection) as queries:
        created(post(BASE, key=key))
    assert _stamp_reads(queries) == 2


def test_a_filter_saved_by_another_process_refuses_the_very_next_request(
    key, django_capture_on_commit_callbacks
):
    created(post(BASE, key=key))  # this process now holds a snapshot with no filter
    # Another process saves a filter: the row and a new stamp in the database, nothing in this
    # process's memory.
    rule = _refusing_filter()
    assert snapshot._current is not None and snapshot._current.stamp != RulesetVersion.objects.get().stamp
    before = Ticket.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(BASE, key=key)
    assert (response.status_code, response.content.decode()) == (
        403,
        "A ticket filter refused this ticket; contact the help desk if it should not.",
    )
    assert Ticket.objects.count() == before
    rule.refresh_from_db()
    assert rule.hit_count == 1  # counted once, by the check that stood


def test_a_refusal_by_a_filter_another_process_deleted_is_checked_again_and_not_counted(
    key, django_capture_on_commit_callbacks
):
    rule = _refusing_filter()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(BASE, key=key).status_code == 403  # this process's snapshot holds the filter
    FilterRule.objects.filter(pk=rule.pk).update(enabled=False)  # another process, bypassing signals
    configuration_changed()  # ... moves the stamp as its save would
    with django_capture_on_commit_callbacks(execute=True):
        created(post(BASE, key=key))
    rule.refresh_from_db()
    assert rule.hit_count == 1
