"""Playbooks on the one ticket path: after a ticket is written, apply the playbooks its ticket filters
asked for (`apply_playbook` actions) and its help topic's default playbook.

Registered after routing's hooks (the cases app loads after routing), so the topic a filter chose is the
one used. Each playbook is applied once: a filter and the topic naming the same one apply it once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from socdesk.cases.models import Playbook, TopicPlaybook
from socdesk.cases.services.playbooks import playbook_apply
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_note

PLAYBOOKS_ACTOR = Actor.system("playbooks")


def playbooks_after_create(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """The after-create hook (see the module docstring); a playbook that cannot be applied leaves a note."""
    topic_ids = {draft.hints.get("help_topic") or draft.help_topic for draft in drafts} - {None}
    by_topic = (
        dict(TopicPlaybook.objects.filter(topic_id__in=topic_ids).values_list("topic_id", "playbook_id"))
        if topic_ids
        else {}
    )
    for ticket, draft in zip(tickets, drafts, strict=True):
        wanted: dict[int, str] = {}
        for playbook_id, filter_name in draft.hints.get("playbooks", ()):
            wanted.setdefault(playbook_id, f"the ticket filter {filter_name!r}")
        topic_id = draft.hints.get("help_topic") or draft.help_topic
        if topic_id in by_topic:
            wanted.setdefault(by_topic[topic_id], "its help topic")
        if not wanted:
            continue
        playbooks = Playbook.objects.in_bulk(list(wanted))
        for playbook_id, why in wanted.items():
            playbook = playbooks.get(playbook_id)
            try:
                if playbook is None:
                    raise ServiceError(f"there is no playbook with id {playbook_id} any more")
                with transaction.atomic():
                    playbook_apply(actor=PLAYBOOKS_ACTOR, ticket=ticket, playbook=playbook, why=why)
            except ServiceError as exc:
                ticket_note(
                    actor=PLAYBOOKS_ACTOR,
                    ticket=ticket,
                    body=f"The playbook asked for by {why} was not applied: {exc.message}",
                )
        ticket.refresh_from_db()  # the caller (alert ingest) goes on with its own object
