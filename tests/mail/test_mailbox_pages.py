"""The admin area's mailbox pages: admins only (404 for everyone else), created and edited through the
audited services with refusals next to their field and nothing written, the password never sent back,
"Test connection" against a real Dovecot, and the last fetch on the list."""

from __future__ import annotations

from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.mail.models import Mailbox
from tests.console_helpers import client_for

SECRET = "imap-secret-123"


def post_data(**changes) -> dict:
    data = {
        "name": "soc-inbox",
        "address": "help@soc.example.test",
        "department": "",
        "help_topic": "",
        "host": "imap.example.test",
        "port": "993",
        "security": "tls",
        "username": "help@soc.example.test",
        "password": SECRET,
        "password_file": "",
        "folder": "INBOX",
        "after_import": "seen",
        "move_to": "",
        "interval_seconds": "300",
        "max_messages": "100",
        "enabled": "on",
    }
    return data | changes


def make(**changes) -> Mailbox:
    values = dict(
        name="soc-inbox",
        address="help@soc.example.test",
        host="imap.example.test",
        username="help",
        password=SECRET,
    )
    return mailbox_create(actor=Actor.system("test"), definition=MailboxDefinition(**(values | changes)))


def test_only_admins_reach_the_mailbox_pages(people):
    mailbox = make()
    pages = ("/admin-area/mailboxes", "/admin-area/mailboxes/new", f"/admin-area/mailboxes/{mailbox.pk}")
    admin = client_for(people.admin)
    for url in pages:
        assert admin.get(url).status_code == 200, url
    before = AuditEvent.objects.count()
    for persona in (people.alice, people.bob, people.carol):
        client = client_for(persona)
        for url in pages:
            assert client.get(url).status_code == 404, (persona, url)
        assert client.post("/admin-area/mailboxes/new", post_data(name="sneaky")).status_code == 404
        assert (
            client.post(f"/admin-area/mailboxes/{mailbox.pk}", post_data(host="evil.test")).status_code == 404
        )
        assert client.post(f"/admin-area/mailboxes/{mailbox.pk}/test").status_code == 404
        assert client.post(f"/admin-area/mailboxes/{mailbox.pk}/delete").status_code == 404
    assert list(Mailbox.objects.values_list("name", "host")) == [("soc-inbox", "imap.example.test")]
    assert AuditEvent.objects.count() == before
    nav = admin.get("/admin-area/").content.decode()
    assert 'href="/admin-area/mailboxes"' in nav


def test_a_mailbox_is_created_and_edited_and_the_password_is_never_sent_back(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/mailboxes/new", post_data(department=str(people.soc.pk)))
    mailbox = Mailbox.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin-area/mailboxes/{mailbox.pk}"
    assert (mailbox.password, mailbox.department) == (SECRET, people.soc)
    page = admin.get(f"/admin-area/mailboxes/{mailbox.pk}").content.decode()
    assert SECRET not in page and "A password is stored; leave blank to keep it." in page

    # Saved without typing the password: it is kept.
    response = admin.post(f"/admin-area/mailboxes/{mailbox.pk}", post_data(password="", folder="SOC"))
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.password) == ("SOC", SECRET)
    events = AuditEvent.objects.filter(action__startswith="mailbox.")
    assert [e.action for e in events.order_by("id")] == ["mailbox.created", "mailbox.updated"]
    assert all(SECRET not in str([e.before, e.after]) for e in events)


def test_a_refused_mailbox_says_why_next_to_the_field_and_writes_nothing(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/mailboxes/new", post_data(after_import="move", move_to=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Moving imported mail needs the folder to move it to" in page and SECRET not in page
    assert not Mailbox.objects.exists()
    mailbox = make()
    response = admin.post(f"/admin-area/mailboxes/{mailbox.pk}", post_data(name="Not A Slug!"))
    assert response.status_code == 400 and "lower-case letters" in response.content.decode()
    mailbox.refresh_from_db()
    assert mailbox.name == "soc-inbox"


def test_test_connection_shows_the_servers_answer(people, dovecot, imap_user):
    admin = client_for(people.admin)
    good = make(
        name="good",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username=imap_user[0],
        password=imap_user[1],
    )
    bad = make(
        name="bad",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username=imap_user[0],
        password="wrong",
    )
    page = admin.post(f"/admin-area/mailboxes/{good.pk}/test", follow=True).content.decode()
    assert "OK: 0 messages in INBOX, 0 unseen." in page
    page = admin.post(f"/admin-area/mailboxes/{bad.pk}/test", follow=True).content.decode()
    assert f"Could not log in to {dovecot.host}:{dovecot.port} as {imap_user[0]}" in page


def test_the_list_shows_the_last_fetch_and_delete_keeps_the_rest(people):
    mailbox = make()
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_fetch_at=timezone.now(), last_count=7, last_error="Could not log in to imap.example.test:993."
    )
    admin = client_for(people.admin)
    page = admin.get("/admin-area/mailboxes").content.decode()
    assert "7 imported" in page and "Could not log in to imap.example.test:993." in page
    response = admin.post(f"/admin-area/mailboxes/{mailbox.pk}/delete")
    assert response.status_code == 302 and not Mailbox.objects.exists()
    assert AuditEvent.objects.filter(action="mailbox.deleted").count() == 1
