"""Ticket vocabularies: severity, status, resolution, source, thread entry kinds."""

from django.db import models


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {value: rank for rank, value in enumerate(Severity.values)}


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)


class Resolution(models.TextChoices):
    TRUE_POSITIVE = "true_positive", "True positive"
    BENIGN_POSITIVE = "benign_positive", "Benign positive"
    FALSE_POSITIVE = "false_positive", "False positive"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Source(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    API = "api", "API"
    ALERT = "alert", "Alert"
    PHONE = "phone", "Phone"
    OTHER = "other", "Other"


class EntryKind(models.TextChoices):
    MESSAGE = "message", "Message from requester"
    REPLY = "reply", "Agent reply"
    NOTE = "note", "Internal note"
    EVENT = "event", "System event"


class CollaboratorSource(models.TextChoices):
    """How a collaborator came onto a ticket."""

    MANUAL = "manual", "Added by an agent"
    EMAIL_CC = "email_cc", "Copied on an e-mail"


class LinkKind(models.TextChoices):
    """How two linked tickets relate, as stored (from the link's first ticket to its second)."""

    RELATED = "related", "Related"
    DUPLICATE = "duplicate", "Duplicate"  # the first ticket is a duplicate of the second
    PARENT = "parent", "Parent incident"  # the first ticket is the parent incident of the second


# What an agent picks on one ticket -> (stored kind, whether this ticket is the link's first ticket).
LINK_SIDES: dict[str, tuple[str, bool]] = {
    "related": (LinkKind.RELATED, True),
    "duplicate_of": (LinkKind.DUPLICATE, True),
    "has_duplicate": (LinkKind.DUPLICATE, False),
    "parent_of": (LinkKind.PARENT, True),
    "child_of": (LinkKind.PARENT, False),
}

# How each side of a link reads on the ticket page.
LINK_LABELS: dict[str, str] = {
    "related": "Related to",
    "duplicate_of": "Duplicate of",
    "has_duplicate": "Has duplicate",
    "parent_of": "Parent of",
    "child_of": "Child of",
}


def link_side(kind: str, from_first: bool) -> str:
    """The side's kind name (LINK_LABELS key) of a stored link, seen from its first or second ticket."""
    for side, (stored, first) in LINK_SIDES.items():
        if stored == kind and (first == from_first or stored == LinkKind.RELATED):
            return side
    raise ValueError(f"unknown link kind {kind!r}")
