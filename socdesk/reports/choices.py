"""Choices of the reports app."""

from django.db import models


class Frequency(models.TextChoices):
    """How often a scheduled report goes out: each covers the last whole week or month."""

    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
