"""What the apps above tickets move when one ticket is merged into another (tickets imports nothing above it).

`ticket_merge` moves what the tickets app owns (thread, collaborators, tags, custom values, links to third
tickets) and then asks
every registered mover to move its own rows (the alerts app: alerts, their de-duplication keys and the
observables); `ticket_merge_undo` asks each to put back what it moved. An app registers its mover when it
loads (AppConfig.ready), as with socdesk.tickets.hooks:

describe(source, target)      what would move, in a few words ("2 alerts"), or None when nothing would:
                              shown on the confirm step and in the merge's thread lines.
move(source, target, now)     move the rows from source to target, in the merge's transaction (both
                              tickets locked); returns a JSON-able record of what moved (the ids), kept
                              on the TicketMerge row under the mover's name ({} when nothing moved).
undo(source, target, moved)   put back exactly what `move` recorded (rows that meanwhile left the target
                              stay where they are).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socdesk.tickets.models import Ticket


@dataclass(frozen=True)
class MergeMover:
    """One app's part of a merge: its name (the key of what it moved) and its three steps."""

    name: str
    describe: Callable[[Ticket, Ticket], str | None]
    move: Callable[[Ticket, Ticket, datetime], dict[str, Any]]
    undo: Callable[[Ticket, Ticket, dict[str, Any]], None]


merge_movers: list[MergeMover] = []


def merge_mover_register(mover: MergeMover) -> None:
    """Add an app's mover (once per name, in the order apps load)."""
    if all(existing.name != mover.name for existing in merge_movers):
        merge_movers.append(mover)
