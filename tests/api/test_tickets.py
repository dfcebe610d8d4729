"""Tickets over /api/v1: list (filters, cursor pagination, query count), get, create, update, thread."""

from __future__ import annotations

import base64

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create

pytestmark = pytest.mark.django_db


def _open(people, subject, *, department=None, severity="medium", tags=(), source="web", assignee=None):
    return ticket_create(
        actor=Actor.system("seed"),
        subject=subject,
        department=department or people.soc,
        severity=severity,
        tags=tags,
        source=source,
        assignee=assignee,
    )


def _written():
    return (Ticket.objects.count(), ThreadEntry.objects.count(), AuditEvent.objects.count())


# --- read -------------------------------------------------------------------------------------------


def test_get_ticket_has_every_documented_field(tool, soc_ticket):
    r = tool.get(f"tickets/{soc_ticket.number}")
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == soc_ticket.number and body["subject"] == soc_ticket.subject
    assert body["status"] == "new" and body["severity"] == "high" and body["resolution"] == ""
    assert body["department"] == {"id": soc_ticket.department_id, "name": "SOC", "slug": "soc"}
    assert body["requester"] == {"email": "dana@example.test", "name": "Dana Reyes"}
    assert body["tags"] == ["edr", "phishing"]
    assert body["alert_count"] == 0 and body["observables"] == []
    assert body["version"] == 1 and body["assignee"] is None and body["team"] is None
    for name in ("created_at", "last_activity_at", "acknowledged_at", "resolved_at", "closed_at", "due_at"):
        assert name in body


def test_get_is_case_insensitive_and_unknown_is_404(tool, soc_ticket):
    assert tool.get(f"tickets/{soc_ticket.number.lower()}").status_code == 200
    r = tool.get("tickets/SOC-999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_list_filters_use_the_console_names(tool, people):
    a = _open(people, "alpha beacon", severity="critical", tags=["c2"], source="alert", assignee=people.alice)
    b = _open(people, "bravo login", severity="low", department=people.it)
    c = _open(people, "charlie beacon", severity="low", tags=["c2", "dns"])

    def numbers(query):
        r = tool.get(f"tickets?{query}")
        assert r.status_code == 200, r.content
        return {t["number"] for t in r.json()["items"]}

    assert numbers("") == {a.number, b.number, c.number}
    assert numbers("severity=low") == {b.number, c.number}
    assert numbers("severity=low&severity=critical") == {a.number, b.number, c.number}
    assert numbers(f"department={people.it.pk}") == {b.number}
    assert numbers(f"assignee={people.alice.pk}") == {a.number}
    assert numbers("assignee=0") == {b.number, c.number}
    assert numbers("source=alert") == {a.number}
    assert numbers("tag=c2") == {a.number, c.number}
    assert numbers("tag=c2&tag=dns") == {c.number}
    assert numbers("q=beacon") == {a.number, c.number}
    assert numbers(f"q={b.number}") == {b.number}
    assert numbers("status=new&queue=unassigned") == {b.number, c.number}
    assert numbers("created_from=2000-01-01&created_to=2999-12-31") == {a.number, b.number, c.number}
    assert numbers("created_to=2000-01-01") == set()


@pytest.mark.parametrize(
    "query, field",
    [
        ("severity=huge", "severity"),
        ("status=pending", "status"),
        ("department=soc", "department"),
        ("created_from=yesterday", "created_from"),
        ("sort=due", "sort"),
        ("sort=sideways", "sort"),
        ("queue=mine", "queue"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=forged", "cursor"),
    ],
)
def test_list_bad_filter_is_400_naming_it(tool, soc_ticket, query, field):
    r = tool.get(f"tickets?{query}")
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]


def test_mine_queue_for_a_personal_token(alice_api, people):
    mine = _open(people, "mine", assignee=people.alice)
    _open(people, "not mine")
    r = alice_api.get("tickets?queue=mine")
    assert [t["number"] for t in r.json()["items"]] == [mine.number]


def test_cursor_pages_are_stable_across_inserts(tool, people):
    for i in range(7):
        _open(people, f"t{i}")
    seen, cursor, pages = [], None, 0
    while True:
        r = tool.get("tickets?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200
        seen += [t["number"] for t in r.json()["items"]]
        cursor = r.json()["next"]
        pages += 1
        if pages == 1:  # new tickets arrive while a client is paging: they sort before the cursor
            _open(people, "late arrival 1")
            _open(people, "late arrival 2")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7  # no duplicates, no skips
    assert set(seen) == set(
        Ticket.objects.exclude(subject__startswith="late").values_list("number", flat=True)
    )


@pytest.mark.parametrize("sort", ["activity", "-activity", "created", "-created", "number", "-number"])
def test_every_sort_pages_without_gaps(tool, people, sort):
    tickets = [_open(people, f"s{i}") for i in range(5)]
    # Same last_activity_at for two tickets: the id tie-breaker must keep them apart.
    Ticket.objects.filter(pk=tickets[1].pk).update(last_activity_at=tickets[2].last_activity_at)
    seen, cursor = [], None
    while True:
        r = tool.get(f"tickets?limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else ""))
        seen += [t["number"] for t in r.json()["items"]]
        cursor = r.json()["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(t.number for t in tickets) and len(seen) == 5


def test_cursor_of_another_sort_is_refused(tool, people):
    for i in range(3):
        _open(people, f"x{i}")
    cursor = tool.get("tickets?limit=1&sort=created").json()["next"]
    r = tool.get(f"tickets?limit=1&sort=number&cursor={cursor}")
    assert r.status_code == 400 and "cursor" in r.json()["error"]["fields"]


def test_list_query_count_does_not_grow(alice_api, people, django_assert_max_num_queries):
    for i in range(3):
        _open(people, f"few {i}", tags=["a", "b"], assignee=people.bob)
    # auth, rate limit, page, tags, alert counts: a fixed number whatever the page holds
    with django_assert_max_num_queries(12) as few:
        assert len(alice_api.get("tickets").json()["items"]) == 3
    for i in range(20):
        _open(people, f"many {i}", tags=["a"], assignee=people.alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(alice_api.get("tickets").json()["items"]) == 23


# --- create -----------------------------------------------------------------------------------------


def test_create_ticket(tool, people):
    r = tool.post(
        "tickets",
        {
            "subject": "Impossible travel for j.doe",
            "department": "soc",
            "body": "Logins from two continents within 5 minutes.",
            "requester": {"email": "j.doe@example.test", "name": "J. Doe"},
            "severity": "high",
            "tags": ["identity"],
            "assignee": "alice",
            "attachments": [
                {"name": "signin.csv", "content_base64": base64.b64encode(b"a,b\n1,2\n").decode()}
            ],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    ticket = Ticket.objects.get(number=body["number"])
    assert ticket.source == "api" and ticket.severity == "high" and ticket.assignee == people.alice
    assert body["assignee"]["username"] == "alice" and body["tags"] == ["identity"]
    assert Attachment.objects.get(entry__ticket=ticket).filename == "signin.csv"
    event = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert event.actor_label == "key:soar"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"department": "soc"}, "subject"),
        ({"subject": "x"}, "department"),
        ({"subject": "x", "department": "nowhere"}, "department"),
        ({"subject": "x", "department": "soc", "severity": "apocalyptic"}, "severity"),
        ({"subject": 12, "department": "soc"}, "subject"),
        ({"subject": "x", "department": "soc", "tags": "not-a-list"}, "tags"),
        ({"subject": "x", "department": "soc", "assignee": "nobody-here"}, "assignee"),
        ({"subject": "x", "department": "soc", "sevrity": "low"}, "sevrity"),
        (
            {"subject": "x", "department": "soc", "attachments": [{"name": "a", "content_base64": "***"}]},
            "attachments.0.content_base64",
        ),
        ({"subject": "x", "department": "soc", "requester": {"name": "no email"}}, "requester.email"),
        ({"subject": "x", "department": "soc", "requester": {"email": "not an address"}}, "requester.email"),
    ],
)
def test_create_bad_input_is_400_and_writes_nothing(tool, people, payload, field):
    before = _written()
    r = tool.post("tickets", payload)
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert field in error["fields"] and error["message"]
    assert _written() == before


def test_create_malformed_json_names_the_position(tool, people):
    before = _written()
    r = tool.post("tickets", raw='{"subject": "x",\n "department": }')
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "malformed_json" and "line 2, column 16" in error["message"]
    assert _written() == before


def test_personal_token_cannot_create_outside_its_departments(carol_api, people):
    before = _written()
    r = carol_api.post("tickets", {"subject": "x", "department": "soc"})
    assert r.status_code == 403 and "SOC" in r.json()["error"]["message"]
    assert _written() == before


# --- update -----------------------------------------------------------------------------------------


def test_patch_applies_each_change_through_its_service(alice_api, soc_ticket, people):
    r = alice_api.patch(
        f"tickets/{soc_ticket.number}",
        {
            "version": 1,
            "status": "in_progress",
            "severity": "critical",
            "assignee": "bob",
            "team": "Tier 1",
            "tags": ["ransomware"],
            "subject": "Ransomware on WS-042",
            "due_at": "2030-01-02T03:04:05Z",
        },
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "in_progress" and body["severity"] == "critical"
    assert body["assignee"]["username"] == "bob" and body["team"]["name"] == "Tier 1"
    assert body["tags"] == ["ransomware"] and body["subject"] == "Ransomware on WS-042"
    assert body["due_at"].startswith("2030-01-02T03:04:05")
    actions = set(
        AuditEvent.objects.filter(target_type="ticket", target_id=str(soc_ticket.pk)).values_list(
            "action", flat=True
        )
    )
    assert {
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.severity_changed",
        "ticket.tagged",
        "ticket.edited",
    } <= actions
    assert body["version"] == Ticket.objects.get(pk=soc_ticket.pk).version > 1


def test_patch_resolve_transfer_and_unassign(alice_api, tool, soc_ticket, people):
    v = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "assignee": people.alice.pk}).json()[
        "version"
    ]
    v = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": v, "assignee": None}).json()["version"]
    assert Ticket.objects.get(pk=soc_ticket.pk).assignee is None
    v = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": v, "status": "in_progress"}).json()[
        "version"
    ]
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": v, "status": "resolved"})
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"resolution": "required"}
    r = alice_api.patch(
        f"tickets/{soc_ticket.number}", {"version": v, "status": "resolved", "resolution": "false_positive"}
    )
    assert r.json()["status"] == "resolved" and r.json()["resolution"] == "false_positive"
    r = tool.patch(
        f"tickets/{soc_ticket.number}",
        {"version": r.json()["version"], "department": people.it.pk, "reason": "IT owns it"},
    )
    assert r.status_code == 200 and r.json()["department"]["slug"] == people.it.slug


def test_patch_stale_version_is_409_naming_the_change(alice_api, soc_ticket, people):
    ticket_change_severity(actor=Actor.for_agent(people.bob), ticket=soc_ticket, severity="low")
    before = _written()
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "subject": "mine"})
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict" and "bob changed the severity from High to Low" in error["message"]
    assert error["fields"] == {"version": "2"}
    assert _written() == before and Ticket.objects.get(pk=soc_ticket.pk).subject == soc_ticket.subject


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"status": "in_progress"}, "version"),
        ({"version": "one"}, "version"),
        ({"version": 1, "status": "pending"}, "status"),
        ({"version": 1, "status": "closed"}, "status"),  # new cannot become closed: the state machine
        ({"version": 1, "status": "resolved"}, "resolution"),  # resolving from new needs a resolution
        ({"version": 1, "severity": 5}, "severity"),
        ({"version": 1, "assignee": "ghost"}, "assignee"),
        ({"version": 1, "department": "nowhere"}, "department"),
        ({"version": 1, "tags": [1, 2]}, "tags.0"),
        ({"version": 1, "comment": "why"}, "comment"),
    ],
)
def test_patch_bad_input_is_400_and_writes_nothing(alice_api, soc_ticket, payload, field):
    before = _written()
    r = alice_api.patch(f"tickets/{soc_ticket.number}", payload)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"], r.content
    assert _written() == before


def test_patch_is_all_or_nothing(alice_api, soc_ticket):
    """A later change failing (bad transition) rolls back the earlier ones (severity)."""
    before = _written()
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "severity": "low", "status": "closed"})
    assert r.status_code == 400 and "cannot become closed" in r.json()["error"]["message"]
    assert _written() == before and Ticket.objects.get(pk=soc_ticket.pk).severity == "high"


def test_patch_whose_second_change_is_refused_leaves_ticket_version_and_trail_untouched(
    alice_api, soc_ticket
):
    """The tags are replaced first (their service accepts), then the blank subject is refused."""
    ticket = Ticket.objects.get(pk=soc_ticket.pk)
    row = (
        ticket.snapshot(),
        ticket.subject,
        ticket.version,
        sorted(ticket.tags.values_list("name", flat=True)),
    )
    trail = list(AuditEvent.objects.values_list("pk", flat=True))
    entries = list(ThreadEntry.objects.values_list("pk", flat=True))
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "tags": ["malware"], "subject": " "})
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"subject": "required"}
    ticket = Ticket.objects.get(pk=soc_ticket.pk)
    assert (
        ticket.snapshot(),
        ticket.subject,
        ticket.version,
        sorted(ticket.tags.values_list("name", flat=True)),
    ) == row
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == trail
    assert list(ThreadEntry.objects.values_list("pk", flat=True)) == entries


def test_patch_with_nothing_new_changes_nothing(alice_api, soc_ticket):
    r = alice_api.patch(f"tickets/{soc_ticket.number}", {"version": 1, "severity": "high", "status": None})
    assert r.status_code == 200 and r.json()["version"] == 1


# --- thread -----------------------------------------------------------------------------------------


def test_thread_post_and_read_with_attachment(alice_api, soc_ticket):
    r = alice_api.post(
        f"tickets/{soc_ticket.number}/thread",
        {
            "kind": "reply",
            "body": "We isolated the host.",
            "attachments": [{"name": "r.txt", "content_base64": "aGk="}],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "reply" and r.json()["author_agent"] == "alice"
    r = alice_api.post(
        f"tickets/{soc_ticket.number}/thread", {"kind": "note", "body": "Internal: check EDR."}
    )
    assert r.status_code == 201
    items = alice_api.get(f"tickets/{soc_ticket.number}/thread").json()["items"]
    kinds = [e["kind"] for e in items]
    assert "reply" in kinds and "note" in kinds
    attachment = next(e for e in items if e["kind"] == "reply")["attachments"][0]
    assert attachment["filename"] == "r.txt" and attachment["size"] == 2
    download = alice_api.get(attachment["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"hi"
    assert "attachment" in download["Content-Disposition"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "shout", "body": "x"}, "kind"),
        ({"kind": "reply", "body": ""}, "body"),
        (
            {"kind": "note", "body": "x", "attachments": [{"name": "a", "content_base64": "%%"}]},
            "attachments.0.content_base64",
        ),
        ({"body": "x"}, "kind"),
    ],
)
def test_thread_post_bad_input_writes_nothing(alice_api, soc_ticket, payload, field):
    before = (*_written(), Attachment.objects.count())
    r = alice_api.post(f"tickets/{soc_ticket.number}/thread", payload)
    assert r.status_code == 400 and field in r.json()["error"]["fields"], r.content
    assert (*_written(), Attachment.objects.count()) == before


def test_thread_post_with_stale_version_is_409(alice_api, soc_ticket, people):
    ticket_change_severity(actor=Actor.for_agent(people.bob), ticket=soc_ticket, severity="low")
    r = alice_api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "note", "body": "x", "version": 1})
    assert r.status_code == 409 and "severity" in r.json()["error"]["message"]


def test_patch_resolves_a_new_ticket_in_one_step(alice_api, soc_ticket):
    r = alice_api.patch(
        f"tickets/{soc_ticket.number}", {"version": 1, "status": "resolved", "resolution": "false_positive"}
    )
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["resolution"]) == ("resolved", "false_positive")
