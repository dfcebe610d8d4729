"""Tickets, their threads, attachments and tags."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least

from socdesk.accounts.models import Agent, Contact, Department, Team
from socdesk.tickets.choices import (
    OPEN_STATUSES,
    CollaboratorSource,
    EntryKind,
    LinkKind,
    Resolution,
    Severity,
    Source,
    Status,
)


class Tag(models.Model):
    """A free-form label on tickets (lower-case, unique)."""

    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A unit of tracked work: a request, an incident or a group of alerts, owned by a department."""

    number = models.CharField(max_length=32, unique=True)
    subject = models.CharField(max_length=255)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    requester = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    due_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Fields sent by integrations that we keep as-is."
    )
    # Values of the help topic's custom form by field name, checked by the app that owns the forms
    # (routing); a JSON column so that adding a field never rewrites this table.
    custom_fields = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    alert_occurrences = models.PositiveIntegerField(
        default=0,
        help_text="How many times its alerts fired, all summed (kept by alert ingest): the queue's "
        "Alerts column and its sort read it without touching the alerts table.",
    )

    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            # Queue pages: each index matches one queue's filter + default sort, so the first page
            # of 50 is read straight off the index even with millions of rows.
            models.Index(fields=["-last_activity_at", "-id"], name="ticket_activity_idx"),
            models.Index(
                fields=["department", "-last_activity_at", "-id"],
                name="ticket_dept_activity_idx",
            ),
            models.Index(
                fields=["department", "-last_activity_at", "-id"],
                name="ticket_open_dept_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["-last_activity_at", "-id"],
                name="ticket_open_activity_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["assignee", "-last_activity_at", "-id"],
                name="ticket_assignee_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["team", "-last_activity_at", "-id"],
                name="ticket_team_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["department", "-last_activity_at", "-id"],
                name="ticket_unassigned_idx",
                condition=Q(status__in=OPEN_STATUSES, assignee__isnull=True),
            ),
            models.Index(fields=["status", "-last_activity_at", "-id"], name="ticket_status_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            # The queue sorted by Alerts: the noisiest tickets first, read off the index.
            models.Index(fields=["-alert_occurrences", "-id"], name="ticket_alerts_idx"),
            # The SOC dashboard's live figures (socdesk.reports.selectors.now_figures): open tickets by
            # department, team, severity, status and assignee, and the oldest, in one index-only scan.
            models.Index(
                fields=["department", "team", "severity", "status", "assignee", "created_at"],
                name="ticket_open_figures_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def time_to_acknowledge(self):
        """How long until the first agent action (None while unacknowledged)."""
        return self.acknowledged_at - self.created_at if self.acknowledged_at else None

    @property
    def time_to_resolve(self):
        """How long until the ticket was resolved, or closed without a resolution (None while open)."""
        end = self.resolved_at or self.closed_at
        return end - self.created_at if end else None

    def snapshot(self) -> dict:
        """The editable fields as plain values, for audit before/after and stale-edit messages."""
        return {
            "subject": self.subject,
            "severity": self.severity,
            "status": self.status,
            "resolution": self.resolution,
            "department": self.department_id,
            "assignee": self.assignee_id,
            "team": self.team_id,
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }


class ThreadEntry(models.Model):
    """One item of a ticket's thread: requester message, agent reply, internal note or system event."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    author_agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_entries"
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_entries"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    body_format = models.CharField(
        max_length=10, default="text", choices=[("text", "Text"), ("html", "HTML")]
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="entry_ticket_idx")]
        verbose_name_plural = "thread entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id} by {self.author_label}"

    @property
    def is_public(self) -> bool:
        return self.kind in (EntryKind.MESSAGE, EntryKind.REPLY)


class Collaborator(models.Model):
    """A contact outside the SOC copied on a ticket: receives its public replies and may write to it by mail.

    Added by an agent (console, API) or from the Cc of an e-mail; one row per ticket and contact.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="collaborators")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="collaborations")
    added_at = models.DateTimeField()
    added_by = models.CharField(
        max_length=200, blank=True, help_text="Who added them, as the audit names it."
    )
    source = models.CharField(
        max_length=10, choices=CollaboratorSource.choices, default=CollaboratorSource.MANUAL
    )

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "contact"], name="collaborator_unique_per_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.contact.email} on {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Content-addressed: the stored name never comes from the uploader.
    return f"{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a thread entry, stored by SHA-256; served only as a download to those who may see it."""

    entry = models.ForeignKey(ThreadEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(
        max_length=120, help_text="Sniffed from the bytes, not taken from the sender."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class SavedSearch(models.Model):
    """A queue filter an agent saved under a name: personal, or shared with one department.

    `query` is the normalised query string of the queue page (only the parameters TicketFilter reads),
    so opening it is the same as opening the queue with that query string.
    """

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="saved_searches")
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shared_searches",
        help_text="Empty: only the owner sees it. Set: everyone with a role in this department does.",
    )
    query = models.CharField(max_length=2000, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_search_name_unique_per_owner")
        ]
        indexes = [models.Index(fields=["department", "position"], name="saved_search_shared_idx")]
        verbose_name_plural = "saved searches"

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.department_id is not None


class TicketSearch(models.Model):
    """A ticket's search document, written by socdesk.tickets.search.index in the same transaction as
    the change it reflects, and indexed by the database's own full-text engine.

    PostgreSQL adds a generated `tsvector` column over `title` and `body` with a GIN index, and a
    trigram index on `identifiers`; SQLite keeps an FTS5 table in step through triggers (see the
    migration that creates this table). What goes into each column is defined once, in
    socdesk.tickets.search.document.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search")
    title = models.TextField(help_text="Number and subject: matches here rank first.")
    body = models.TextField(help_text="Thread, requester, tags, fields, alerts and observables.")
    identifiers = models.TextField(help_text="Number, observable values and addresses, for substring search.")

    class Meta:
        verbose_name = "ticket search document"

    def __str__(self) -> str:
        return f"search document of {self.ticket_id}"


class TicketLink(models.Model):
    """A link between two tickets (related, duplicate of, parent incident of), stored once and shown on
    both: the second ticket reads the reverse label ("Has duplicate", "Child of").

    Two tickets have at most one link whatever its direction, and a ticket at most one parent.
    """

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    created_at = models.DateTimeField()
    created_by = models.CharField(
        max_length=200, blank=True, help_text="Who linked them, as the audit names it."
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_ticket=models.F("to_ticket")), name="ticket_link_not_to_itself"
            ),
            # One link per pair of tickets, whichever of the two is first.
            models.UniqueConstraint(
                Least("from_ticket", "to_ticket"),
                Greatest("from_ticket", "to_ticket"),
                name="ticket_link_once",
            ),
            models.UniqueConstraint(
                fields=["to_ticket"], condition=Q(kind=LinkKind.PARENT), name="ticket_link_one_parent"
            ),
        ]
        indexes = [models.Index(fields=["to_ticket"], name="ticket_link_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_ticket_id} {self.kind} {self.to_ticket_id}"


class TicketMerge(models.Model):
    """One merge of a duplicate (source) into the ticket that survives (target), with the ids of what
    moved and the source's state before, so that it can be undone exactly on the same day.

    A ticket is merged away at most once at a time (the constraint below; an undone merge does not count).
    """

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merges_in")
    merged_at = models.DateTimeField()
    merged_by = models.CharField(max_length=200, blank=True)
    moved = models.JSONField(default=dict, help_text="What moved, by kind: ids, keys, counts.")
    source_before = models.JSONField(
        default=dict,
        help_text="The source's status, resolution and their times, and a link it had to the target.",
    )
    target_entry = models.ForeignKey(
        ThreadEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The survivor's thread line saying what was merged (where Undo is offered).",
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=Q(undone_at__isnull=True), name="ticket_merged_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id} merged into {self.target_id}"

    @property
    def is_active(self) -> bool:
        return self.undone_at is None
