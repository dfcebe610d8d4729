"""Routing vocabularies stored in the database: filter channels, weekdays, escalation triggers, recipients."""

from django.db import models


class FilterChannel(models.TextChoices):
    ANY = "any", "Any channel"
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    API = "api", "API"
    ALERT = "alert", "Alert"


class EscalationTrigger(models.TextChoices):
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"


class SlaTargetKind(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class EscalationRecipient(models.TextChoices):
    NONE = "", "Nobody"
    ASSIGNEE = "assignee", "The assignee"
    TEAM_LEAD = "team_lead", "The team lead"
    DEPARTMENT_MANAGER = "department_manager", "The department manager"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class AssignmentMode(models.TextChoices):
    NONE = "none", "Nobody (leave new tickets unassigned)"
    ROUND_ROBIN = "round_robin", "Round-robin"
    FEWEST_OPEN = "fewest_open", "Fewest open tickets"


class FieldType(models.TextChoices):
    """The kinds of value a custom field holds (what the form shows and how a value is checked)."""

    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    DATETIME = "datetime", "Date and time"
    CHOICE = "choice", "Choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    CHECKBOX = "checkbox", "Checkbox"
    EMAIL = "email", "Email address"
    IP = "ip", "IP address"


class FilterEvent(models.TextChoices):
    """Ticket events a filter may run on besides creation."""

    REPLY_RECEIVED = "reply_received", "Reply received"
    ALERT_REPEATED = "alert_repeated", "Alert repeated"
    SEVERITY_RAISED = "severity_raised", "Severity raised"
    REOPENED = "reopened", "Reopened"


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class PlanSource(models.TextChoices):
    """Where a ticket's SLA plan came from, in the order they are tried."""

    FILTER = "filter", "A ticket filter"
    HELP_TOPIC = "help_topic", "The help topic"
    DEPARTMENT = "department", "The department"
    DEFAULT = "default", "The default plan"


class TargetState(models.TextChoices):
    """Where one SLA target (response or resolution) of a ticket stands."""

    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    MET = "met", "Met"
    NONE = "none", "No target"


class ClockState(models.TextChoices):
    """A ticket's SLA clock as a whole: the worst of its running targets (the At risk and Overdue
    queues read it), paused while the ticket is on hold, done when no target runs."""

    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Overdue"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"
