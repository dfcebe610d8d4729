"""The tickets app's own part of a merge: thread entries, collaborators, tags, custom values and links.

Each is a MergeMover (socdesk.tickets.merge_hooks), run before the apps' registered movers by
`ticket_merge`, inside its transaction; they move rows and record their ids, and never audit (the merge
records one event per ticket). Internal to the merge service and its preview.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from socdesk.tickets.choices import LinkKind
from socdesk.tickets.merge_hooks import MergeMover, merge_movers
from socdesk.tickets.models import Collaborator, Tag, ThreadEntry, Ticket, TicketLink
from socdesk.tickets.selectors import parent_chain_loops


def plural(count: int, word: str, words: str = "") -> str:
    """'1 alert', '3 alerts' ('1 thread entry', '3 thread entries' when the plural is given)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


# --- thread: every entry moves, keeping its author and time, so the survivor's thread interleaves them


def _thread_describe(source: Ticket, target: Ticket) -> str | None:
    count = ThreadEntry.objects.filter(ticket=source).count()
    return plural(count, "thread entry", "thread entries") if count else None


def _thread_move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    ids = list(ThreadEntry.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    ThreadEntry.objects.filter(pk__in=ids).update(ticket=target)
    return {"ids": ids} if ids else {}


def _thread_undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    ThreadEntry.objects.filter(pk__in=moved.get("ids", []), ticket=target).update(ticket=source)


# --- collaborators: the source's move (unless already on the survivor); its requester joins as one


def _collaborators_plan(source: Ticket, target: Ticket) -> tuple[list[int], int | None]:
    """(ids of the source's collaborator rows to move, the source requester's contact id to add)."""
    taken = set(Collaborator.objects.filter(ticket=target).values_list("contact_id", flat=True))
    if target.requester_id:
        taken.add(target.requester_id)
    rows = Collaborator.objects.filter(ticket=source).exclude(contact_id__in=taken).order_by("pk")
    moving = [(row.pk, row.contact_id) for row in rows]
    requester = source.requester_id
    if requester is not None and (requester in taken or requester in {c for _, c in moving}):
        requester = None
    return [pk for pk, _ in moving], requester


def _collaborators_describe(source: Ticket, target: Ticket) -> str | None:
    ids, requester = _collaborators_plan(source, target)
    count = len(ids) + (1 if requester else 0)
    return plural(count, "collaborator") if count else None


def _collaborators_move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    ids, requester = _collaborators_plan(source, target)
    Collaborator.objects.filter(pk__in=ids).update(ticket=target)
    created: list[int] = []
    if requester is not None:
        created.append(
            Collaborator.objects.create(
                ticket=target, contact_id=requester, added_at=now, added_by=f"merge of {source.number}"
            ).pk
        )
    return {"ids": ids, "created": created} if ids or created else {}


def _collaborators_undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    Collaborator.objects.filter(pk__in=moved.get("created", []), ticket=target).delete()
    Collaborator.objects.filter(pk__in=moved.get("ids", []), ticket=target).update(ticket=source)


# --- tags: the survivor gets the source's tags it lacks (the source keeps its own)


def _tags_missing(source: Ticket, target: Ticket) -> list[int]:
    have = set(target.tags.values_list("pk", flat=True))
    return [pk for pk in source.tags.order_by("name").values_list("pk", flat=True) if pk not in have]


def _tags_describe(source: Ticket, target: Ticket) -> str | None:
    missing = _tags_missing(source, target)
    return plural(len(missing), "tag") if missing else None


def _tags_move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    missing = _tags_missing(source, target)
    target.tags.add(*missing)
    return {"ids": missing} if missing else {}


def _tags_undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    target.tags.remove(*Tag.objects.filter(pk__in=moved.get("ids", [])))


# --- custom values: those the survivor has no value for (its own values win)


def _custom_missing(source: Ticket, target: Ticket) -> dict[str, Any]:
    have = target.custom_fields or {}
    return {name: value for name, value in (source.custom_fields or {}).items() if name not in have}


def _custom_describe(source: Ticket, target: Ticket) -> str | None:
    missing = _custom_missing(source, target)
    return plural(len(missing), "custom value") if missing else None


def _custom_move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    missing = _custom_missing(source, target)
    if not missing:
        return {}
    target.custom_fields = {**(target.custom_fields or {}), **missing}
    Ticket.objects.filter(pk=target.pk).update(custom_fields=target.custom_fields)
    return {"keys": sorted(missing)}


def _custom_undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    values = {k: v for k, v in (target.custom_fields or {}).items() if k not in moved.get("keys", [])}
    target.custom_fields = values
    Ticket.objects.filter(pk=target.pk).update(custom_fields=values)


# --- links to third tickets: each moves to the survivor (the same row, its other end unchanged), or is
# dropped where the survivor is linked to that ticket already, already has a parent incident, or would
# close a loop of parent incidents. The link between the two merged tickets is the merge's own business.


def _links_of(source: Ticket, target: Ticket) -> list[TicketLink]:
    """The source's links to tickets other than the target, oldest first."""
    return list(
        TicketLink.objects.filter(Q(from_ticket=source) | Q(to_ticket=source))
        .exclude(from_ticket=target)
        .exclude(to_ticket=target)
        .order_by("pk")
    )


def _other_end(link: TicketLink, ticket: Ticket) -> int:
    return link.to_ticket_id if link.from_ticket_id == ticket.pk else link.from_ticket_id


def _links_plan(source: Ticket, target: Ticket) -> tuple[list[TicketLink], list[TicketLink]]:
    """(links that can move, links dropped: the survivor is linked to that ticket already, or it would
    get a second parent incident); parent loops are found only while moving, once the rows before them
    have moved."""
    linked = {
        _other_end(link, target)
        for link in TicketLink.objects.filter(Q(from_ticket=target) | Q(to_ticket=target))
    }
    has_parent = TicketLink.objects.filter(to_ticket=target, kind=LinkKind.PARENT).exists()
    moving, dropping = [], []
    for link in _links_of(source, target):
        other = _other_end(link, source)
        becomes_child = link.kind == LinkKind.PARENT and link.to_ticket_id == source.pk
        if other in linked or (becomes_child and has_parent):
            dropping.append(link)
            continue
        linked.add(other)
        has_parent = has_parent or becomes_child
        moving.append(link)
    return moving, dropping


def _links_describe(source: Ticket, target: Ticket) -> str | None:
    moving, dropping = _links_plan(source, target)
    if not moving and not dropping:
        return None
    parts = [plural(len(moving), "link")] if moving else []
    if dropping:
        dropped = plural(len(dropping), "link")
        parts.append(f"{dropped} dropped ({target.number} has that link or a parent incident already)")
    return ", ".join(parts)


def _link_row(link: TicketLink) -> dict[str, Any]:
    """A dropped link as the record keeps it, to be made again on undo."""
    return {
        "from": link.from_ticket_id,
        "to": link.to_ticket_id,
        "kind": link.kind,
        "created_at": link.created_at.isoformat(),
        "created_by": link.created_by,
    }


def _links_move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    moving, dropping = _links_plan(source, target)
    moved: list[int] = []
    for link in moving:
        end = "from_ticket" if link.from_ticket_id == source.pk else "to_ticket"
        TicketLink.objects.filter(pk=link.pk).update(**{end: target})
        if link.kind == LinkKind.PARENT and parent_chain_loops(target.pk):
            # The survivor would be its own ancestor: this link is dropped instead.
            TicketLink.objects.filter(pk=link.pk).update(**{end: source})
            dropping.append(link)
            continue
        moved.append(link.pk)
    dropped = [_link_row(link) for link in dropping]
    TicketLink.objects.filter(pk__in=[link.pk for link in dropping]).delete()
    return {"ids": moved, "dropped": dropped} if moved or dropped else {}


def _links_undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    """Moved links go back to the source (those since removed stay removed); dropped ones are made again
    where the source has no link to that ticket meanwhile. One that no longer fits is left out."""
    for link in TicketLink.objects.filter(pk__in=moved.get("ids", [])).filter(
        Q(from_ticket=target) | Q(to_ticket=target)
    ):
        end = "from_ticket" if link.from_ticket_id == target.pk else "to_ticket"
        try:
            with transaction.atomic():
                TicketLink.objects.filter(pk=link.pk).update(**{end: source})
        except IntegrityError:
            continue
    for row in moved.get("dropped", []):
        other = row["to"] if row["from"] == source.pk else row["from"]
        if TicketLink.objects.filter(
            Q(from_ticket=source, to_ticket_id=other) | Q(from_ticket_id=other, to_ticket=source)
        ).exists():
            continue
        try:
            with transaction.atomic():
                TicketLink.objects.create(
                    from_ticket_id=row["from"],
                    to_ticket_id=row["to"],
                    kind=row["kind"],
                    created_at=datetime.fromisoformat(row["created_at"]),
                    created_by=row["created_by"],
                )
        except IntegrityError:
            continue


TICKET_MOVERS = (
    MergeMover("thread", _thread_describe, _thread_move, _thread_undo),
    MergeMover("collaborators", _collaborators_describe, _collaborators_move, _collaborators_undo),
    MergeMover("tags", _tags_describe, _tags_move, _tags_undo),
    MergeMover("custom_fields", _custom_describe, _custom_move, _custom_undo),
    MergeMover("links", _links_describe, _links_move, _links_undo),
)


def all_movers() -> list[MergeMover]:
    """The tickets app's movers first, then those the apps above registered."""
    return [*TICKET_MOVERS, *merge_movers]


def merge_preview(source: Ticket, target: Ticket) -> list[str]:
    """What merging `source` into `target` would move, in a few words each ('3 thread entries')."""
    return [words for mover in all_movers() if (words := mover.describe(source, target))]


def merge_count(record: dict[str, Any]) -> int:
    """How many rows a mover's record names (the lengths of its id and key lists)."""
    return sum(len(value) for value in record.values() if isinstance(value, list))
