"""What a kind of object is to the configuration file: how to read it, check it and write it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model

from socdesk.core.actor import Actor
from socdesk.ops.config.schema import Record

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Entry = dict[str, Any]
D = TypeVar("D", bound="DataclassInstance")


def definition(cls: type[D], existing: Any, **values: Any) -> D:
    """A service's definition (`TopicDefinition`, ...) from an entry's values.

    A setting the file does not carry (one a service gained after its kind was written here) keeps the
    stored object's value instead of taking the definition's default, so applying a file never clears
    what the file cannot say.
    """
    if existing is not None:
        for field in dataclasses.fields(cls):
            if field.name not in values and hasattr(existing, field.name):
                values[field.name] = getattr(existing, field.name)
    return cls(**values)


def by_name(rows: list[tuple[Any, Entry]]) -> list[tuple[Any, Entry]]:
    """Rows in the order export writes them: by name, compared as Python does (the same on every database;
    PostgreSQL's collation and SQLite's byte order would each sort mixed case their own way)."""
    return sorted(rows, key=lambda row: str(row[1]["name"]))


def deleted(_result: object) -> str:
    """The outcome of a removal done by a delete service (which returns nothing)."""
    return "deleted"


class Unresolved(Exception):
    """A name that names nothing at the time of writing (its object failed to apply just before)."""


@dataclass(frozen=True)
class Referable:
    """Something an entry may name: `find(name)` is the object, or None."""

    key: str  # the section of the file (or a name for things no section holds, such as agents)
    label: str  # in messages: "there is no team named ..."
    find: Callable[[str], Model | None]
    named: str = "named"  # agents are named by "username"

    def missing(self, name: str) -> str:
        return f"there is no {self.label} {self.named} {name!r}"


class Writer:
    """What a kind's `write` gets: the actor every service call is made as, and name resolution."""

    def __init__(self, actor: Actor, referables: dict[str, Referable]):
        self.actor = actor
        self._referables = referables

    def resolve(self, kind: str, name: str | None) -> Any:
        """The object of `kind` called `name` (None for None)."""
        if name is None:
            return None
        referable = self._referables[kind]
        found = referable.find(name)
        if found is None:
            # The file was checked: a name that names nothing now is an entry of the file that was refused.
            raise Unresolved(f"the {referable.label} {name!r} it names could not be applied either.")
        return found


@dataclass(frozen=True)
class Kind:
    """One section of the file, e.g. `teams`.

    `read()` gives every stored object with its canonical entry (what export writes), in export order;
    `write(writer, entry, existing)` creates (existing None) or updates the object through its services.
    The entry's identity is its name (help topics: the path from the top topic).
    """

    key: str
    label: str
    schema: Record
    read: Callable[[], list[tuple[Model, Entry]]]
    find: Callable[[str], Model | None]
    write: Callable[[Writer, Entry, Any], Any]
    comment: str = ""
    identity: Callable[[Entry], str] = lambda entry: str(entry["name"])
    # The key that holds the identity (where a name given twice is reported).
    identity_key: str = "name"
    # Order of writing inside the section (help topics: parents first); file order when None.
    apply_order: Callable[[Entry], Any] | None = None
    # A check across the section's entries (e.g. one default SLA plan): [(index, key, message)].
    check_all: Callable[[list[Entry]], list[tuple[int, str, str]]] | None = None
    # For --prune: remove a stored object the file does not name, through its service; returns what
    # happened ("deleted", or "disabled" for an integration that brought alerts). None: never removed.
    remove: Callable[[Writer, Any], str] | None = None

    @property
    def referable(self) -> Referable:
        return Referable(self.key, self.label, self.find)
