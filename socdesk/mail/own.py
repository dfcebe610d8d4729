"""SOCdesk's own addresses: mail from them is SOCdesk's own coming back (never answered, never a
collaborator). Compared with `loops.is_own_address` (case and plus-tags ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parseaddr

from django.conf import settings

from socdesk.accounts.models import Department
from socdesk.mail.mailboxes import mailbox_addresses

# Within a batch of messages imported with one commit the addresses are read once: they are settings, not
# data the batch changes.
_remembered: ContextVar[dict[str, list[str]] | None] = ContextVar("socdesk_own_addresses", default=None)


@contextmanager
def own_addresses_remembered() -> Iterator[None]:
    """Within the block, `own_addresses()` reads the database once."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def own_addresses() -> list[str]:
    """Every department's address, every fetched mailbox's, and the senders of SOCdesk's own mail
    (DEFAULT_FROM_EMAIL, SERVER_EMAIL)."""
    memo = _remembered.get()
    if memo is None:
        return _own_addresses()
    if "all" not in memo:
        memo["all"] = _own_addresses()
    return list(memo["all"])


def _own_addresses() -> list[str]:
    addresses = list(Department.objects.exclude(email="").values_list("email", flat=True))
    addresses += mailbox_addresses()
    for configured in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        address = parseaddr(configured or "")[1]
        if address:
            addresses.append(address)
    return addresses
