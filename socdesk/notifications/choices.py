"""What an agent can be notified of, and what each kind does until the agent says otherwise."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    NEW_TICKET = "new_ticket", "New ticket in my department"
    ASSIGNED = "assigned", "Assigned to me or my team"
    REQUESTER_REPLIED = "requester_replied", "Requester replied"
    MENTIONED = "mentioned", "Mentioned in a note"
    SLA_AT_RISK = "sla_at_risk", "SLA target at risk"
    SLA_BREACHED = "sla_breached", "SLA target breached"


# (in the app, by email) for an agent who has set nothing. "New ticket in my department" is off: an
# alert flood opens hundreds of tickets a minute, and a queue is the place to watch those.
DEFAULTS: dict[str, tuple[bool, bool]] = {
    Kind.NEW_TICKET: (False, False),
    Kind.ASSIGNED: (True, True),
    Kind.REQUESTER_REPLIED: (True, True),
    Kind.MENTIONED: (True, True),
    Kind.SLA_AT_RISK: (True, False),
    Kind.SLA_BREACHED: (True, True),
}

# How a message's subject names a kind ("[SOCdesk] SOC-1001: Assigned to you · <subject>").
SUBJECTS: dict[str, str] = {
    Kind.NEW_TICKET: "New ticket",
    Kind.ASSIGNED: "Assigned to you",
    Kind.REQUESTER_REPLIED: "The requester replied",
    Kind.MENTIONED: "You were mentioned",
    Kind.SLA_AT_RISK: "SLA at risk",
    Kind.SLA_BREACHED: "SLA breached",
}
