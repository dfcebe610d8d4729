"""What apps above tickets add to search, registered when they load (tickets imports nothing above it).

The alerts app (AlertsConfig.ready) registers: its part of each ticket's search document (alert
titles, descriptions, labels and observable values), how a typed word is refanged and normalised
as an observable, and how the observable fields (`ip:`, `hash:`...) select tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from socdesk.tickets.models import ThreadEntry, Ticket
    from socdesk.tickets.services.lifecycle import TicketDraft


@dataclass
class DocumentParts:
    """Text an app adds to tickets' search documents: words to match, and identifiers for substrings."""

    body: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewTicket:
    """A ticket opened in this transaction as its opener holds it, right after the opening wrote it
    (before any after-create hook): what its search document is made of without reading it back."""

    ticket: Ticket
    entry: ThreadEntry | None  # its first thread entry, when it has one
    tags: Sequence[str]  # its tag names, in the order they were linked
    draft: TicketDraft


# ticket ids -> {ticket id: parts}; read in a fixed number of queries, however many tickets
Contributor = Callable[[list[int]], dict[int, DocumentParts]]
# the same parts for tickets opened in this transaction, from what their opener holds: queries (a fixed
# number) only for what the drafts cannot tell
NewContributor = Callable[[list[NewTicket]], dict[int, DocumentParts]]
# a typed word -> its canonical observable value (None: not an observable)
TermNormaliser = Callable[[str], str | None]
# (field, value) -> condition on Ticket; ValueError with a message a person can act on
FieldResolver = Callable[[str, str], Q]

contributors: list[tuple[Contributor, NewContributor]] = []
normalisers: list[TermNormaliser] = []
field_resolvers: dict[str, FieldResolver] = {}


def search_contributor_register(contributor: Contributor, new: NewContributor) -> None:
    """Add a part to every ticket's search document (called once per app): `contributor` reads it for
    any tickets, `new` gives the same for tickets being opened (socdesk.tickets.search.document)."""
    if (contributor, new) not in contributors:
        contributors.append((contributor, new))


def search_normaliser_register(normaliser: TermNormaliser) -> None:
    """Add a way to read a typed word as an identifier (refang and normalise it)."""
    if normaliser not in normalisers:
        normalisers.append(normaliser)


def search_field_register(name: str, resolver: FieldResolver) -> None:
    """Say how `name:value` selects tickets."""
    field_resolvers[name] = resolver


def normalised_term(text: str) -> str | None:
    """The canonical identifier a word stands for, when an app recognises it (e.g. a defanged URL)."""
    for normaliser in normalisers:
        value = normaliser(text)
        if value:
            return value
    return None
