"""The worker's side of mailboxes: the periodic job fetches the enabled mailboxes that are due, one batch
each, and a mailbox is never fetched by two workers at once (the claim is a conditional UPDATE)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.mail.fetching import mailbox_claim
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.mail.models import Mailbox
from socdesk.mail.tasks import mailbox_fetch_task, mailboxes_fetch_due
from socdesk.tickets.models import Ticket
from tests.mail import corpus


def make(dovecot, user, name: str, **changes) -> Mailbox:
    values = dict(
        name=name,
        address=f"{name}@soc.example.test",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username=user[0],
        password=user[1],
    )
    return mailbox_create(actor=Actor.system("test"), definition=MailboxDefinition(**(values | changes)))


def messages(prefix: str, count: int) -> list[bytes]:
    return [
        corpus.plain(f"{prefix} {n}\n", subject=f"{prefix} {n}", Message_ID=f"<{prefix}-{n}@example.test>")
        for n in range(count)
    ]


def test_the_periodic_job_fetches_due_mailboxes_one_batch_each(people, dovecot, huey_immediate):
    due, recent, off = dovecot.user(), dovecot.user(), dovecot.user()
    make(dovecot, due, "due", max_messages=2)
    fetched = make(dovecot, recent, "recent")
    make(dovecot, off, "off", enabled=False)
    Mailbox.objects.filter(pk=fetched.pk).update(last_fetch_at=timezone.now() - timedelta(seconds=30))
    for user, prefix in ((due, "due"), (recent, "recent"), (off, "off")):
        dovecot.append(user, messages(prefix, 3))

    assert mailboxes_fetch_due.call_local() == 1
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["due 0", "due 1"]
    mailbox = Mailbox.objects.get(name="due")
    assert (mailbox.last_count, mailbox.last_error) == (2, "")
    # Fetched just now: not due again until its interval has passed.
    assert mailboxes_fetch_due.call_local() == 0


def test_a_task_for_a_mailbox_being_fetched_or_disabled_does_nothing(people, dovecot):
    user = dovecot.user()
    mailbox = make(dovecot, user, "held")
    dovecot.append(user, messages("held", 1))
    assert mailbox_claim(mailbox) is not None
    assert mailbox_fetch_task.call_local(mailbox.pk) == 0
    Mailbox.objects.filter(pk=mailbox.pk).update(fetching_since=None, enabled=False)
    assert mailbox_fetch_task.call_local(mailbox.pk) == 0
    assert not Ticket.objects.exists() and dovecot.flags(user) == [()]


@pytest.mark.django_db(transaction=True)
def test_racing_workers_claim_a_mailbox_once(dovecot):
    make_personas()
    mailbox = make(dovecot, dovecot.user(), "race")
    now = timezone.now()
    won, errors, barrier = [], [], threading.Barrier(4)

    def worker():
        try:
            barrier.wait(timeout=10)
            won.append(mailbox_claim(mailbox, now))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(won) == 4
    assert [stamp for stamp in won if stamp is not None] == [now]


@pytest.mark.django_db(transaction=True)
def test_racing_fetch_tasks_import_each_message_once_and_commit_before_acting(dovecot):
    make_personas()
    user = dovecot.user()
    mailbox = make(dovecot, user, "tasks", after_import="move", move_to="Imported")
    dovecot.append(user, messages("task", 6))
    imported, errors, barrier = [], [], threading.Barrier(3)

    def worker():
        try:
            barrier.wait(timeout=10)
            imported.append(mailbox_fetch_task.call_local(mailbox.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and sum(imported) == 6
    assert Ticket.objects.count() == 6
    assert dovecot.flags(user) == [] and len(dovecot.flags(user, "Imported")) == 6
