"""Routing vocabularies stored in the database: filter channels, escalation triggers and recipients."""

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
