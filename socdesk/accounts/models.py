"""Agents, departments, teams and roles; requesters (contacts) and their organisations."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from socdesk.accounts.choices import ALL_PERMS, ClosedReply, Perm


class Department(models.Model):
    """A group that owns tickets (SOC, IT Help Desk, ...); access is granted per department."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    email = models.EmailField(blank=True)
    description = models.TextField(blank=True)
    # Retention (socdesk.alerts.retention): empty means the global default from the environment.
    raw_payload_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Delete alerts' raw payloads this many days after the alert was last seen "
        "(the alert and its ticket stay). Empty: the SOCDESK_RAW_PAYLOAD_RETENTION_DAYS default "
        "(unset there: keep forever).",
    )
    closed_ticket_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Delete closed tickets (thread, alerts, attachments) this many days after closing. "
        "Empty: the SOCDESK_CLOSED_TICKET_RETENTION_DAYS default (unset there: keep forever).",
    )
    # Auto-close (socdesk.tickets.services.autoclose): empty means resolved tickets stay resolved.
    autoclose_resolved_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Close resolved tickets this many days after resolving when the requester has not "
        "written since. Empty: never close them automatically.",
    )
    # Auto-responses (socdesk.mail.autoresponse): the requester of a new ticket gets an acknowledgement.
    auto_response = models.BooleanField(
        default=True,
        help_text="E-mail the requester of a new ticket an acknowledgement with its number "
        "(never to automatic mail; a help topic or a ticket filter may turn it off for a ticket).",
    )
    # Mail to a closed ticket (socdesk.mail.inbound): "" follows SOCDESK_MAIL_CLOSED_REPLY.
    closed_reply = models.CharField(
        max_length=10,
        blank=True,
        choices=ClosedReply.choices,
        help_text="What the requester's e-mail to a closed ticket does: reopen it, or open a new ticket "
        "linked to it. Empty: the SOCDESK_MAIL_CLOSED_REPLY default. A resolved ticket always reopens.",
    )
    # The acknowledgement of a reopening reply (socdesk.mail.reopen_ack).
    reopen_ack = models.BooleanField(
        default=True,
        help_text="E-mail the requester whose reply reopened a ticket a short acknowledgement "
        "(never to automatic mail; rate-limited with the auto-responses).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named set of permissions (view, create, edit, assign, ...) granted within a department."""

    name = models.CharField(max_length=100, unique=True)
    permissions = models.JSONField(default=list, help_text="Any of: " + ", ".join(Perm.values))
    requires_two_factor = models.BooleanField(
        default=False,
        help_text="Agents holding this role in any department must sign in with a second factor (TOTP).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def perm_set(self) -> frozenset[str]:
        return frozenset(self.permissions) & ALL_PERMS


class Agent(models.Model):
    """A staff member who works tickets: a Django user plus SOCdesk's profile."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_admin = models.BooleanField(default=False, help_text="Sees and manages everything.")
    limit_to_assigned = models.BooleanField(
        default=False, help_text="Sees only tickets assigned to them or their teams."
    )
    # Auto-assignment gives new tickets only to available agents; away ones keep what they hold.
    available = models.BooleanField(default=True, help_text="On duty: auto-assignment may give them tickets.")
    available_changed_at = models.DateTimeField(null=True, blank=True)
    departments: models.ManyToManyField[Department, DepartmentAccess] = models.ManyToManyField(
        Department, through="DepartmentAccess", related_name="agents"
    )

    # Not columns: what socdesk.accounts.selectors remembers on the instance (department_perms, team_ids,
    # visible_department_ids).
    _department_perms: dict[int, frozenset[str]]
    _team_ids: frozenset[int]
    _visible_department_ids: set[int]

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    @property
    def is_active(self) -> bool:
        return self.user.is_active


class DepartmentAccess(models.Model):
    """An agent's role in one department."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="accesses")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="accesses")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="accesses")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "department"], name="one_role_per_department")
        ]
        verbose_name_plural = "department accesses"

    def __str__(self) -> str:
        return f"{self.agent} as {self.role} in {self.department}"


class Team(models.Model):
    """A group of agents that tickets can be assigned to, with an optional lead."""

    name = models.CharField(max_length=100, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )
    lead = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    members = models.ManyToManyField(Agent, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """A requester's organisation (customer, business unit)."""

    name = models.CharField(max_length=150, unique=True)
    domain = models.CharField(max_length=255, blank=True, help_text="Email domain of its members.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """Someone who asks for help or reports an incident (an end user), identified by email."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class ApiKey(models.Model):
    """A key for tools and scripts: hashed at rest, scoped, optionally IP-restricted and expiring.

    With `agent` set it is an agent's personal token and never exceeds that agent's own permissions.
    """

    SCOPES = ("tickets:create", "tickets:read", "tickets:write", "alerts:ingest", "admin")

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part shown in lists and logs.")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key.")
    scopes = models.JSONField(default=list)
    allowed_cidrs = models.JSONField(default=list, blank=True, help_text="Empty: any address.")
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="personal_tokens"
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_keys",
        help_text="Where tickets created with this key go when the request names no department.",
    )
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
        help_text="The key this one was rotated to; this one then works until its expiry (the grace period).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class ExternalIdentity(models.Model):
    """An agent's account at a directory (an OpenID provider's subject, an LDAP entry's DN).

    Single sign-on finds the agent by this link on every sign-in, so a renamed e-mail address or username
    at the provider still lands on the same agent.
    """

    PROVIDERS = (("oidc", "OpenID Connect"), ("ldap", "LDAP"))

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.CharField(max_length=16, choices=PROVIDERS)
    subject = models.CharField(max_length=255, help_text="OIDC `sub` claim, or the LDAP entry's DN.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="one_agent_per_external_subject")
        ]
        verbose_name_plural = "external identities"

    def __str__(self) -> str:
        return f"{self.agent} at {self.provider}: {self.subject}"
