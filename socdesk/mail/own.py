"""SOCdesk's own addresses: mail from them is SOCdesk's own coming back (never answered, never a
collaborator). Compared with `loops.is_own_address` (case and plus-tags ignored)."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings

from socdesk.accounts.models import Department
from socdesk.mail.mailboxes import mailbox_addresses


def own_addresses() -> list[str]:
    """Every department's address, every fetched mailbox's, and the senders of SOCdesk's own mail
    (DEFAULT_FROM_EMAIL, SERVER_EMAIL)."""
    addresses = list(Department.objects.exclude(email="").values_list("email", flat=True))
    addresses += mailbox_addresses()
    for configured in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        address = parseaddr(configured or "")[1]
        if address:
            addresses.append(address)
    return addresses
