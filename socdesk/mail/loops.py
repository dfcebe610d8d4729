"""Mail loop detection (pure): is a message written by a person, or sent by a machine?

A help desk that answers automatic mail with automatic mail loops forever with an out-of-office
reply or a bounce. The inbound service asks `automated_reason` before it sends anything back, and
`is_own_address` before it accepts mail that claims to come from one of SOCdesk's own mailboxes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.utils import getaddresses

# The key in TicketDraft.hints under which the mail reader says why a message is automatic (read by the
# auto-response, which never answers automatic mail).
HINT_AUTOMATED = "mail_automated"

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]

MACHINE_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "list", "junk")
_DSN = re.compile(r"^\s*multipart/report\b.*\breport-type\s*=\s*\"?delivery-status\b", re.I | re.S)


def _first_values(headers: HeaderItems) -> dict[str, str]:
    """Header name (lower-cased) -> its first value; header names are case-insensitive."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        found.setdefault(str(name).strip().lower(), str(value or ""))
    return found


def automated_reason(headers: HeaderItems) -> str:
    """ "" when the headers look like a person's mail; otherwise a sentence saying why it is automatic.

    `headers` is a mapping or (name, value) pairs, the values decoded. Checked: Auto-Submitted other
    than "no" (RFC 3834), Precedence bulk/list/junk, X-Autoreply and X-Autorespond, a sender that is
    a mailer-daemon or postmaster, and a delivery status notification (multipart/report).
    """
    values = _first_values(headers)
    auto_submitted = values.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"It says it was sent automatically (Auto-Submitted: {auto_submitted})."
    precedence = values.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"It is bulk or list mail (Precedence: {precedence})."
    for name in ("x-autoreply", "x-autorespond"):
        if name in values and values[name].strip().lower() not in ("no", "false", "0"):
            header = "X-Autoreply" if name == "x-autoreply" else "X-Autorespond"
            return f"It is an automatic reply ({header} is set)."
    if _DSN.match(values.get("content-type", "")):
        return "It is a delivery status notification (a bounce)."
    for _name, address in getaddresses([values.get("from", "")]):
        local = address.strip().lower().split("@", 1)[0]
        if local in MACHINE_SENDERS:
            return f"It comes from a mail server's {local} address ({address.strip().lower()})."
    return ""


def _canonical(address: str) -> str:
    """Lower-cased, angle brackets dropped, the plus-tag of the local part removed."""
    address = address.strip().strip("<>").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain.rstrip('.')}"


def is_own_address(address: str, own: Iterable[str]) -> bool:
    """True when the address is one of ours, ignoring case and plus-tags (help+1234@ is help@)."""
    wanted = _canonical(address or "")
    if "@" not in wanted:
        return False
    return any(wanted == _canonical(mine) for mine in own if mine)
