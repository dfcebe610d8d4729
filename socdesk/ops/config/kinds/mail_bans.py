"""The mail ban list: addresses and domains whose mail SOCdesk refuses (socdesk.mail.bans).

An entry is identified by its value, written `spam@example.com` for an address and `*@example.com` for a
domain. `--prune` removes entries the file does not name.
"""

from __future__ import annotations

from typing import Any

from socdesk.core.errors import ServiceError
from socdesk.mail.bans import ban_add, ban_normalise, ban_remove
from socdesk.mail.models import BannedSender
from socdesk.ops.config.document import Path
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, deleted
from socdesk.ops.config.schema import Check, Field, Record, Text


def _canonical(stored: str) -> str:
    """How the file writes an entry: an address as is, a domain as `*@example.com`."""
    return stored if "@" in stored else f"*@{stored}"


class BanValue(Text):
    """An address or a domain in the one form export writes (lower case; a domain as `*@example.com`),
    so a file says each entry one way; anything else is refused with the form to write."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        value = super().check(value, path, check)
        if not isinstance(value, str):
            return value
        try:
            canonical = _canonical(ban_normalise(value))
        except ServiceError as exc:
            return check.fail(path, exc.message)
        if value != canonical:
            return check.fail(path, f"write it as {canonical!r}.")
        return value


def _entry(ban: BannedSender) -> Entry:
    return {"value": _canonical(ban.value), "note": ban.note}


def _write(writer: Writer, entry: Entry, existing: BannedSender | None) -> BannedSender:
    if existing is not None:
        if existing.note == entry["note"]:
            return existing
        ban_remove(actor=writer.actor, ban_id=existing.pk)  # a changed reason: the entry is added again
    return ban_add(actor=writer.actor, entry=entry["value"], note=entry["note"])


def _remove(writer: Writer, ban: Any) -> str:
    return deleted(ban_remove(actor=writer.actor, ban_id=ban.pk))


def _find(value: str) -> BannedSender | None:
    try:
        return BannedSender.objects.filter(value=ban_normalise(value)).first()
    except ServiceError:  # not an address or domain: the schema check names it
        return None


BANNED_SENDERS = Kind(
    key="banned_senders",
    label="banned sender",
    schema=Record(
        {"value": Field(BanValue(required=True, max_length=254)), "note": Field(Text(max_length=300), "")}
    ),
    read=lambda: [(ban, _entry(ban)) for ban in BannedSender.objects.order_by("value")],
    find=_find,
    write=_write,
    comment="value: an address (spam@example.com) or a whole domain (*@example.com) whose mail is refused\n"
    "(docs/email.md, Loop and abuse protection).",
    identity=lambda entry: str(entry["value"]),
    identity_key="value",
    remove=_remove,
)
