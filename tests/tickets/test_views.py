"""The agent console's ticket pages over HTTP, with the personas."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from tests.console_helpers import client_for


@pytest.fixture
def alice(people):
    return client_for(people.alice)


def _post(client, ticket, action, data, **extra):
    data = {"version": Ticket.objects.get(pk=ticket.pk).version, **data}
    return client.post(f"/tickets/{ticket.number}/{action}", data, **extra)


def _fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


# --- landing and queues -------------------------------------------------------------------------------


def test_home_shows_queues_with_counts(alice, soc_ticket):
    html = alice.get("/").content.decode()
    assert 'data-queue-count="open">1<' in html
    assert 'data-queue-count="mine">0<' in html
    assert "Unassigned" in html


def test_home_shows_capped_counts_with_a_plus(alice, people, soc_ticket, settings):
    services.ticket_create(actor=people.actor(people.alice), subject="Second", department=people.soc)
    settings.SOCDESK_COUNT_CAP = 1
    html = alice.get("/").content.decode()
    assert 'data-queue-count="open">1+<' in html


def test_home_shows_10000_plus_format(alice, people, soc_ticket, settings):
    from socdesk.tickets.views import count_label

    assert count_label(10_000, True) == "10,000+"
    assert count_label(1234, False) == "1,234"


def test_queue_rows_show_the_ticket(alice, soc_ticket):
    html = alice.get("/tickets/?queue=open").content.decode()
    assert soc_ticket.number in html and "Suspicious PowerShell on WS-042" in html
    assert 'class="sev sev-high"' in html and "Dana Reyes" in html and "SOC" in html
    assert "None" not in html  # an unassigned ticket shows a dash, not the joined NULL names


def test_queue_rows_name_the_assignee(alice, people, soc_ticket):
    services.ticket_assign(
        actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob, team=people.tier1
    )
    html = alice.get("/tickets/?queue=open").content.decode()
    assert "Bob" in html and "/ Tier 1" in html


def test_queue_filters_and_reports_bad_values(alice, people, soc_ticket):
    services.ticket_create(
        actor=people.actor(people.alice),
        subject="VPN brute force",
        department=people.soc,
        severity="low",
        tags=["vpn"],
    )
    html = alice.get("/tickets/?queue=all&severity=low").content.decode()
    assert "VPN brute force" in html and "Suspicious PowerShell" not in html
    html = alice.get("/tickets/?queue=all&tag=edr").content.decode()
    assert "VPN brute force" not in html and "Suspicious PowerShell" in html
    html = alice.get("/tickets/?queue=all&q=powershell").content.decode()
    assert "VPN brute force" not in html and "Suspicious PowerShell" in html
    response = alice.get("/tickets/?queue=all&severity=extreme&created_from=yesterday")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown severity extreme" in html and "must be a date like" in html


def test_queue_is_scoped_to_what_the_agent_sees(people, soc_ticket):
    html = client_for(people.carol).get("/tickets/?queue=all").content.decode()
    assert soc_ticket.number not in html and "No tickets match." in html


def test_queue_sorts_and_pages_without_counting_everything(alice, people, settings):
    settings.SOCDESK_QUEUE_PAGE_SIZE = 2
    actor = people.actor(people.alice)
    made = [
        services.ticket_create(actor=actor, subject=f"Ticket {i}", department=people.soc) for i in range(5)
    ]
    html = alice.get("/tickets/?queue=all&sort=-number").content.decode()
    numbers = re.findall(r'name="ticket" value="([^"]+)"', html)
    assert numbers == [made[0].number, made[1].number]
    assert 'rel="next"' in html and 'rel="prev"' not in html and "1\u20132 of 5" in html
    html = alice.get("/tickets/?queue=all&sort=-number&page=3").content.decode()
    assert re.findall(r'name="ticket" value="([^"]+)"', html) == [made[4].number]
    assert 'rel="next"' not in html and 'rel="prev"' in html
    html = alice.get("/tickets/?queue=all&sort=number").content.decode()
    assert re.findall(r'name="ticket" value="([^"]+)"', html)[0] == made[4].number


def test_queue_page_runs_a_constant_number_of_queries(alice, people, django_assert_max_num_queries):
    actor = people.actor(people.alice)
    for i in range(3):
        services.ticket_create(
            actor=actor,
            subject=f"T{i}",
            department=people.soc,
            assignee=people.bob,
            team=people.tier1,
            requester_email=f"u{i}@example.test",
        )
    alice.get("/tickets/?queue=all")  # warm the session
    with django_assert_max_num_queries(16) as few:  # 15, and the notification bell's count
        alice.get("/tickets/?queue=all")
    for i in range(40):
        services.ticket_create(
            actor=actor,
            subject=f"U{i}",
            department=people.soc,
            assignee=people.alice,
            team=people.tier1,
            requester_email=f"v{i}@example.test",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice.get("/tickets/?queue=all")


# --- bulk ---------------------------------------------------------------------------------------------


def test_bulk_changes_each_ticket_and_reports_refusals(alice, people, soc_ticket):
    it_ticket = services.ticket_create(
        actor=people.actor(people.carol), subject="Printer", department=people.it
    )
    other = services.ticket_create(
        actor=people.actor(people.alice), subject="Other", department=people.soc, severity="critical"
    )
    response = alice.post(
        "/tickets/bulk",
        {
            "ticket": [soc_ticket.number, other.number, it_ticket.number],
            "action": "severity",
            "severity": "critical",
            "next": "/tickets/?queue=all",
        },
        follow=True,
    )
    html = response.content.decode()
    assert f"Changed 1 ticket(s): {soc_ticket.number}." in html
    assert f"{other.number}: The severity is already critical." in html
    assert f"{it_ticket.number}: Ticket {it_ticket.number} was not found." in html
    assert _fresh(soc_ticket).severity == "critical" and _fresh(it_ticket).severity == "medium"


def test_bulk_assign_status_and_transfer(alice, people, soc_ticket):
    alice.post(
        "/tickets/bulk", {"ticket": [soc_ticket.number], "action": "assign", "assignee": people.bob.pk}
    )
    assert _fresh(soc_ticket).assignee == people.bob
    html = alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "status", "status": "closed"},
        follow=True,
    ).content.decode()
    assert "cannot become closed" in html
    alice.post("/tickets/bulk", {"ticket": [soc_ticket.number], "action": "status", "status": "in_progress"})
    html = alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "status", "status": "resolved"},
        follow=True,
    ).content.decode()
    assert "Choose a resolution" in html and _fresh(soc_ticket).status == "in_progress"
    alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "status", "status": "resolved", "resolution": "duplicate"},
    )
    assert _fresh(soc_ticket).resolution == "duplicate"
    alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "transfer", "department": people.it.pk, "reason": "IT"},
    )
    assert _fresh(soc_ticket).department == people.it


def test_bulk_without_selection_or_choice_explains(alice, soc_ticket):
    html = alice.post(
        "/tickets/bulk", {"action": "severity", "severity": "low"}, follow=True
    ).content.decode()
    assert "Select at least one ticket first." in html
    html = alice.post(
        "/tickets/bulk", {"ticket": [soc_ticket.number], "action": "severity"}, follow=True
    ).content.decode()
    assert "Choose the severity to set." in html
    html = alice.post("/tickets/bulk", {"ticket": [soc_ticket.number]}, follow=True).content.decode()
    assert "Choose a bulk action." in html


# --- the ticket page ----------------------------------------------------------------------------------


def test_ticket_page_shows_fields_thread_and_history(alice, people, soc_ticket):
    services.ticket_reply(actor=people.actor(people.bob), ticket=soc_ticket, body="We are on it.")
    services.ticket_claim(actor=people.actor(people.bob), ticket=soc_ticket)
    html = alice.get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "Suspicious PowerShell on WS-042" in html and "Dana Reyes" in html
    assert 'class="entry note"' in html  # alice's description is an internal note
    assert 'class="entry reply"' in html and "We are on it." in html
    assert 'class="entry event"' in html and "bob claimed the ticket." in html
    assert 'data-action="ticket.created"' in html and 'data-action="ticket.replied"' in html
    assert "opened the ticket" in html
    for label in (
        "Message",
        "Attachments",
        "Status",
        "Resolution",
        "Assignee",
        "Team",
        "Severity",
        "Tags",
        "Subject",
        "Due",
        "Department",
    ):
        assert f">{label}</label>" in html, label


def test_ticket_page_times_use_the_agents_time_zone(people, soc_ticket):
    people.alice.time_zone = "Asia/Tokyo"
    people.alice.save()
    html = client_for(people.alice).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "JST" in html
    assert "JST" not in client_for(people.bob).get(f"/tickets/{soc_ticket.number}/").content.decode()


def test_reply_and_note_with_attachment(alice, people, soc_ticket):
    upload = SimpleUploadedFile("evidence.txt", b"hash 1234\n", content_type="text/plain")
    response = _post(
        alice, soc_ticket, "compose", {"body": "Isolating the host.", "kind": "note", "attachments": upload}
    )
    assert response.status_code == 302
    note = ThreadEntry.objects.get(ticket=soc_ticket, body="Isolating the host.")
    assert note.kind == "note"
    (attachment,) = note.attachments.all()
    html = alice.get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "evidence.txt" in html and attachment.sha256 in html and "10\xa0bytes" in html
    _post(alice, soc_ticket, "compose", {"body": "Hello Dana", "kind": "reply"})
    assert ThreadEntry.objects.get(ticket=soc_ticket, body="Hello Dana").kind == "reply"


def test_empty_reply_is_refused_and_nothing_written(alice, soc_ticket):
    before = ThreadEntry.objects.count(), AuditEvent.objects.count()
    response = _post(alice, soc_ticket, "compose", {"body": "  ", "kind": "reply"})
    assert response.status_code == 400 and "The message is empty." in response.content.decode()
    assert (ThreadEntry.objects.count(), AuditEvent.objects.count()) == before


def test_too_large_attachment_is_refused_before_reading(alice, soc_ticket, settings):
    settings.ATTACHMENT_MAX_BYTES = 5
    upload = SimpleUploadedFile("big.bin", b"0123456789")
    response = _post(
        alice, soc_ticket, "compose", {"body": "see file", "kind": "reply", "attachments": upload}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "the limit is 5 bytes" in html and "see file" in html
    assert not Attachment.objects.exists() and not ThreadEntry.objects.filter(body="see file").exists()


def test_claim_release_assign_transfer(alice, people, soc_ticket):
    _post(alice, soc_ticket, "claim", {})
    assert _fresh(soc_ticket).assignee == people.alice and _fresh(soc_ticket).status == "in_progress"
    _post(alice, soc_ticket, "release", {})
    assert _fresh(soc_ticket).assignee is None
    _post(alice, soc_ticket, "assign", {"assignee": people.bob.pk, "team": people.tier1.pk})
    t = _fresh(soc_ticket)
    assert t.assignee == people.bob and t.team == people.tier1
    # carol holds no role in SOC: she is not offered, and a forged choice is refused by the form.
    response = _post(alice, soc_ticket, "assign", {"assignee": people.carol.pk})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    _post(alice, soc_ticket, "transfer", {"department": people.it.pk, "reason": "IT owns it"})
    assert _fresh(soc_ticket).department == people.it


def test_resolve_needs_a_resolution(alice, soc_ticket):
    _post(alice, soc_ticket, "status", {"status": "in_progress"})
    version = _fresh(soc_ticket).version
    response = _post(alice, soc_ticket, "status", {"status": "resolved", "comment": "done"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a resolution" in html and 'value="done"' in html
    assert _fresh(soc_ticket).status == "in_progress" and _fresh(soc_ticket).version == version
    _post(alice, soc_ticket, "status", {"status": "resolved", "resolution": "false_positive"})
    t = _fresh(soc_ticket)
    assert t.status == "resolved" and t.resolution == "false_positive"


def test_severity_tags_and_edit(alice, soc_ticket):
    _post(alice, soc_ticket, "severity", {"severity": "critical"})
    _post(alice, soc_ticket, "tags", {"tags": "ransomware, EDR"})
    _post(alice, soc_ticket, "edit", {"subject": "Ransomware on WS-042", "due_at": "2030-01-02T10:30"})
    t = _fresh(soc_ticket)
    assert t.severity == "critical" and sorted(t.tags.values_list("name", flat=True)) == ["edr", "ransomware"]
    assert t.subject == "Ransomware on WS-042" and t.due_at is not None
    response = _post(alice, soc_ticket, "edit", {"subject": ""})
    assert response.status_code == 400 and _fresh(soc_ticket).subject == "Ransomware on WS-042"


def test_stale_form_is_refused_with_what_changed_and_keeps_the_text(alice, people, soc_ticket):
    loaded = soc_ticket.version
    services.ticket_change_severity(actor=people.actor(people.bob), ticket=soc_ticket, severity="critical")
    entries = ThreadEntry.objects.count()
    response = alice.post(
        f"/tickets/{soc_ticket.number}/compose",
        {"version": loaded, "body": "My careful analysis", "kind": "reply"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed since you loaded it" in html and "bob changed the severity from High to Critical" in html
    assert "My careful analysis" in html
    assert f'name="version" value="{_fresh(soc_ticket).version}"' in html
    assert ThreadEntry.objects.count() == entries


def test_missing_version_is_refused(alice, soc_ticket):
    response = alice.post(f"/tickets/{soc_ticket.number}/severity", {"severity": "low"})
    assert response.status_code == 400 and "reload the page" in response.content.decode()
    assert _fresh(soc_ticket).severity == "high"


def test_htmx_action_returns_the_partial_and_errors_with_200(alice, soc_ticket):
    response = _post(alice, soc_ticket, "severity", {"severity": "low"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="ticket-main"' in html
    assert "Severity set to low." in html
    response = alice.post(
        f"/tickets/{soc_ticket.number}/severity", {"severity": "high", "version": 1}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "changed since you loaded it" in response.content.decode()


def test_permission_refusal_is_a_message(people, soc_ticket):
    people.carol.teams.add(people.tier1)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, team=people.tier1)
    carol = client_for(people.carol)  # sees it through her team, may not transfer it
    response = _post(carol, soc_ticket, "transfer", {"department": people.it.pk, "reason": "mine"})
    assert response.status_code == 403
    assert "You do not have the transfer tickets permission in SOC." in response.content.decode()


def test_unknown_action_is_404(alice, soc_ticket):
    assert _post(alice, soc_ticket, "explode", {}).status_code == 404


# --- attachments --------------------------------------------------------------------------------------


def test_attachment_download_is_always_a_download(alice, people, soc_ticket):
    from socdesk.tickets.attachments import IncomingFile

    entry = services.ticket_note(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        body="page",
        attachments=[IncomingFile("evil.html", b"<script>alert(1)</script>")],
    )
    attachment = entry.attachments.get()
    response = alice.get(f"/tickets/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "evil.html" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


# --- presence -----------------------------------------------------------------------------------------


def test_presence_shows_who_else_is_viewing_or_typing(people, soc_ticket):
    bob, alice = client_for(people.bob), client_for(people.alice)
    url = f"/tickets/{soc_ticket.number}/presence"
    assert "is viewing" not in bob.post(url).content.decode()
    html = alice.post(url, {"composing": "1"}).content.decode()
    assert "Bob is viewing" in html
    assert "Alice is typing a reply" in bob.post(url).content.decode()
    bob.post(url, {"leave": "1"})
    assert "Bob" not in alice.post(url).content.decode()


# --- new ticket ---------------------------------------------------------------------------------------


def test_new_ticket_form_is_labelled_and_creates(alice, people):
    html = alice.get("/tickets/new").content.decode()
    for label in (
        "Requester email",
        "Requester name",
        "Requester phone",
        "Subject",
        "Department",
        "Severity",
        "Source",
        "Assignee",
        "Team",
        "Tags",
        "Description",
        "Attachments",
    ):
        assert f">{label}</label>" in html, label
    assert people.it.name not in html.split('id="id_department"')[1].split("</select>")[0]
    response = alice.post(
        "/tickets/new",
        {
            "requester_email": "caller@example.test",
            "requester_name": "Caller",
            "requester_phone": "+1 555 0100",
            "subject": "Phone: lost laptop",
            "department": people.soc.pk,
            "severity": "high",
            "source": "phone",
            "assignee": people.bob.pk,
            "tags": "laptop, loss",
            "body": "Left on a train.",
            "attachments": SimpleUploadedFile("report.txt", b"police report"),
        },
    )
    ticket = Ticket.objects.get(subject="Phone: lost laptop")
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.number}/"
    assert (
        ticket.source == "phone" and ticket.assignee == people.bob and ticket.requester.phone == "+1 555 0100"
    )
    assert ticket.entries.get().attachments.get().filename == "report.txt"


def test_new_ticket_refuses_a_department_without_create_permission(people):
    carol = client_for(people.carol)
    response = carol.post(
        "/tickets/new", {"subject": "Sneaky", "department": people.soc.pk, "severity": "low", "source": "web"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode() and "Sneaky" in response.content.decode()
    assert not Ticket.objects.filter(subject="Sneaky").exists()


def test_new_ticket_service_refusal_keeps_the_form(people):
    admin = client_for(people.admin)
    response = admin.post(
        "/tickets/new",
        {
            "subject": "Wrong team",
            "department": people.it.pk,
            "team": people.tier1.pk,
            "severity": "low",
            "source": "web",
            "body": "typed text",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The team Tier 1 belongs to another department." in html and "typed text" in html
    assert 'class="field invalid"><label for="id_team">' in html
    assert not Ticket.objects.filter(subject="Wrong team").exists()


def test_ticket_page_queries_do_not_grow_with_the_thread(
    alice, people, soc_ticket, django_assert_max_num_queries
):
    from socdesk.tickets.attachments import IncomingFile

    actor = people.actor(people.bob)
    services.ticket_note(actor=actor, ticket=soc_ticket, body="n0", attachments=[IncomingFile("a.txt", b"a")])
    alice.get(f"/tickets/{soc_ticket.number}/")
    with django_assert_max_num_queries(40) as few:
        alice.get(f"/tickets/{soc_ticket.number}/")
    for i in range(15):
        services.ticket_note(
            actor=actor,
            ticket=soc_ticket,
            body=f"n{i}",
            attachments=[IncomingFile(f"{i}.txt", str(i).encode())],
        )
        services.ticket_reply(actor=actor, ticket=soc_ticket, body=f"r{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice.get(f"/tickets/{soc_ticket.number}/")


def test_a_message_from_a_tool_is_not_labelled_as_from_a_requester(alice, people):
    from socdesk.core.actor import Actor

    t = services.ticket_create(
        actor=Actor.system("ingest"),
        subject="Beacon",
        department=people.soc,
        source="alert",
        body="raw alert",
    )
    html = alice.get(f"/tickets/{t.number}/").content.decode()
    assert "Received from a security tool" in html and "Message from requester" not in html
