"""The same message delivered twice at the same moment (two mail servers, a retry racing the first
attempt): one delivery imports it, the other is a duplicate, whatever the database."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.mail import inbound
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage
from socdesk.tickets.models import Ticket
from tests.mail import corpus


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_message_at_once_import_it_once(monkeypatch):
    make_personas()
    if connection.vendor == "postgresql":
        # Both deliveries pass the "already imported?" read before either writes, so only the unique row
        # can stop the second. (SQLite's IMMEDIATE transactions already queue the second at its start.)
        read, together = inbound.parse_message, threading.Barrier(2)

        def parse_together(*args, **kwargs):
            parsed = read(*args, **kwargs)
            together.wait(timeout=10)
            return parsed

        monkeypatch.setattr(inbound, "parse_message", parse_together)
    raw = corpus.plain("Suspicious login from 198.51.100.9.\n", Message_ID="<race-1@example.com>")
    outcomes, errors, barrier = [], [], threading.Barrier(2)

    def deliver():
        try:
            barrier.wait(timeout=10)
            outcomes.append(mail_receive(raw, actor=Actor.system("mail:pipe"), channel="pipe").outcome)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection; do not leak it

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().ticket == Ticket.objects.get()
