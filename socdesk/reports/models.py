"""The reports app's stored objects: the scheduled SOC reports."""

from __future__ import annotations

from django.db import models

from socdesk.accounts.models import Department, Team
from socdesk.reports.choices import Frequency


class ReportSchedule(models.Model):
    """A SOC report e-mailed (HTML with the PDF attached) to a list of recipients every week or month.

    The worker claims a due schedule with a conditional UPDATE of `sending_since` (a lease), so two
    workers never send the same period twice; `last_period_end` is the last day of the period sent last.
    """

    name = models.CharField(max_length=50, unique=True)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="report_schedules")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="report_schedules"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    recipients = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    last_period_end = models.DateField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
