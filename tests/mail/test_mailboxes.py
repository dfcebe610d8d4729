"""Mailboxes' settings: the audited services, what they refuse (saving nothing), the write-only password,
the mailboxes due for a fetch, their addresses, and `socdesk mailbox add|list|remove`."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.mailboxes import (
    MailboxDefinition,
    mailbox_addresses,
    mailbox_create,
    mailbox_definition,
    mailbox_delete,
    mailbox_password,
    mailbox_update,
    mailboxes_due,
)
from socdesk.mail.models import Mailbox

ACTOR = Actor.system("test")
SECRET = "correct horse battery staple"


def definition(**changes) -> MailboxDefinition:
    values = dict(
        name="soc-inbox",
        address="Help@SOC.example.test",
        host="imap.example.test",
        username="help@soc.example.test",
        password=SECRET,
    )
    return MailboxDefinition(**(values | changes))


def test_create_stores_the_settings_and_audits_them_without_the_password(people):
    mailbox = mailbox_create(actor=ACTOR, definition=definition(department=people.soc))
    assert (mailbox.name, mailbox.address, mailbox.port, mailbox.security) == (
        "soc-inbox",
        "help@soc.example.test",
        993,
        "tls",
    )
    assert mailbox.password == SECRET and mailbox.department == people.soc
    event = AuditEvent.objects.get(action="mailbox.created")
    assert event.after["password_set"] is True and event.after["host"] == "imap.example.test"
    assert SECRET not in json.dumps([event.before, event.after])


def test_an_edit_without_a_password_keeps_it_and_a_new_one_is_audited_only_as_changed(people):
    mailbox = mailbox_create(actor=ACTOR, definition=definition())
    mailbox = mailbox_update(
        actor=ACTOR, mailbox=mailbox, definition=mailbox_definition(mailbox, folder="SOC")
    )
    assert (mailbox.folder, mailbox.password) == ("SOC", SECRET)
    mailbox = mailbox_update(
        actor=ACTOR, mailbox=mailbox, definition=mailbox_definition(mailbox, password="new secret")
    )
    assert mailbox.password == "new secret"
    updates = AuditEvent.objects.filter(action="mailbox.updated").order_by("id")
    assert [e.after.get("password_changed", False) for e in updates] == [False, True]
    for event in updates:
        assert "secret" not in json.dumps([event.before, event.after])


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "SOC Inbox!"}, "name", "lower-case letters"),
        ({"address": "not an address"}, "address", "is not an e-mail address"),
        ({"host": "imap example"}, "host", "not a host name"),
        ({"port": 70000}, "port", "not a TCP port"),
        ({"security": "ssl3"}, "security", "Unknown security"),
        ({"username": "  "}, "username", "user name is empty"),
        ({"password": "", "password_file": ""}, "password", "password file"),
        ({"password": None, "password_file": "secrets/imap"}, "password_file", "not an absolute path"),
        ({"folder": ""}, "folder", "folder is empty"),
        ({"after_import": "archive"}, "after_import", "Unknown after-import"),
        ({"after_import": "move", "move_to": ""}, "move_to", "folder to move it to"),
        ({"after_import": "move", "move_to": "INBOX"}, "move_to", "the folder it is fetched from"),
        ({"interval_seconds": 5}, "interval_seconds", "out of range"),
        ({"max_messages": 0}, "max_messages", "Messages per fetch"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence_and_nothing_is_written(people, changes, field, words):
    with pytest.raises(ServiceError, match=words) as refused:
        mailbox_create(actor=ACTOR, definition=definition(**changes))
    assert field in refused.value.fields
    assert (
        not Mailbox.objects.exists() and not AuditEvent.objects.filter(action__startswith="mailbox.").exists()
    )


def test_a_name_is_unique_and_an_update_refused_changes_nothing(people):
    first = mailbox_create(actor=ACTOR, definition=definition())
    with pytest.raises(ServiceError, match="already exists"):
        mailbox_create(actor=ACTOR, definition=definition(address="other@example.test"))
    with pytest.raises(ServiceError, match="out of range"):
        mailbox_update(
            actor=ACTOR,
            mailbox=first,
            definition=replace(mailbox_definition(first), folder="Other", interval_seconds=1),
        )
    first.refresh_from_db()
    assert first.folder == "INBOX" and not AuditEvent.objects.filter(action="mailbox.updated").exists()


def test_the_password_file_wins_and_an_unreadable_one_is_a_sentence(people, tmp_path):
    secret = tmp_path / "imap-password"
    secret.write_text("from the file\n")
    mailbox = mailbox_create(actor=ACTOR, definition=definition(password=None, password_file=str(secret)))
    assert mailbox.password == "" and mailbox_password(mailbox) == "from the file"
    secret.unlink()
    with pytest.raises(ServiceError, match=f"password file {secret} of mailbox soc-inbox cannot be read"):
        mailbox_password(mailbox)


def test_delete_is_audited(people):
    mailbox = mailbox_create(actor=ACTOR, definition=definition())
    mailbox_delete(actor=ACTOR, mailbox=mailbox)
    assert not Mailbox.objects.exists()
    assert AuditEvent.objects.get(action="mailbox.deleted").before["name"] == "soc-inbox"


def test_addresses_are_socdesks_own_and_due_mailboxes_are_enabled_ones_past_their_interval(people):
    never = mailbox_create(actor=ACTOR, definition=definition(name="never"))
    recent = mailbox_create(actor=ACTOR, definition=definition(name="recent", address="b@example.test"))
    old = mailbox_create(actor=ACTOR, definition=definition(name="old", address="c@example.test"))
    mailbox_create(actor=ACTOR, definition=definition(name="off", address="d@example.test", enabled=False))
    now = timezone.now()
    Mailbox.objects.filter(pk=recent.pk).update(last_fetch_at=now - timedelta(seconds=100))
    Mailbox.objects.filter(pk=old.pk).update(last_fetch_at=now - timedelta(seconds=301))
    assert sorted(m.name for m in mailboxes_due(now)) == [never.name, old.name]
    assert sorted(mailbox_addresses()) == [
        "b@example.test",
        "c@example.test",
        "d@example.test",
        "help@soc.example.test",
    ]


# --- the command ------------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mailbox", *args, stdout=out)
    return out.getvalue()


def test_add_list_and_remove_from_the_command_line(people, tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text("s3cret")
    out = run(
        "add",
        "soc-inbox",
        "--address=help@soc.example.test",
        "--host=imap.example.test",
        "--security=starttls",
        f"--password-file={secret}",
        "--after-import=move",
        "--move-to=Imported",
        "--department=soc",
        "--interval=60",
        "--max-messages=50",
    )
    assert "Added mailbox soc-inbox (help@soc.example.test at imap.example.test:143, INBOX)" in out
    mailbox = Mailbox.objects.get()
    assert (mailbox.port, mailbox.security, mailbox.after_import, mailbox.move_to) == (
        143,
        "starttls",
        "move",
        "Imported",
    )
    assert (mailbox.department, mailbox.interval_seconds, mailbox.max_messages) == (people.soc, 60, 50)
    assert AuditEvent.objects.get(action="mailbox.created").actor_label.endswith("cli:mailbox")
    assert "soc-inbox\thelp@soc.example.test" in run("list") and "never fetched" in run("list")

    monkeypatch.setattr("sys.stdin", io.StringIO("typed secret\n"))
    run("add", "second", "--address=b@example.test", "--host=imap.example.test", "--password-stdin")
    assert Mailbox.objects.get(name="second").password == "typed secret"

    assert "Removed mailbox soc-inbox" in run("remove", "soc-inbox")
    assert list(Mailbox.objects.values_list("name", flat=True)) == ["second"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--department=nope", "--password-file=/run/pw"], "There is no department 'nope'"),
        (["--password-file=/run/pw", "--after-import=move"], "folder to move it to"),
        ([], "Give --password-file"),
    ],
)
def test_add_refuses_with_a_sentence_and_adds_nothing(people, args, words):
    with pytest.raises(CommandError, match=words):
        run("add", "x", "--address=a@example.test", "--host=imap.example.test", *args)
    assert not Mailbox.objects.exists()


def test_test_and_remove_name_an_unknown_mailbox(people):
    for sub in ("test", "remove"):
        with pytest.raises(CommandError, match="There is no mailbox 'ghost'"):
            run(sub, "ghost")


def test_deleting_its_help_topic_leaves_the_mailbox_without_one(people):
    from socdesk.routing.services.topics import TopicDefinition, help_topic_create, help_topic_delete

    topic = help_topic_create(actor=ACTOR, definition=TopicDefinition(name="Phishing"))
    mailbox = mailbox_create(actor=ACTOR, definition=definition(help_topic=topic))
    help_topic_delete(actor=ACTOR, topic=topic)
    mailbox.refresh_from_db()
    assert mailbox.help_topic is None
