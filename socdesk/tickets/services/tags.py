"""Tags: how tag names are normalised, the shared Tag rows, and replacing a ticket's tags."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.core.actor import Actor
from socdesk.core.text import clean_text
from socdesk.tickets.models import Tag, Ticket
from socdesk.tickets.search import search_index
from socdesk.tickets.services.steps import (
    check_version,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, de-duplicated tag names, in first-seen order."""
    seen: dict[str, None] = {}
    for tag in tags:
        name = clean_text(str(tag)).strip().lower()[:64]
        if name:
            seen.setdefault(name, None)
    return list(seen)


def tag_objects(names: list[str]) -> list[Tag]:
    """The Tag rows for these (normalised) names, created when missing; safe under races."""
    if not names:
        return []
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return [existing[n] for n in names]


@transaction.atomic
def ticket_set_tags(
    *, actor: Actor, ticket: Ticket, tags: Iterable[str], expected_version: int | None = None
) -> Ticket:
    """Replace the ticket's tags."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    check_version(ticket, expected_version)
    names = normalise_tags(tags)
    before = sorted(ticket.tags.values_list("name", flat=True))
    if sorted(names) == before:
        return ticket
    ticket.tags.set(tag_objects(names))
    search_index([ticket.pk])
    touch(ticket, actor, timezone.now())
    ticket.save(update_fields=["version", "last_activity_at", "acknowledged_at"])
    record_ticket_event(
        actor, "ticket.tagged", ticket, before={"tags": before}, after={"tags": sorted(names)}
    )
    return ticket
