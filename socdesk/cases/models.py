"""Tasks on tickets, and playbooks: named, versioned lists of task templates applied to tickets."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from socdesk.accounts.models import Agent, Team
from socdesk.cases.choices import TaskStatus
from socdesk.routing.models import HelpTopic
from socdesk.tickets.models import Ticket


class Playbook(models.Model):
    """A named list of tasks (TheHive's case template); its content lives in versions, the newest current.

    Editing a playbook writes a new `PlaybookVersion`; tickets keep the version that was applied to them.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    block_resolution = models.BooleanField(
        default=True,
        help_text="A ticket it was applied to cannot be resolved or closed while a required task is open "
        "or a required custom field is empty.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def current(self) -> PlaybookVersion | None:
        """The newest version (what applying the playbook uses now)."""
        return self.versions.order_by("-number").first()


class TopicPlaybook(models.Model):
    """A help topic's default playbook: applied to every ticket opened on the topic."""

    topic = models.OneToOneField(HelpTopic, on_delete=models.CASCADE, primary_key=True, related_name="+")
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="topic_links")

    def __str__(self) -> str:
        return f"{self.topic_id} → {self.playbook_id}"


class PlaybookVersion(models.Model):
    """One saved content of a playbook: its task templates and the custom fields it requires."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # Custom field names (routing's CustomField.name) that must hold a value before resolving.
    required_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["playbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="cases_playbook_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.playbook} v{self.number}"


class TaskTemplate(models.Model):
    """One task of a playbook version: what the task on the ticket will be."""

    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="templates")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Minutes after the playbook is applied; empty: no due time.
    due_minutes = models.PositiveIntegerField(null=True, blank=True)
    required = models.BooleanField(default=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return self.title


class PlaybookRun(models.Model):
    """A playbook applied to a ticket: which version, when, by whom (once per playbook and ticket)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="playbook_runs")
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="runs")
    version = models.ForeignKey(PlaybookVersion, on_delete=models.PROTECT, related_name="runs")
    applied_at = models.DateTimeField()
    applied_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "playbook"], name="cases_playbook_once_per_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.version} on {self.ticket_id}"


class Task(models.Model):
    """A piece of work on a ticket: a checklist item with an owner, a due time and its own notes."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tasks")
    run = models.ForeignKey(
        PlaybookRun, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    template = models.ForeignKey(
        TaskTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    assignee = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    skip_reason = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    updated_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "order", "id"]
        indexes = [
            # The "My tasks" queue: pending tasks by owner, soonest due first.
            models.Index(
                fields=["assignee", "due_at"],
                name="cases_task_pending_agent_idx",
                condition=Q(status__in=["open", "in_progress"]),
            ),
            models.Index(
                fields=["team", "due_at"],
                name="cases_task_pending_team_idx",
                condition=Q(status__in=["open", "in_progress"]),
            ),
            # The SOC dashboard's playbook tasks of a period: done ones by done_at, skipped by last change.
            models.Index(fields=["done_at"], name="cases_task_done_idx", condition=Q(status="done")),
            models.Index(fields=["updated_at"], name="cases_task_skipped_idx", condition=Q(status="skipped")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""), name="cases_task_skip_has_reason"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def pending(self) -> bool:
        return self.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class TaskNote(models.Model):
    """A note in a task's own thread (who did what on this step)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["task", "created_at", "id"]

    def __str__(self) -> str:
        return f"note on task {self.task_id}"
