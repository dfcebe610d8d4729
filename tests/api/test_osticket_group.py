"""osTicket API creates in one web process share one transaction (group commit); a bad one fails alone."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.alerts.models import TicketObservable
from socdesk.api import osticket
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.tickets.models import Ticket


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_share_one_transaction_and_a_refused_one_fails_alone(
    people, monkeypatch, settings
):
    raw = apikey_create(actor=Actor.system("test"), name="osticket-client", scopes=["tickets:create"])[1]
    real_run, real_create = osticket._group.run_many, osticket.ticket_create_many
    sizes, first_run = [], threading.Event()

    def slow_first_group(requests):  # hold the first group, before its transaction, until the rest queued
        sizes.append(len(requests))
        if len(sizes) == 1:
            first_run.wait(timeout=30)
        return real_run(requests)

    def refuse_one(drafts, **kwargs):  # fault injection inside the group's transaction
        if any(d.subject == "refuse me" for d in drafts):
            raise ServiceError("Refused for the test.")
        return real_create(drafts, **kwargs)

    monkeypatch.setattr(osticket._group, "run_many", slow_first_group)
    monkeypatch.setattr(osticket, "ticket_create_many", refuse_one)
    answers: dict[int, tuple[int, str]] = {}

    def create(index: int) -> None:
        subject = "refuse me" if index == 5 else f"Phishing report {index}"
        body = {
            "name": "Dana",
            "email": "dana@example.test",
            "subject": subject,
            "message": f"From evil{index}.example.com",
        }
        try:
            response = Client().post(
                "/api/tickets.json",
                data=json.dumps(body),
                content_type="application/json",
                headers={"X-API-Key": raw},
            )
            answers[index] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    # Request 0 leads the first group, so the refused request (5) is always among those that queue
    # behind it: were it first, its own group's retry would be the second run and break the count.
    threads[0].start()
    deadline = time.monotonic() + 30
    while not sizes and time.monotonic() < deadline:
        time.sleep(0.01)
    for thread in threads[1:]:
        thread.start()
    while len(osticket._group._queue) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    first_run.set()
    for thread in threads:
        thread.join(timeout=60)

    assert sizes[:2] == [1, 7]  # the first alone, the seven that queued behind it together
    assert answers.pop(5) == (400, "Refused for the test.")
    assert {status for status, _ in answers.values()} == {201}
    numbers = {number for _, number in answers.values()}
    tickets = Ticket.objects.filter(number__in=numbers)
    assert tickets.count() == 7 and not Ticket.objects.filter(subject="refuse me").exists()
    assert AuditEvent.objects.filter(action="ticket.created").count() == 7
    # Like an alert's, a ticket's observables are found in its subject and message.
    for ticket in tickets:
        index = ticket.subject.rsplit(" ", 1)[1]
        values = set(
            TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", flat=True)
        )
        assert f"evil{index}.example.com" in values


@pytest.mark.django_db(transaction=True)
def test_a_request_checked_at_an_older_stamp_and_refused_in_its_group_fails_alone(people, monkeypatch):
    """Requests are checked against the snapshot their process holds; a filter saved meanwhile by
    another process is applied by their group, which checks them again: the refused one gets its 403,
    the others of its group their 201, and nothing of the refused one is written."""
    raw = apikey_create(actor=Actor.system("test"), name="osticket-client", scopes=["tickets:create"])[1]
    real_run = osticket._group.run_many
    sizes, first_run = [], threading.Event()

    def slow_first_group(requests):
        sizes.append(len(requests))
        if len(sizes) == 1:
            first_run.wait(timeout=30)
        return real_run(requests)

    monkeypatch.setattr(osticket._group, "run_many", slow_first_group)
    answers: dict[int, tuple[int, str]] = {}

    def create(index: int) -> None:
        subject = "Test ticket, refuse me" if index == 5 else f"Phishing report {index}"
        body = {"name": "Dana", "email": "dana@example.test", "subject": subject, "message": "Hi"}
        try:
            response = Client().post(
                "/api/tickets.json",
                data=json.dumps(body),
                content_type="application/json",
                headers={"X-API-Key": raw},
            )
            answers[index] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    create(100)  # this process holds a snapshot from here on
    sizes.clear()
    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    threads[0].start()
    deadline = time.monotonic() + 30
    while not sizes and time.monotonic() < deadline:
        time.sleep(0.01)
    for thread in threads[1:]:
        thread.start()
    while len(osticket._group._queue) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    # All eight are checked (at the held stamp) and queued: now another process saves a filter.
    conditions = [{"field": "subject", "operator": "starts_with", "value": "Test ticket"}]
    rule = filter_create(
        actor=Actor.system("test"),
        definition=FilterDefinition(name="No tests", conditions=conditions, actions=[{"type": "reject"}]),
    )
    first_run.set()
    for thread in threads:
        thread.join(timeout=60)

    assert sizes[:2] == [1, 7]  # the second group failed on the refusal: its seven were run one by one
    assert len(sizes) == 2 + 7
    assert answers.pop(5) == (
        403,
        "A ticket filter refused this ticket; contact the help desk if it should not.",
    )
    assert answers.pop(100)[0] == 201
    assert {status for status, _ in answers.values()} == {201}
    assert Ticket.objects.filter(number__in={number for _, number in answers.values()}).count() == 7
    assert not Ticket.objects.filter(subject__startswith="Test ticket").exists()
    assert AuditEvent.objects.filter(action="ticket.created").count() == 8
    rule.refresh_from_db()
    assert rule.hit_count == 1  # the refusal counted once, though its request ran twice


def test_the_osticket_group_expects_its_clients_back():
    # Under a steady load its clients return with their next ticket: one group per round of them
    # (tests/core/test_grouping.py shows what the flag does).
    assert osticket._group.wait_for_returning
    assert osticket._group.max_wait >= 0.01
