"""Mailboxes in configuration as code: exported without their passwords, applied through the audited
services (a second apply changes nothing), a stored password kept, refusals named, pruned on request."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.mail.models import Mailbox
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.services.topics import TopicDefinition, help_topic_create

ACTOR = Actor.system("cli:config apply (test)")
SECRET = "stored-secret-never-exported"


def apply(text: str, **kwargs):
    return config_apply(actor=ACTOR, text=textwrap.dedent(text), **kwargs)


def test_export_leaves_the_password_out_and_the_file_applies_back_unchanged(people):
    topic = help_topic_create(actor=ACTOR, definition=TopicDefinition(name="Phishing", department=people.soc))
    mailbox_create(
        actor=ACTOR,
        definition=MailboxDefinition(
            name="soc-inbox",
            address="help@soc.example.test",
            host="imap.example.test",
            username="help",
            password=SECRET,
            department=people.soc,
            help_topic=topic,
            after_import="move",
            move_to="Imported",
        ),
    )
    text = config_export()
    assert SECRET not in text and "password:" not in text
    [entry] = yaml.safe_load(text)["mailboxes"]
    assert entry == {
        "name": "soc-inbox",
        "address": "help@soc.example.test",
        "enabled": True,
        "host": "imap.example.test",
        "port": 993,
        "security": "tls",
        "username": "help",
        "password_file": "",
        "folder": "INBOX",
        "after_import": "move",
        "move_to": "Imported",
        "department": "SOC",
        "help_topic": "Phishing",
        "interval_seconds": 300,
        "max_messages": 100,
    }
    before = AuditEvent.objects.count()
    changes = apply(text)
    assert {c.outcome for c in changes} == {"unchanged"} and AuditEvent.objects.count() == before

    # A change in the file is an audited update; the stored password stays.
    changes = apply(text.replace("max_messages: 100", "max_messages: 20"))
    assert [(c.kind, c.name, c.outcome, c.fields) for c in changes if c.outcome != "unchanged"] == [
        ("mailboxes", "soc-inbox", "updated", ("max_messages",))
    ]
    mailbox = Mailbox.objects.get()
    assert (mailbox.max_messages, mailbox.password) == (20, SECRET)


def test_a_new_mailbox_from_a_file_needs_a_password_file(people):
    entry = """
        version: 1
        mailboxes:
          - name: it-inbox
            address: it@example.test
            host: imap.example.test
            username: it
            department: IT Help Desk
        """
    with pytest.raises(ConfigInvalid) as refused:
        apply(entry)
    assert "Give the mailbox's password, or a password file" in str(refused.value.problems)
    assert not Mailbox.objects.exists()

    apply(entry.replace("username: it\n", "username: it\n            password_file: /run/secrets/imap-it\n"))
    mailbox = Mailbox.objects.get()
    assert (mailbox.password_file, mailbox.department, mailbox.password) == (
        "/run/secrets/imap-it",
        people.it,
        "",
    )


def test_prune_removes_a_mailbox_the_file_does_not_name(people):
    mailbox_create(
        actor=ACTOR,
        definition=MailboxDefinition(
            name="old", address="old@example.test", host="imap.example.test", username="old", password=SECRET
        ),
    )
    apply("version: 1\nmailboxes: []\n", prune=True)
    assert not Mailbox.objects.exists()
    assert AuditEvent.objects.filter(action="mailbox.deleted").count() == 1
