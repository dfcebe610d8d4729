"""Ticket numbers: a prefix and a counter that never hands out the same value twice."""

from __future__ import annotations

from django.conf import settings

from socdesk.core import sql
from socdesk.core.models import next_counter_value

TICKET_NUMBER_COUNTER = "ticket_number"
TICKET_NUMBER_START = 1001


def next_ticket_number() -> str:
    """A new, never reused ticket number such as SOC-1042."""
    return (
        f"{settings.SOCDESK_TICKET_PREFIX}-{next_counter_value(TICKET_NUMBER_COUNTER, TICKET_NUMBER_START)}"
    )


def next_ticket_numbers(count: int) -> list[str]:
    """`count` new ticket numbers taken in one step (for a batch of tickets)."""
    prefix = settings.SOCDESK_TICKET_PREFIX
    return [
        f"{prefix}-{value}"
        for value in sql.next_counter_values(TICKET_NUMBER_COUNTER, count, TICKET_NUMBER_START)
    ]
