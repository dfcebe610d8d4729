"""Integrations, webhook deliveries (the durable inbox), alerts, de-dup keys and observables."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from socdesk.accounts.models import ApiKey, Department, Team
from socdesk.alerts.choices import Adapter, AlertStatus, DeliveryStatus, GroupBy, ObservableType
from socdesk.tickets.choices import Severity
from socdesk.tickets.models import ThreadEntry, Ticket

GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alert-Signature"
# Some Grafana releases name their default header differently; with the default configured, both are read.
GRAFANA_SIGNATURE_HEADER_ALT = "X-Grafana-Alerting-Signature"


def new_url_token() -> str:
    """A random, URL-safe token for tools that cannot send a header (Splunk, Wazuh scripts)."""
    return secrets.token_urlsafe(24)


class Integration(models.Model):
    """One configured alert source: which adapter parses it, where its tickets go, how repeats group."""

    adapter = models.CharField(max_length=20, choices=Adapter.choices)
    name = models.CharField(max_length=100, unique=True)
    token = models.CharField(
        max_length=64,
        unique=True,
        default=new_url_token,
        help_text="Secret part of the URL /api/v1/hooks/<adapter>/<token> for tools that cannot set headers.",
    )
    enabled = models.BooleanField(default=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integrations",
        help_text="Where new tickets go (empty: the first department).",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    default_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    default_tags = models.JSONField(default=list, blank=True, help_text='A JSON list, e.g. ["prometheus"].')
    severity_map = models.JSONField(
        default=dict,
        blank=True,
        help_text="The source's severity value → SOCdesk severity, "
        'e.g. {"warning": "low", "P1": "critical"}.',
    )
    grouping_key = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated JMESPath expressions over one alert "
        "(e.g. labels.alertname, labels.instance): alerts with equal values share one ticket. "
        "Empty: the adapter's default.",
    )
    group_by = models.CharField(
        max_length=12,
        choices=GroupBy.choices,
        default=GroupBy.GROUP,
        help_text="alertmanager only: one ticket per notification group (its groupKey), each alert tracked "
        "inside it, or one ticket per alert fingerprint. A grouping key above takes precedence.",
    )
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text="generic only: JMESPath expressions for title, description, severity, fingerprint, "
        "occurred_at, status, observables, and optionally alerts (the list of alerts in a body).",
    )
    auto_resolve = models.BooleanField(
        default=False,
        help_text="Resolve the ticket (as not applicable) once every alert on it has resolved.",
    )
    hmac_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="grafana only: check the HMAC-SHA256 signature with this secret.",
    )
    hmac_header = models.CharField(max_length=100, blank=True, default=GRAFANA_SIGNATURE_HEADER)
    hmac_timestamp_header = models.CharField(
        max_length=100,
        blank=True,
        help_text="grafana only: when Grafana is set to send a timestamp header, its name; "
        "the signature then covers '<timestamp>:<body>' and requests older than 5 minutes are refused.",
    )
    # Alerts a ticket filter refused (dropped before a ticket was opened), counted once per ingest batch.
    rejected_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.adapter})"


class WebhookDelivery(models.Model):
    """One request body exactly as a tool sent it, stored before we acknowledge; deleted only by retention."""

    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    adapter = models.CharField(max_length=20, choices=Adapter.choices)
    body = models.BinaryField()
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last took it.")
    # Not indexed: every claim and finish would write its entries (two indexes); lookups by token come
    # with the ids (primary key) or read only pending rows (delivery_pending_idx).
    claim_token = models.CharField(max_length=16, blank=True, help_text="Which claim took it.")
    error = models.TextField(blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["received_at"],
                name="delivery_pending_idx",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
            # The failed-deliveries page, its API and the counts on /healthz and in the console's
            # navigation read only failed rows: a handful among millions of processed ones.
            models.Index(
                fields=["received_at"],
                name="delivery_failed_idx",
                condition=Q(status=DeliveryStatus.FAILED),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.adapter}, {self.status})"


class IngestClaimant(models.Model):
    """A live process that claims deliveries (an ingest loop), known by the heartbeat it keeps fresh.

    Its `prefix` starts the claim token of every delivery it claims, so when it stops beating (killed,
    machine gone) another loop can find its claims and requeue them within seconds instead of waiting
    for the lease (see socdesk.alerts.ingest.claimants).
    """

    prefix = models.CharField(max_length=8, unique=True, help_text="Starts the claim tokens it stamps.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True, help_text="Its last heartbeat.")

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"ingest claimant {self.prefix} (pid {self.pid} on {self.host})"


class DedupKey(models.Model):
    """The row that serialises ingest of one de-duplication key and points at its current ticket.

    Batches are written one at a time under the ingest lock (socdesk.alerts.ingest.deliveries), so
    exactly one of two concurrent deliveries of a new key inserts this row, with the ticket it opens,
    and the other sees it (see socdesk.alerts.ingest.plan).
    """

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of source, integration and key.")
    label = models.CharField(max_length=300, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.label or self.key


class Alert(models.Model):
    """One alert (one fingerprint) within one ticket's life: repeats raise its count, not new rows."""

    source = models.CharField(max_length=20, choices=Adapter.choices)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    external_id = models.CharField(max_length=255, blank=True)
    fingerprint = models.CharField(max_length=255)
    dedup_key = models.ForeignKey(DedupKey, on_delete=models.PROTECT, related_name="alerts")
    title = models.CharField(max_length=255)
    rule = models.CharField(
        max_length=255,
        blank=True,
        help_text="The detection rule that fired (empty for alerts stored before it was kept).",
    )
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    occurred_at = models.DateTimeField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrence_count = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    resolved_at = models.DateTimeField(null=True, blank=True)
    source_url = models.CharField(
        max_length=2000,
        blank=True,
        help_text="The alert in the tool that sent it (generatorURL, externalLink, ...); http(s) only.",
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    previous_ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The closed ticket this alert fired on before it came back.",
    )
    delivery = models.ForeignKey(
        WebhookDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    repeat_entry_id = models.BigIntegerField(
        null=True, blank=True, help_text="The thread entry rewritten in place on each repeat."
    )
    observables: models.ManyToManyField[Observable, AlertObservable] = models.ManyToManyField(
        "Observable", through="AlertObservable", related_name="alerts"
    )

    # Not a column: the ingest planner hangs a repeating row's thread line here until the writer saves it.
    _repeat_line: ThreadEntry

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [
            models.Index(fields=["ticket", "fingerprint"], name="alert_ticket_fp_idx"),
            models.Index(fields=["-last_seen", "-id"], name="alert_recent_idx"),
            models.Index(fields=["source", "external_id"], name="alert_external_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class AlertRaw(models.Model):
    """The payload of an alert as the tool sent it; its own table so that alert lists never load it."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, primary_key=True, related_name="raw")
    payload = models.JSONField()

    def __str__(self) -> str:
        return f"raw of alert {self.alert_id}"


class Observable(models.Model):
    """An artefact (IP, domain, hash, ...) stored once per (type, normalised value).

    `ioc` and `sighted` say whether it is flagged so on at least one ticket (kept by the services);
    the per-case judgement lives on TicketObservable.
    """

    type = models.CharField(max_length=10, choices=ObservableType.choices)
    value = models.CharField(max_length=2048)
    value_hash = models.CharField(max_length=64, help_text="SHA-256 of type and value, for the unique index.")
    ioc = models.BooleanField(default=False)
    sighted = models.BooleanField(default=False)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["type", "value"]
        constraints = [models.UniqueConstraint(fields=["value_hash"], name="observable_unique_type_value")]
        indexes = [models.Index(fields=["type", "value"], name="observable_type_value_idx")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class AlertObservable(models.Model):
    """An observable seen in an alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE)
    observable = models.ForeignKey(Observable, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "observable"], name="alert_observable_once"),
        ]

    def __str__(self) -> str:
        return f"{self.observable_id} in alert {self.alert_id}"


class TicketObservable(models.Model):
    """An observable on a ticket, with the analysts' verdict for this case (IOC? sighted here?)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ticket_observables")
    observable = models.ForeignKey(Observable, on_delete=models.CASCADE, related_name="ticket_links")
    ioc = models.BooleanField(default=False)
    sighted = models.BooleanField(default=False)
    origin = models.CharField(max_length=10, default="alert", help_text="alert, message or agent")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["observable__type", "observable__value"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "observable"], name="ticket_observable_once"),
        ]
        indexes = [models.Index(fields=["observable", "ticket"], name="ticket_observable_rev_idx")]

    def __str__(self) -> str:
        return f"{self.observable} on {self.ticket_id}"


class AlertsPerMinute(models.Model):
    """How many alerts ingest processed in one minute (UTC), upserted once per batch by the ingest writer.

    The dashboard's "alerts in the last hour" sums the last 60 rows instead of scanning alerts; rows older
    than a day are pruned by the roll-up fold job (socdesk.reports).
    """

    minute = models.DateTimeField(unique=True)
    alerts = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.alerts} alerts at {self.minute:%Y-%m-%d %H:%M}"
