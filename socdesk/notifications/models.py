"""An agent's notifications, what they asked to be told of, and the mail waiting to go out."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from socdesk.accounts.models import Agent
from socdesk.notifications.choices import Kind
from socdesk.tickets.models import Ticket


class Notification(models.Model):
    """One thing an agent is told about one ticket, in the console's bell until they read it."""

    recipient = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    actor_label = models.CharField(max_length=200, blank=True, help_text="Who caused it ('' for SLA).")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell: my unread, newest first (and their count), read off a small partial index.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
            # The full page and the API: all of mine, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.text}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """An agent's choice for one kind (kinds without a row use choices.DEFAULTS)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    in_app = models.BooleanField()
    email = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "kind"], name="one_notification_preference_per_kind")
        ]
        # "Who asked for new tickets": the hook reads it for every batch of new tickets.
        indexes = [models.Index(fields=["kind", "agent"], name="notification_pref_kind_idx")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind}: in app {self.in_app}, email {self.email}"


class NotificationEmail(models.Model):
    """One message to one agent (several notifications of one change or batch), sent after commit by
    the worker; `sent_at` is set by the worker that claims it, so a message goes out once."""

    recipient = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="notification_emails")
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_email_unsent_idx", condition=Q(sent_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
