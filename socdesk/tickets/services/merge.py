"""Merging a duplicate ticket (the source) into the ticket that survives (the target), and undoing it.

The merge moves the source's thread (entries keep their author and time, so the survivor's thread
interleaves them), collaborators, tags, custom values and links to third tickets (audited on those
tickets too), then what the apps above registered
(socdesk.tickets.merge_hooks: the alerts app moves alerts, de-duplication keys and observables). The
source is closed as a duplicate with a "duplicate of" link; a TicketMerge row keeps the ids of what
moved and the source's state before, so that `ticket_merge_undo` can put back exactly that, on the same
day (in the installation's time zone). Each is one audit event per ticket.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError
from socdesk.tickets.choices import LinkKind, Resolution, Status, link_side
from socdesk.tickets.merge_movers import all_movers, merge_count
from socdesk.tickets.models import Ticket, TicketLink, TicketMerge
from socdesk.tickets.search import search_index
from socdesk.tickets.services.links import link_between
from socdesk.tickets.services.steps import (
    add_event_entry,
    lock_tickets,
    record_ticket_event,
    require_perm,
    touch,
)


def _active_merge_of(ticket: Ticket) -> TicketMerge | None:
    """The merge that took this ticket into another and was not undone (None: not merged away)."""
    return TicketMerge.objects.filter(source=ticket, undone_at__isnull=True).select_related("target").first()


def _check_merge(actor: Actor, source: Ticket, target: Ticket) -> None:
    require_perm(actor, Perm.EDIT, target)
    require_perm(actor, Perm.EDIT, source)
    require_perm(actor, Perm.CLOSE, source)
    merged = _active_merge_of(source)
    if merged is not None:
        raise ServiceError(
            f"{source.number} was already merged into {merged.target.number}.", fields={"source": "merged"}
        )
    merged = _active_merge_of(target)
    if merged is not None:
        raise ServiceError(
            f"{target.number} was itself merged into {merged.target.number}; merge into "
            f"{merged.target.number} instead.",
            fields={"target": "merged"},
        )


def _state(ticket: Ticket) -> dict[str, Any]:
    """The source's fields a merge changes and its undo puts back."""
    return {
        "status": ticket.status,
        "resolution": ticket.resolution,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
    }


def _third_ticket_events(
    actor: Actor, record: dict[str, Any], *, away: Ticket, to: Ticket, undo: bool = False
) -> None:
    """Audit the links that moved from `away` to `to` (or back, on undo) on the third tickets at their
    other end, which are not locked and keep their version: only the name at that end changed. A link
    dropped by the merge is unlinked there; remade by the undo, linked again."""
    moved = TicketLink.objects.filter(pk__in=record.get("ids", [])).filter(
        Q(from_ticket=to) | Q(to_ticket=to)
    )
    for link in moved.select_related("from_ticket", "to_ticket"):
        other = link.to_ticket if link.from_ticket_id == to.pk else link.from_ticket
        side = link_side(link.kind, link.from_ticket_id == other.pk)
        record_ticket_event(
            actor,
            "ticket.link_moved",
            other,
            before={"kind": side, "ticket": away.number},
            after={"kind": side, "ticket": to.number, "merge": (to if undo else away).number},
        )
    for row in record.get("dropped", []):
        other_id = row["to"] if row["from"] == (to.pk if undo else away.pk) else row["from"]
        other = Ticket.objects.get(pk=other_id)
        side = link_side(row["kind"], row["from"] == other.pk)
        if not undo:
            record_ticket_event(
                actor,
                "ticket.unlinked",
                other,
                before={"kind": side, "ticket": away.number},
                after={"reason": f"{away.number} was merged into {to.number}, already linked here"},
            )
        elif TicketLink.objects.filter(from_ticket_id=row["from"], to_ticket_id=row["to"]).exists():
            record_ticket_event(actor, "ticket.linked", other, after={"kind": side, "ticket": to.number})


def _summary(parts: list[str]) -> str:
    return ", ".join(parts) if parts else "nothing besides the ticket itself"


@transaction.atomic
def ticket_merge(*, actor: Actor, source: Ticket, target: Ticket) -> TicketMerge:
    """Merge the duplicate `source` into `target`: move what it holds, close it as a duplicate of the
    target, and keep what moved for an undo the same day. Needs edit on both and close on the source;
    refused (nothing written) for the same ticket, or when either was already merged away."""
    if source.pk == target.pk:
        raise ServiceError(
            f"A ticket cannot be merged into itself ({source.number}).", fields={"target": "self"}
        )
    source, target = lock_tickets(source, target)
    _check_merge(actor, source, target)
    now = timezone.now()
    movers = all_movers()
    parts = [words for mover in movers if (words := mover.describe(source, target))]
    moved = {mover.name: mover.move(source, target, now) for mover in movers}
    before = _state(source)
    # One link between two tickets: a link they had gives way to "duplicate of", and comes back on undo.
    previous = link_between(source, target)
    if previous is not None:
        before["link"] = {"kind": previous.kind, "from_source": previous.from_ticket_id == source.pk}
        previous.delete()
    TicketLink.objects.create(
        from_ticket=source,
        to_ticket=target,
        kind=LinkKind.DUPLICATE,
        created_at=now,
        created_by=actor.label[:200],
    )
    source.status, source.resolution = Status.CLOSED, Resolution.DUPLICATE
    source.resolved_at, source.closed_at = source.resolved_at or now, now
    for ticket in (source, target):
        touch(ticket, actor, now)
    source.save(
        update_fields=[
            "status",
            "resolution",
            "resolved_at",
            "closed_at",
            "version",
            "last_activity_at",
            "acknowledged_at",
        ]
    )
    target.save(update_fields=["version", "last_activity_at", "acknowledged_at"])
    summary = _summary(parts)
    add_event_entry(
        source,
        actor,
        f"{actor.label} merged this ticket into {target.number} as a duplicate: {summary} moved there.",
        now,
    )
    line = add_event_entry(
        target,
        actor,
        f"{actor.label} merged {source.number} ({source.subject}) into this ticket: {summary}.",
        now,
    )
    try:
        # The one-active-merge constraint backs the row locks: a second merge of the source never lands.
        with transaction.atomic():
            merge = TicketMerge.objects.create(
                source=source,
                target=target,
                merged_at=now,
                merged_by=actor.label[:200],
                moved={name: record for name, record in moved.items() if record},
                source_before=before,
                target_entry=line,
            )
    except IntegrityError:
        raise ServiceError(f"{source.number} was already merged.", fields={"source": "merged"}) from None
    search_index([source.pk, target.pk])
    counts = {name: merge_count(record) for name, record in merge.moved.items()}
    record_ticket_event(
        actor,
        "ticket.merged",
        source,
        before={key: before[key] for key in ("status", "resolution")},
        after={
            "status": source.status,
            "resolution": source.resolution,
            "into": target.number,
            "moved": counts,
        },
    )
    record_ticket_event(
        actor,
        "ticket.merge_received",
        target,
        before={},
        after={"from": source.number, "moved": counts, "summary": summary},
    )
    _third_ticket_events(actor, merge.moved.get("links", {}), away=source, to=target)
    return merge


def merge_undo_deadline_passed(merge: TicketMerge, now: datetime) -> bool:
    """Whether the day of the merge (in the installation's time zone) is over."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return merge.merged_at.astimezone(zone).date() != now.astimezone(zone).date()


def merge_undo_refusal(merge: TicketMerge, now: datetime) -> str | None:
    """Why this merge can no longer be undone, in a sentence (None: it can)."""
    if merge.undone_at is not None:
        return f"The merge of {merge.source.number} into {merge.target.number} was already undone."
    if merge_undo_deadline_passed(merge, now):
        day = merge.merged_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        return (
            f"A merge can be undone only on the day it was made; {merge.source.number} was merged on "
            f"{day:%d %B %Y}. Link the tickets or move what you need by hand instead."
        )
    later = _active_merge_of(merge.target)
    if later is not None:
        return (
            f"{merge.target.number} has since been merged into {later.target.number}; undo that merge first."
        )
    return None


@transaction.atomic
def ticket_merge_undo(*, actor: Actor, source: Ticket) -> TicketMerge:
    """Undo the merge that took `source` into another ticket, the same day: put back exactly what moved
    and reopen the source with its status and resolution from before. Same permissions as the merge."""
    merge = _active_merge_of(source)
    if merge is None:
        raise NotFound(f"{source.number} is not merged into another ticket.", fields={"source": "not_merged"})
    source, target = lock_tickets(source, merge.target)
    require_perm(actor, Perm.EDIT, target)
    require_perm(actor, Perm.EDIT, source)
    require_perm(actor, Perm.CLOSE, source)
    merge = TicketMerge.objects.select_for_update().select_related("source", "target").get(pk=merge.pk)
    now = timezone.now()
    refusal = merge_undo_refusal(merge, now)
    if refusal:
        raise ServiceError(refusal, fields={"source": "undo_refused"})
    for mover in reversed(all_movers()):
        if mover.name in merge.moved:
            mover.undo(source, target, merge.moved[mover.name])
    before = merge.source_before
    TicketLink.objects.filter(from_ticket=source, to_ticket=target, kind=LinkKind.DUPLICATE).delete()
    previous = before.get("link")
    if previous and link_between(source, target) is None:
        first, second = (source, target) if previous["from_source"] else (target, source)
        TicketLink.objects.create(
            from_ticket=first,
            to_ticket=second,
            kind=previous["kind"],
            created_at=now,
            created_by=actor.label[:200],
        )
    closed = {"status": source.status, "resolution": source.resolution}
    source.status, source.resolution = before["status"], before["resolution"]
    source.resolved_at = _parse(before.get("resolved_at"))
    source.closed_at = _parse(before.get("closed_at"))
    for ticket in (source, target):
        touch(ticket, actor, now)
    source.save(
        update_fields=[
            "status",
            "resolution",
            "resolved_at",
            "closed_at",
            "version",
            "last_activity_at",
            "acknowledged_at",
        ]
    )
    target.save(update_fields=["version", "last_activity_at", "acknowledged_at"])
    merge.undone_at, merge.undone_by = now, actor.label[:200]
    merge.save(update_fields=["undone_at", "undone_by"])
    add_event_entry(
        source,
        actor,
        f"{actor.label} undid the merge into {target.number}: what moved is back and the ticket is "
        f"{Status(source.status).label.lower()} again.",
        now,
    )
    add_event_entry(
        target, actor, f"{actor.label} undid the merge of {source.number}: what it brought went back.", now
    )
    search_index([source.pk, target.pk])
    record_ticket_event(
        actor,
        "ticket.merge_undone",
        source,
        before=closed,
        after={"status": source.status, "resolution": source.resolution, "from": target.number},
    )
    counts = {name: merge_count(record) for name, record in merge.moved.items()}
    record_ticket_event(
        actor, "ticket.merge_undone", target, before={"from": source.number}, after={"moved_back": counts}
    )
    _third_ticket_events(actor, merge.moved.get("links", {}), away=target, to=source, undo=True)
    return merge


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
