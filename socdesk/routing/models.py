"""Routing configuration: schedules, SLA plans, help topics and ticket filters (the rules engine)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from socdesk.accounts.models import Agent, Department, Team
from socdesk.routing.choices import (
    AssignmentMode,
    ClockState,
    EscalationRecipient,
    EscalationTrigger,
    FieldType,
    FilterChannel,
    PlanSource,
    SlaTargetKind,
    TargetState,
    WebhookStatus,
    Weekday,
)
from socdesk.tickets.choices import Severity
from socdesk.tickets.models import Ticket


class Schedule(models.Model):
    """When SLA clocks run: 24/7, or working hours per weekday in a time zone, minus holidays."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    always = models.BooleanField(
        default=False, help_text="24/7: every minute counts; hours and holidays unused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """One working interval of a weekday (a day may have several), in minutes after local midnight."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    # Minutes, not TimeField: an interval may end at 24:00, which a time of day cannot hold.
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["schedule", "weekday", "start_minute"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6)
                & Q(start_minute__lt=models.F("end_minute"))
                & Q(end_minute__lte=1440),
                name="routing_working_hours_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.get_weekday_display()} {self.start} - {self.end}"

    @property
    def start(self) -> str:
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}"

    @property
    def end(self) -> str:
        return f"{self.end_minute // 60:02d}:{self.end_minute % 60:02d}"


class Holiday(models.Model):
    """A date on which a schedule has no working time."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["schedule", "date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="routing_holiday_once")]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.date} {self.name}".strip()


class SLAPlan(models.Model):
    """Response and resolution targets per severity in a schedule's working time, and escalation levels."""

    name = models.CharField(max_length=100, unique=True)
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="sla_plans")
    at_risk_share = models.FloatField(default=0.75, help_text="Share of a target used that makes it at risk.")
    is_default = models.BooleanField(
        default=False, help_text="Used when no filter, topic or department picks one."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA plan"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="routing_one_default_plan"
            ),
            models.CheckConstraint(
                condition=Q(at_risk_share__gt=0) & Q(at_risk_share__lte=1), name="routing_at_risk_share_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SLATarget(models.Model):
    """A plan's response and resolution targets for one severity, in working minutes."""

    plan = models.ForeignKey(SLAPlan, on_delete=models.CASCADE, related_name="targets")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["plan", "severity"]
        verbose_name = "SLA target"
        constraints = [
            models.UniqueConstraint(fields=["plan", "severity"], name="routing_target_per_severity")
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.severity}: {self.response_minutes}/{self.resolution_minutes} min"


class EscalationLevel(models.Model):
    """One step of a plan's escalation: when a target is at risk or breached, notify someone and/or act."""

    plan = models.ForeignKey(SLAPlan, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    target = models.CharField(max_length=10, choices=SlaTargetKind.choices, default=SlaTargetKind.RESOLUTION)
    trigger = models.CharField(max_length=10, choices=EscalationTrigger.choices)
    notify = models.CharField(max_length=20, choices=EscalationRecipient.choices, blank=True)
    reassign_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    raise_severity = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "level"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "level"], name="routing_escalation_level_once")
        ]

    def __str__(self) -> str:
        return f"{self.plan} level {self.level}"


class HelpTopic(models.Model):
    """What a request is about; picks the department, team, agent, severity and SLA plan of new tickets."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    sla_plan = models.ForeignKey(
        SLAPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="topics"
    )
    portal_visible = models.BooleanField(default=True)
    auto_response = models.BooleanField(default=True)
    # The custom form whose fields tickets on this topic carry (a sub-topic without one uses its parent's).
    form = models.ForeignKey(
        "CustomForm", null=True, blank=True, on_delete=models.PROTECT, related_name="topics"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="routing_topic_name_per_parent"),
            # NULL parents are distinct in a unique index, so top-level names get their own constraint.
            models.UniqueConstraint(fields=["name"], condition=Q(parent=None), name="routing_top_topic_name"),
        ]

    def __str__(self) -> str:
        return self.name


class FilterRule(models.Model):
    """A ticket filter ("ticket filters" in the UI): conditions on a new ticket or alert, and actions.

    Not `TicketFilter`: that name is the queue's query filter (tickets/filters.py). Conditions and actions
    are validated JSON lists ({"field", "operator", "value"} and {"type", "value"}), because a filter is
    always read, checked, compiled and exported whole, in order, and the ruleset is built without joins;
    services validate them with the same compiler that evaluates them.
    """

    name = models.CharField(max_length=100, unique=True)
    order = models.IntegerField(default=0, help_text="Filters run lowest first (then by id).")
    enabled = models.BooleanField(default=True)
    channel = models.CharField(max_length=10, choices=FilterChannel.choices, default=FilterChannel.ANY)
    # An integration's or mailbox's id: those live in apps above routing, so no foreign key here.
    channel_id = models.PositiveIntegerField(null=True, blank=True)
    match_all = models.BooleanField(default=True, help_text="All conditions (else any one) must hold.")
    stop_on_match = models.BooleanField(default=False)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="For time-of-day and weekday conditions."
    )
    conditions = models.JSONField(default=list)
    actions = models.JSONField(default=list)
    # Besides at creation, the filter also runs on these ticket events (see FilterEvent), with the
    # actions that make sense on an existing ticket only.
    on_events = models.JSONField(default=list, blank=True)
    # Signs this filter's outgoing webhooks (HMAC-SHA256); empty: the global SOCDESK_FILTER_WEBHOOK_SECRET.
    webhook_secret = models.CharField(max_length=200, blank=True)
    hit_count = models.PositiveBigIntegerField(default=0)
    last_matched_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "ticket filter"

    def __str__(self) -> str:
        return self.name


class RulesetVersion(models.Model):
    """One row that moves at every change to the routing configuration (filters, forms, help topics, SLA
    plans and schedules, department plans, assignment policies): each process drops its snapshot of the
    configuration when the stamp differs (socdesk/routing/snapshot.py)."""

    version = models.PositiveBigIntegerField(default=0)
    stamp = models.CharField(max_length=32, default="", help_text="New at every change (see services).")

    def __str__(self) -> str:
        return f"ruleset v{self.version}"


# --- auto-assignment ------------------------------------------------------------------------------------


class AssignmentPolicy(models.Model):
    """How a department's or a team's new unassigned tickets get an agent: nobody, round-robin or fewest open.

    Exactly one of `department` and `team` is set. `last_agent` is round-robin's pointer: the next ticket
    goes to the first on-duty candidate after it (by id). The row is locked while a batch picks agents, so
    two processes opening tickets at once never both read the same pointer (routing.assignment).
    """

    department = models.OneToOneField(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="assignment_policy"
    )
    team = models.OneToOneField(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="assignment_policy"
    )
    mode = models.CharField(max_length=12, choices=AssignmentMode.choices, default=AssignmentMode.NONE)
    last_agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False, team__isnull=True)
                | Q(department__isnull=True, team__isnull=False),
                name="assignment_policy_department_xor_team",
            )
        ]
        verbose_name_plural = "assignment policies"

    def __str__(self) -> str:
        owner = f"department {self.department}" if self.department_id else f"team {self.team}"
        return f"{owner}: {self.get_mode_display()}"


class CustomForm(models.Model):
    """A named set of custom fields that a help topic asks for on its tickets."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """One field of a custom form: its machine name, label, type, choices and who must or may fill it.

    Values are stored by `name` in the ticket's `custom_fields` JSON column, so adding a field never
    rewrites the tickets table; agents (and API keys) and end users each have their own required and
    visible flags.
    """

    form = models.ForeignKey(CustomForm, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=64, help_text="Machine name: lower-case letters, digits and _.")
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text="The allowed values of a choice field.")
    help_text = models.CharField(max_length=300, blank=True)
    agent_visible = models.BooleanField(default=True)
    agent_required = models.BooleanField(default=False)
    user_visible = models.BooleanField(default=True)
    user_required = models.BooleanField(default=False)
    order = models.IntegerField(default=0)

    class Meta:
        ordering = ["form", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "name"], name="routing_field_name_per_form"),
        ]

    def __str__(self) -> str:
        return f"{self.form}: {self.label} ({self.name})"


class TicketTopic(models.Model):
    """The help topic a ticket was opened on (routing sits above tickets, so Ticket has no column for it)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="help_topic_link"
    )
    topic = models.ForeignKey(HelpTopic, on_delete=models.PROTECT, related_name="ticket_links")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.topic}"


class FilterWebhookDelivery(models.Model):
    """One outgoing webhook call a ticket filter asked for: its JSON body, and how sending it went.

    Written in the transaction that ran the filter, sent after commit by a worker task, retried with
    exponential backoff by a periodic job until delivered or out of attempts (the delivery log).
    """

    rule = models.ForeignKey(
        FilterRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    filter_name = models.CharField(max_length=100)
    url = models.TextField()  # as long as the filter's action has it: a cut URL would call another
    event = models.CharField(max_length=30)
    ticket_number = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "filter webhook delivery"
        verbose_name_plural = "filter webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="filter_webhook_due_idx",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.filter_name} → {self.url} ({self.status})"


class DepartmentSLA(models.Model):
    """A department's SLA settings: the plan its tickets get when no filter or help topic picks one,
    and the manager its escalations notify."""

    department = models.OneToOneField(
        Department, on_delete=models.CASCADE, primary_key=True, related_name="sla_settings"
    )
    plan = models.ForeignKey(SLAPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "department SLA settings"
        verbose_name_plural = "department SLA settings"

    def __str__(self) -> str:
        return f"SLA settings of {self.department_id}"


class TicketSLA(models.Model):
    """One ticket's SLA clock: its plan, due and at-risk times per target, pauses and escalation levels.

    Routing sits above tickets, so the clock points at the ticket (one-to-one, its primary key) and the
    ticket knows nothing of it. The at-risk and due instants are computed once (when the clock starts,
    resumes or is recomputed) in working time, so the scan only compares them with the time now;
    `next_check_at` is the earliest instant at which a state can change (NULL: nothing to watch).
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla")
    plan = models.ForeignKey(SLAPlan, null=True, on_delete=models.SET_NULL, related_name="+")
    plan_source = models.CharField(max_length=12, choices=PlanSource.choices)
    started_at = models.DateTimeField()
    response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    response_at_risk_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_met_at = models.DateTimeField(null=True, blank=True)
    response_state = models.CharField(max_length=10, choices=TargetState.choices, default=TargetState.NONE)
    response_level = models.PositiveSmallIntegerField(default=0, help_text="Highest escalation level done.")
    resolution_at_risk_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_met_at = models.DateTimeField(null=True, blank=True)
    resolution_state = models.CharField(max_length=10, choices=TargetState.choices, default=TargetState.NONE)
    resolution_level = models.PositiveSmallIntegerField(default=0, help_text="Highest escalation level done.")
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.ON_TRACK)
    paused_since = models.DateTimeField(null=True, blank=True)
    # Finished pauses as [[start, end], ...] in ISO 8601: on hold, and resolved until reopened.
    pauses = models.JSONField(default=list, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # Which scan holds the row until next_check_at (its lease); see services/sla_scan.py.
    claimed_by = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ticket SLA clock"
        indexes = [
            # The scan: the rows whose next check has come, oldest first.
            models.Index(
                fields=["next_check_at"],
                name="ticket_sla_next_check_idx",
                condition=Q(next_check_at__isnull=False),
            ),
            # The At risk and Overdue queues.
            models.Index(
                fields=["state"],
                name="ticket_sla_attention_idx",
                condition=Q(state__in=[ClockState.AT_RISK, ClockState.BREACHED]),
            ),
        ]

    def __str__(self) -> str:
        return f"SLA clock of ticket {self.ticket_id}"
