"""Reading a delivery before any write: its adapter's alerts, their de-dup keys and observables.

Pure CPU and no database writes, so an ingest loop prepares its next batch while another writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterError, AdapterSettings, NormalisedAlert
from socdesk.alerts.ingest.plan import Incoming
from socdesk.alerts.ingest.rows import observable_pairs
from socdesk.alerts.models import Integration, WebhookDelivery


def integration_settings(integration: Integration | None) -> AdapterSettings:
    """The adapter-facing view of an integration (defaults when there is none)."""
    if integration is None:
        return AdapterSettings()
    return AdapterSettings(
        default_severity=integration.default_severity,
        severity_map=integration.severity_map if isinstance(integration.severity_map, dict) else {},
        grouping_key=integration.grouping_key or "",
        field_map=integration.field_map if isinstance(integration.field_map, dict) else {},
        group_by=integration.group_by,
    )


def key_hash(source: str, integration: Integration | None, alert: NormalisedAlert) -> str:
    """The de-dup key of an alert: its adapter's key, scoped to the source and the integration."""
    scope = f"{source}\x1f{integration.pk if integration else '-'}\x1f{alert.dedup_key}"
    return hashlib.sha256(scope.encode("utf-8", "replace")).hexdigest()


@dataclass
class Prepared:
    """A delivery read by its adapter, before any write: its alerts in key order, or why it failed."""

    items: list[Incoming] = field(default_factory=list)
    error: AdapterError | None = None  # the payload cannot be read: the delivery fails
    crash: Exception | None = None  # an unexpected error: the delivery is retried later


def prepare_delivery(delivery: WebhookDelivery) -> Prepared:
    """Run the adapter and find each alert's observables.

    Never raises: whatever goes wrong is kept on the result and settled for this delivery alone when
    the batch is written (failed, or retried later), never for the batch around it.
    """
    try:
        alerts = adapters.normalise(
            delivery.adapter, bytes(delivery.body), integration_settings(delivery.integration)
        )
        # One key order for every delivery, so two deliveries sharing keys never deadlock.
        keyed = sorted(
            ((key_hash(delivery.adapter, delivery.integration, a), a) for a in alerts), key=lambda p: p[0]
        )
        return Prepared(
            items=[
                Incoming(delivery=delivery, alert=alert, key=key, pairs=observable_pairs(alert))
                for key, alert in keyed
            ]
        )
    except AdapterError as exc:
        return Prepared(error=exc)
    except Exception as exc:  # a bug in an adapter or in extraction: kept pending for a retry, then failed
        return Prepared(crash=exc)
