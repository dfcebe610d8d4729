"""The SOC metrics' storage: one fact row per ticket, daily roll-ups summed from the facts (two of them
also per week, for long periods), and the
journal of tickets whose fact must be recomputed (see socdesk.reports.fold and docs/reports.md); and the
scheduled SOC reports (see socdesk.reports.report_sending and docs/soc-report.md).

Ids of departments, teams, agents and tickets are plain integers, not foreign keys: a deleted ticket's
contribution is taken back from its stored fact, and a roll-up outlives the rows it counts. In keys, 0
stands for "no team" and "no assignee" (a NULL would make every such row distinct to a unique key).
"""

from __future__ import annotations

from django.db import models

from socdesk.accounts.models import Department, Team
from socdesk.reports.choices import Frequency


class TicketFact(models.Model):
    """What one ticket contributes to the roll-ups, as last folded (so a change adds new minus old).

    A row without `created_day` is a placeholder the fold inserts to lock a ticket it has never folded;
    it contributes nothing.
    """

    ticket_id = models.BigIntegerField(primary_key=True)
    department_id = models.IntegerField(default=0)
    team_id = models.IntegerField(default=0)
    severity = models.CharField(max_length=10, default="")
    origin = models.CharField(max_length=20, default="")
    assignee_id = models.IntegerField(default=0)
    rule = models.CharField(max_length=255, default="")
    created_day = models.DateField(null=True)
    acknowledged_day = models.DateField(null=True)
    tta_bucket = models.SmallIntegerField(null=True)
    resolved_day = models.DateField(null=True)
    ttr_bucket = models.SmallIntegerField(null=True)
    resolution = models.CharField(max_length=20, default="")
    sla_response = models.CharField(max_length=10, default="", help_text="met, breached or empty (undecided)")
    sla_resolution = models.CharField(
        max_length=10, default="", help_text="met, breached or empty (undecided)"
    )
    alerts = models.BigIntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0, help_text="Whole seconds, counted when resolved.")
    observable_ids = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"fact of ticket {self.ticket_id}"


class DirtyTicket(models.Model):
    """A ticket whose fact may be stale: appended in the transaction that changed it, taken by a fold."""

    ticket_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} to fold"


class DayCount(models.Model):
    """Tickets opened (with their SLA outcomes) and resolved per day, department, team, severity, origin
    and resolution (empty on the opened side)."""

    day = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    severity = models.CharField(max_length=10)
    origin = models.CharField(max_length=20)
    resolution = models.CharField(max_length=20)
    opened = models.BigIntegerField(default=0)
    resolved = models.BigIntegerField(default=0)
    response_met = models.BigIntegerField(default=0)
    response_decided = models.BigIntegerField(default=0)
    resolution_met = models.BigIntegerField(default=0)
    resolution_decided = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_id", "team_id", "severity", "origin", "resolution"],
                name="reports_daycount_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} counts"


class DayDuration(models.Model):
    """Histogram rows of time to acknowledge (`tta`, on the acknowledgement's day) and to resolve
    (`ttr`, on the resolution's day) in `bucket_of` buckets."""

    day = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    severity = models.CharField(max_length=10)
    measure = models.CharField(max_length=3)
    bucket = models.SmallIntegerField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_id", "team_id", "severity", "measure", "bucket"],
                name="reports_dayduration_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} bucket {self.bucket}"


class WeekDuration(models.Model):
    """DayDuration's rows summed per week (`week` is its Monday), kept by the same fold and rebuild: a long
    period reads its whole weeks here and only its ragged ends from DayDuration."""

    week = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    severity = models.CharField(max_length=10)
    measure = models.CharField(max_length=3)
    bucket = models.SmallIntegerField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "department_id", "team_id", "severity", "measure", "bucket"],
                name="reports_weekduration_key",
            )
        ]

    def __str__(self) -> str:
        return f"week of {self.week} {self.measure} bucket {self.bucket}"


class DayRule(models.Model):
    """Per detection rule: tickets and their alerts on the opening day; resolved tickets, their verdict
    (resolution) and the analysts' handling time on the resolution's day."""

    day = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    origin = models.CharField(max_length=20)
    rule = models.CharField(max_length=255)
    resolution = models.CharField(max_length=20)
    tickets = models.BigIntegerField(default=0)
    alerts = models.BigIntegerField(default=0)
    resolved = models.BigIntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_id", "team_id", "origin", "rule", "resolution"],
                name="reports_dayrule_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.rule}"


class DayAgent(models.Model):
    """Tickets each assignee resolved per day, by time-to-resolve bucket."""

    day = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    assignee_id = models.IntegerField()
    bucket = models.SmallIntegerField()
    resolved = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_id", "team_id", "assignee_id", "bucket"],
                name="reports_dayagent_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} agent {self.assignee_id}"


class WeekAgent(models.Model):
    """DayAgent's rows summed per week (`week` is its Monday), kept by the same fold and rebuild."""

    week = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    assignee_id = models.IntegerField()
    bucket = models.SmallIntegerField()
    resolved = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "department_id", "team_id", "assignee_id", "bucket"],
                name="reports_weekagent_key",
            )
        ]

    def __str__(self) -> str:
        return f"week of {self.week} agent {self.assignee_id}"


class DayObservable(models.Model):
    """Tickets opened per day that carry an observable."""

    day = models.DateField()
    department_id = models.IntegerField()
    team_id = models.IntegerField()
    observable_id = models.BigIntegerField()
    tickets = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_id", "team_id", "observable_id"], name="reports_dayobservable_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} observable {self.observable_id}"


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
