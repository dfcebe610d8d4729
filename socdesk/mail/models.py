"""Mail going out of SOCdesk: agents' replies to requesters, queued then sent by the worker."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from socdesk.tickets.models import ThreadEntry, Ticket


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Agent's reply"
    AUTO_RESPONSE = "auto_response", "Auto-response to a new ticket"
    REOPEN_ACK = "reopen_ack", "Acknowledgement of a reopening reply"


# What SOCdesk writes by itself: marked Auto-Submitted, and counted together by the per-address limit.
AUTOMATIC_KINDS = (OutboundKind.AUTO_RESPONSE, OutboundKind.REOPEN_ACK)


class OutboundMessage(models.Model):
    """One e-mail of a ticket's thread to its requester (an agent's reply, or the auto-response to a new
    ticket), written in the change's transaction and sent after commit by the worker, which claims it
    first (queued/failed -> sending) so it goes out once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="outbound_messages")
    entry = models.ForeignKey(
        ThreadEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_messages"
    )
    # Generated when queued, so replies coming back can be matched to the ticket by it.
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    # The HTML alternative of `body` (multipart/alternative); "" sends plain text only.
    html = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=OutboundKind.choices, default=OutboundKind.REPLY)
    # The first To address, lower-cased: the auto-responses' per-sender limit counts by it.
    recipient = models.CharField(max_length=254, blank=True)
    # Ids of the reply's attachments (tickets.Attachment) to send with it, chosen within the size cap.
    attachment_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="outbound_ticket_idx"),
            # The auto-responses' rate limit: how many went to this address in the last hour.
            models.Index(fields=["kind", "recipient", "created_at"], name="outbound_kind_recipient_idx"),
            # The sweep: what still waits (queued, or failed and to be retried), oldest first.
            models.Index(
                fields=["created_at"],
                name="outbound_waiting_idx",
                condition=Q(status__in=["queued", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.to)} ({self.status})"

    @property
    def to_display(self) -> str:
        return ", ".join(self.to + self.cc)

    @property
    def automatic(self) -> bool:
        """Sent by SOCdesk itself, not written by a person: carries `Auto-Submitted: auto-replied`."""
        return self.kind in AUTOMATIC_KINDS


class InboundOutcome(models.TextChoices):
    CREATED = "created", "Opened a ticket"
    ADDED = "added", "Added to a ticket"
    BOUNCE_NOTED = "bounce_noted", "Bounce noted on a ticket"
    BOUNCE_DROPPED = "bounce_dropped", "Bounce of no known message"
    BANNED = "banned", "Refused: the sender is banned"


class InboundMessage(models.Model):
    """One e-mail received (pipe, API, later mailboxes): its Message-ID, unique so a message delivered twice,
    even at the same moment, is imported once, and the ticket it went to."""

    # Without <>, as the reader gives it; a message without one has an id made from its bytes.
    message_id = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    entry = models.ForeignKey(
        ThreadEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    outcome = models.CharField(max_length=20, choices=InboundOutcome.choices, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    # Why the message is automatic ("" for a person's mail): auto-responses never answer such mail.
    automated = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=100, blank=True)
    # The message's HTML part, sanitised by the reader (nh3): shown to agents on request, never inline
    # in the console (socdesk.mail.views.inbound_html). "" when the message had none.
    html = models.TextField(blank=True)
    # The HTML's inline images: Content-ID (without <>) -> SHA-256 of the part, stored as an attachment
    # of `entry`; the HTML version draws them (socdesk.mail.inbound_html). Only parts that were stored.
    inline_images = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.outcome})"


class MailboxSecurity(models.TextChoices):
    TLS = "tls", "TLS (IMAPS, usually port 993)"
    STARTTLS = "starttls", "STARTTLS (usually port 143)"
    NONE = "none", "None (plain text; only on a trusted network)"


class AfterImport(models.TextChoices):
    MOVE = "move", "Move to a folder"
    SEEN = "seen", "Mark as read"
    DELETE = "delete", "Delete"


class Mailbox(models.Model):
    """An IMAP mailbox SOCdesk fetches mail from: each message is imported with `mail_receive`, and only
    once that is committed is the after-import action applied on the server."""

    # Slug-like: it names the mailbox in commands, the audit trail (`mail:<name>`) and inbound channels.
    name = models.SlugField(max_length=50, unique=True)
    address = models.EmailField(max_length=254)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes"
    )
    # A help topic deleted (its admin page cannot know of mailboxes) leaves the mailbox without one.
    help_topic = models.ForeignKey(
        "routing.HelpTopic", null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=MailboxSecurity.choices, default=MailboxSecurity.TLS)
    username = models.CharField(max_length=254)
    # Write-only: never shown, exported or audited. `password_file` (read at each fetch) wins when set.
    password = models.CharField(max_length=500, blank=True)
    password_file = models.CharField(max_length=500, blank=True)
    folder = models.CharField(max_length=200, default="INBOX")
    after_import = models.CharField(max_length=10, choices=AfterImport.choices, default=AfterImport.SEEN)
    move_to = models.CharField(max_length=200, blank=True)
    interval_seconds = models.PositiveIntegerField(default=300)
    max_messages = models.PositiveIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    # The fetch's bookkeeping (not settings): the last cycle's end, its error sentence and how many it
    # imported; `fetching_since` is the claim a fetch holds so two workers never fetch it at once.
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_count = models.PositiveIntegerField(default=0)
    fetching_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


class BannedSender(models.Model):
    """An address (`spam@example.com`) or a whole domain (`example.com`, entered as `*@example.com` too)
    whose mail is refused: nothing is imported and no auto-response goes back."""

    # Lower-cased; an address holds an @, a domain does not.
    value = models.CharField(max_length=254, unique=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["value"]

    def __str__(self) -> str:
        return self.value

    @property
    def is_domain(self) -> bool:
        return "@" not in self.value


class TemplateKind(models.TextChoices):
    AUTO_RESPONSE = "auto_response", "New ticket: auto-response"
    REOPEN_ACK = "reopen_ack", "Reopened by the requester's reply"
    REPLY = "reply", "Agent's reply"


class MailTemplate(models.Model):
    """An administrator's version of one kind of mail SOCdesk sends to requesters: subject, text and HTML,
    Django template syntax over the documented variables only. No department: the global one; a
    department's row overrides it there. Without a row the code's default is used."""

    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="mail_templates"
    )
    subject = models.CharField(max_length=255)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "department"], name="mail_template_per_department"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(department__isnull=True), name="mail_template_one_global"
            ),
        ]

    def __str__(self) -> str:
        where = self.department.name if self.department is not None else "all departments"
        return f"{self.get_kind_display()} ({where})"


class CannedResponse(models.Model):
    """A ready-made reply agents insert in the composer (or a ticket filter sends): a title and a body
    with the mail templates' ticket variables, for one department's tickets or for every department's
    (no department). See socdesk.mail.canned."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["title", "department"], name="canned_title_per_department"),
            models.UniqueConstraint(
                fields=["title"], condition=Q(department__isnull=True), name="canned_title_one_global"
            ),
        ]

    def __str__(self) -> str:
        where = self.department.name if self.department is not None else "all departments"
        return f"{self.title} ({where})"


class CannedAttachment(models.Model):
    """A file a canned response carries: stored by SHA-256 like the tickets' attachments, copied onto
    the reply it is used in."""

    canned_response = models.ForeignKey(CannedResponse, on_delete=models.CASCADE, related_name="attachments")
    file = models.CharField(max_length=255, help_text="Path in the attachments storage (by SHA-256).")
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=120)

    class Meta:
        ordering = ["filename", "id"]

    def __str__(self) -> str:
        return self.filename
