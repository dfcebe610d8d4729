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
