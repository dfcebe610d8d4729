"""The seam between ticket writes and the observables finder, which lives above tickets (in alerts).

Tickets may not import alerts, so the alerts app registers its finder here when Django starts
(AlertsConfig.ready), as it registers the `?observable=` lookup in tickets.filters. Every channel that
writes a person's text (the console, the REST API, the osTicket API; replies and notes when the agent
asks for it) uses it the same way:

1. the interface finds the observables before the write: `observables_in_text` (CPU only, outside every
   transaction and lock, so a slow text never holds the database);
2. it hands them to the tickets service (`TicketDraft.observables`, `ticket_reply(observables=...)`),
   which links them to the ticket inside its own transaction through `observables_link`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from socdesk.core.actor import Actor

if TYPE_CHECKING:
    from socdesk.tickets.models import Ticket

Pair = tuple[str, str]  # (type, normalised value), e.g. ("ip", "203.0.113.7")


@dataclass(frozen=True)
class ObservableFinder:
    """What the observables app provides: find (pure) and link (writes, in the caller's transaction).

    `link(found, actor=, now=, fresh=)`: `found` holds (ticket, pairs); with an actor, the links are
    audited as observables that actor added (a reply's or note's text); without one they are part of the
    ticket's opening, whose `ticket.created` event covers them. `fresh`: the tickets were opened in this
    transaction (no link can exist yet).
    """

    find: Callable[[str], list[Pair]]
    link: Callable[..., None]


_finder: ObservableFinder | None = None


def observable_finder_register(finder: ObservableFinder) -> None:
    """Set the observables finder (called once by the app that owns observables)."""
    global _finder
    _finder = finder


def observables_in_text(*texts: str) -> list[Pair]:
    """The observables in these texts, normalised and de-duplicated ([] when no finder is registered)."""
    text = "\n".join(t for t in texts if t)
    if _finder is None or not text.strip():
        return []
    return _finder.find(text)


def observables_link(
    found: Sequence[tuple[Ticket, Sequence[Pair]]],
    *,
    actor: Actor | None,
    now: datetime,
    fresh: bool = False,
) -> None:
    """Link observables found in their tickets' text (run by the tickets services, in their transaction)."""
    wanted = [(ticket, list(pairs)) for ticket, pairs in found if pairs]
    if _finder is None or not wanted:
        return
    _finder.link(wanted, actor=actor, now=now, fresh=fresh)
