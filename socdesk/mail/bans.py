"""The ban list: senders whose mail SOCdesk refuses (Admin → Banned senders, the "ban sender" filter action).

An entry is an address (`spam@example.com`) or a domain (`example.com`, also entered as `*@example.com`
or `@example.com`). `mail_receive` asks `ban_for(address)` before it writes anything but the message's
row; auto-responses never go to a banned address. See docs/email.md ("Loop and abuse protection").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError
from socdesk.mail.models import BannedSender

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def ban_normalise(entry: str) -> str:
    """The stored form of an entry: a lower-case address, or a bare domain for `*@domain`, `@domain` and
    `domain`; ServiceError with a sentence saying what to write when it is neither."""
    value = (entry or "").strip().strip("<>").strip().lower()
    if value.startswith("*@"):
        value = value[2:]
    elif value.startswith("@"):
        value = value[1:]
    local, at, domain = value.rpartition("@")
    domain = domain.rstrip(".")
    if _DOMAIN.match(domain) and (not at or _LOCAL.match(local)):
        return f"{local}@{domain}" if at else domain
    raise ServiceError(
        f"{entry.strip()[:80]!r} is neither an e-mail address nor a domain; write spam@example.com for one "
        "address, or example.com (or *@example.com) for every address of a domain.",
        fields={"value": "invalid"},
    )


def ban_for(address: str) -> BannedSender | None:
    """The entry that bans this sender (the address itself, else its domain), if any: one indexed query."""
    address = (address or "").strip().lower()
    if "@" not in address:
        return None
    domain = address.rpartition("@")[2].rstrip(".")
    return BannedSender.objects.filter(value__in=[address, domain]).order_by("-value").first()


def bans_for(addresses: Sequence[str]) -> dict[str, BannedSender]:
    """The ban entries that name any of these senders or their domains, by value (one query for a batch
    of mail; `ban_matching` picks a sender's)."""
    values: set[str] = set()
    for address in addresses:
        address = (address or "").strip().lower()
        if "@" in address:
            values.update((address, address.rpartition("@")[2].rstrip(".")))
    if not values:
        return {}
    return {ban.value: ban for ban in BannedSender.objects.filter(value__in=values)}


def ban_matching(bans: Mapping[str, BannedSender], address: str) -> BannedSender | None:
    """What `ban_for` answers, from entries read beforehand by `bans_for`."""
    address = (address or "").strip().lower()
    if "@" not in address:
        return None
    domain = address.rpartition("@")[2].rstrip(".")
    # ban_for orders by value descending: of the address and its domain, the greater string wins.
    found = [bans[value] for value in (address, domain) if value in bans]
    return max(found, key=lambda ban: ban.value) if found else None


def bans_all() -> QuerySet[BannedSender]:
    """The ban list, addresses and domains in alphabetical order (administrators' page)."""
    return BannedSender.objects.all()


@transaction.atomic
def ban_add(*, actor: Actor, entry: str, note: str = "") -> BannedSender:
    """Ban an address or a domain (audited `mail.sender_banned`); refused with a sentence when the entry is
    not one, or is on the list already."""
    value = ban_normalise(entry)
    try:
        with transaction.atomic():
            ban = BannedSender.objects.create(
                value=value, note=note.strip()[:300], created_by=actor.label[:200], created_at=timezone.now()
            )
    except IntegrityError:
        raise ServiceError(f"{value} is already banned.", fields={"value": "taken"}) from None
    record(actor=actor, action="mail.sender_banned", target=ban, after={"value": value, "note": ban.note})
    return ban


@transaction.atomic
def ban_remove(*, actor: Actor, ban_id: int) -> None:
    """Take an entry off the ban list (audited `mail.sender_unbanned`)."""
    ban = BannedSender.objects.select_for_update().filter(pk=ban_id).first()
    if ban is None:
        raise NotFound("That entry of the ban list was not found; it may have been removed already.")
    before = {"value": ban.value, "note": ban.note}
    record(actor=actor, action="mail.sender_unbanned", target=ban, before=before)
    ban.delete()
