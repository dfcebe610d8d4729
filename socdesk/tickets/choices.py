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
